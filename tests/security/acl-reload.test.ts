/**
 * The Redis pod's acl-reload sidecar, for real: a Debian redis-server loaded with the ACL file the
 * shared stack computes, the sidecar's own script (components/redis-values.ts) running beside it.
 * Adding a tenant or rotating one's password applies without a Redis restart and without dropping
 * the other tenants' connections; a broken file is refused and the running users stay.
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import { REDIS_ACL_FILE, REDIS_ACL_SECRET, REDIS_AUTH_SECRET, REDIS_AUTH_SECRET_KEY, aclReloadScript } from "../../components/redis-values";
import { reveal, runProgram } from "../../tools/lib/mock-run";
import { ManagedProcess, requireRealServers, startProcess, stopAll, waitUntil } from "../support/real-servers";
import { RedisServer, redisCli, startRedisServer } from "../support/redis-server";

interface SharedRedis { acl: string; defaultPassword: string; password: (tenant: string) => string }

async function sharedStack(overrides: Record<string, unknown> = {}): Promise<SharedRedis> {
    const run = await runProgram("shared", { preview: false, overrides });
    const secret = (name: string) => reveal(run.ofType("kubernetes:core/v1:Secret").find((s) => s.inputs.metadata.name === name)!.inputs.stringData);
    return {
        acl: secret(REDIS_ACL_SECRET)[REDIS_ACL_FILE],
        defaultPassword: secret(REDIS_AUTH_SECRET)[REDIS_AUTH_SECRET_KEY],
        password: (tenant) => run.outputs[`redisCredential-${tenant}`].password,
    };
}

/** Replaces the file the way the kubelet updates a Secret volume: a new file swapped in at once. */
function publish(file: string, content: string): void {
    const next = path.join(path.dirname(file), `.next-${Date.now()}`);
    fs.writeFileSync(next, content, { mode: 0o600 });
    fs.renameSync(next, file);
}

/** One long-lived client connection, to prove a reload does not drop it. */
async function connect(server: RedisServer, user: string, password: string): Promise<{ send(cmd: string): Promise<string>; close(): void }> {
    const socket = net.createConnection({ host: server.host, port: server.port });
    await new Promise<void>((resolve, reject) => socket.once("connect", resolve).once("error", reject));
    const send = (cmd: string) => new Promise<string>((resolve, reject) => {
        socket.once("data", (d) => resolve(d.toString().trim()));
        socket.once("error", reject);
        socket.once("close", () => reject(new Error(`the connection was closed before '${cmd.split(" ")[0]}' was answered`)));
        socket.write(`${cmd}\r\n`);
    });
    assert.equal(await send(`AUTH ${user} ${password}`), "+OK");
    return { send, close: () => socket.destroy() };
}

const canLogIn = async (server: RedisServer, user: string, password: string) =>
    (await redisCli(server, { user, password }, ["PING"])) === "PONG";

describe("shared Redis: the acl-reload sidecar applies ACL changes without a restart (real redis-server)", function () {
    this.timeout(60000);
    let server: RedisServer;
    let sidecar: ManagedProcess;
    let initial: SharedRedis;

    before(async function () {
        requireRealServers(this, { redis: true });
        initial = await sharedStack({ "stock:tenants": ["client-a", "client-b"] }); // client-c joins below
        server = await startRedisServer({ usersAcl: initial.acl, extraArgs: ["--requirepass", initial.defaultPassword] });
        sidecar = startProcess("acl-reload", "/bin/bash", ["-c", aclReloadScript(server.aclFile, server.port)], {
            env: { PATH: "/usr/bin:/bin", REDIS_PASSWORD: initial.defaultPassword, ACL_RELOAD_INTERVAL: "0.2" },
        });
    });

    after(async () => {
        await stopAll();
        await server?.stop();
    });

    it("adds a tenant live: its user works, Redis keeps running, other tenants keep their connections", async () => {
        const runId = async () => /run_id:(\w+)/.exec(await redisCli(server, { user: "default", password: initial.defaultPassword }, ["INFO", "server"]))![1];
        const idBefore = await runId();
        const clientA = await connect(server, "client-a", initial.password("client-a"));
        assert.equal(await clientA.send("SET client-a:k 1"), "+OK");

        const after = await sharedStack({ "stock:tenants": ["client-a", "client-b", "client-c"] });
        assert.equal(await canLogIn(server, "client-c", after.password("client-c")), false, "client-c does not exist yet");
        publish(server.aclFile, after.acl);
        await waitUntil("client-c can log in", () => canLogIn(server, "client-c", after.password("client-c")), { timeoutMs: 10000 });

        assert.equal(await runId(), idBefore, "the same Redis process: no restart");
        assert.equal(await clientA.send("GET client-a:k"), "$1\r\n1", "client-a's connection survived the reload");
        assert.match(sidecar.log, /acl-reload: applied/);
        clientA.close();
    });

    it("removes a tenant that left the list", async () => {
        const without = await sharedStack({ "stock:tenants": ["client-a", "client-b"] });
        publish(server.aclFile, without.acl);
        await waitUntil("client-c is gone", async () => (await redisCli(server, { user: "default", password: initial.defaultPassword }, ["ACL", "USERS"])).split("\n").join(",") === "client-a,client-b,default", { timeoutMs: 10000 });
        publish(server.aclFile, (await sharedStack({ "stock:tenants": ["client-a", "client-b", "client-c"] })).acl);
        await waitUntil("client-c is back", async () => (await redisCli(server, { user: "default", password: initial.defaultPassword }, ["ACL", "USERS"])).includes("client-c"), { timeoutMs: 10000 });
    });

    it("rotates one tenant's password live and leaves the others alone", async () => {
        const rotated = await sharedStack({ "stock:tenants": ["client-a", "client-b", "client-c"], "stock:redisPasswordGenerations": { "client-b": 1 } });
        publish(server.aclFile, rotated.acl);
        await waitUntil("client-b's new password works", () => canLogIn(server, "client-b", rotated.password("client-b")), { timeoutMs: 10000 });
        assert.equal(await canLogIn(server, "client-b", initial.password("client-b")), false, "the old password is gone");
        assert.equal(await canLogIn(server, "client-a", initial.password("client-a")), true, "client-a is untouched");
    });

    it("reports a line Redis refuses, and keeps every other user working", async () => {
        const good = fs.readFileSync(server.aclFile, "utf8");
        publish(server.aclFile, `${good}user broken on >x ~* +@nonsense-category\n`);
        await waitUntil("the sidecar reports the refusal", () => /Redis refused part of/.test(sidecar.log), { timeoutMs: 10000 });
        assert.equal(await canLogIn(server, "broken", "x"), false);
        assert.equal(await canLogIn(server, "client-c", (await sharedStack({ "stock:tenants": ["client-a", "client-b", "client-c"] })).password("client-c")), true);
        assert.equal(sidecar.hasExited, false, "the sidecar keeps watching");
    });
});
