/**
 * The Redis pod's acl-reload sidecar, for real: a redis-server loaded with the ACL file the shared
 * stack computes, the sidecar's own script (components/redis/acl-reload.sh) running beside it with
 * the environment the program gives it. Adding a tenant or rotating one's password applies without
 * a Redis restart and without dropping the other tenants' connections; a broken file is refused and
 * the running users stay; after a rotation's grace period the rotated user's old sessions are
 * closed, and nobody else's. Runs on every server of REDIS_BUILDS.
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import {
    REDIS_ACL_FILE,
    REDIS_ACL_SECRET,
    REDIS_AUTH_SECRET,
    REDIS_AUTH_SECRET_KEY,
    aclReloadEnv,
    aclReloadScript,
} from "../../components/redis/values";
import { reveal, runProgram } from "../../tools/lib/mock-run";
import { ManagedProcess, requireRealServers, startProcess, stopAll, waitUntil } from "../support/real-servers";
import { REDIS_BUILDS, RedisServer, redisCli, requireRedisBuild, startRedisServer } from "../support/redis-server";
import { RespConnection } from "../support/resp";

interface SharedRedis {
    acl: string;
    defaultPassword: string;
    password: (tenant: string) => string;
}

const ALL = ["client-a", "client-b", "client-c"];

async function sharedStack(overrides: Record<string, unknown> = {}): Promise<SharedRedis> {
    const run = await runProgram("shared", { preview: false, overrides });
    const secret = (name: string) =>
        reveal(run.ofType("kubernetes:core/v1:Secret").find((s) => s.inputs.metadata.name === name)!.inputs.stringData);
    return {
        acl: secret(REDIS_ACL_SECRET)[REDIS_ACL_FILE],
        defaultPassword: secret(REDIS_AUTH_SECRET)[REDIS_AUTH_SECRET_KEY],
        password: (tenant) => reveal(run.outputs[`redisCredential-${tenant}`]).password,
    };
}

/** Replaces the file the way the kubelet updates a Secret volume: a new file swapped in at once. */
function publish(file: string, content: string): void {
    const next = path.join(path.dirname(file), `.next-${Date.now()}`);
    fs.writeFileSync(next, content, { mode: 0o600 });
    fs.renameSync(next, file);
}

/** One long-lived client connection, logged in as `user`. */
async function connect(server: RedisServer, user: string, password: string): Promise<RespConnection> {
    const connection = await RespConnection.connect(server.host, server.port);
    assert.equal(await connection.call("AUTH", user, password), "OK");
    return connection;
}

const canLogIn = async (server: RedisServer, user: string, password: string) =>
    (await redisCli(server, { user, password }, ["PING"])) === "PONG";

/** Whether the server still answers on this connection (false once the server closed it). */
async function alive(c: RespConnection): Promise<boolean> {
    if (c.closed) return false;
    const reply = await c.call("PING").catch(() => undefined);
    // A subscribed RESP2 connection answers PING with ["pong", ""].
    return reply === "PONG" || (Array.isArray(reply) && reply[0] === "pong");
}

/** Lines the sidecar printed so far that match `pattern`. */
const logLines = (sidecar: ManagedProcess, pattern: RegExp) => sidecar.log.split("\n").filter((l) => pattern.test(l));

for (const build of REDIS_BUILDS) {
    describe(`shared Redis: the acl-reload sidecar applies ACL changes without a restart (${build.name})`, function () {
        this.timeout(60000);
        const REVOKE_GRACE_SECONDS = 3;
        let server: RedisServer;
        let sidecar: ManagedProcess;
        let initial: SharedRedis;
        const asDefault = () => ({ user: "default", password: initial.defaultPassword });

        before(async function () {
            requireRealServers(this, { modules: [], redis: true });
            requireRedisBuild(this, build);
            initial = await sharedStack({ "stock:tenants": ["client-a", "client-b"] }); // client-c joins below
            server = await startRedisServer({ usersAcl: initial.acl, extraArgs: ["--requirepass", initial.defaultPassword], build });
            // The environment the program gives the sidecar, pointed at this server; faster looks.
            const env = {
                ...aclReloadEnv({ revokeGraceSeconds: REVOKE_GRACE_SECONDS }, server.aclFile, server.port),
                ACL_RELOAD_INTERVAL: "0.2",
            };
            sidecar = startProcess("acl-reload", "/bin/bash", ["-c", aclReloadScript()], {
                env: { PATH: `${path.dirname(server.cli)}:/usr/bin:/bin`, REDIS_PASSWORD: initial.defaultPassword, ...env },
            });
        });

        after(async () => {
            await stopAll();
            await server?.stop();
        });

        it("adds a tenant live: its user works, Redis keeps running, other tenants keep their connections", async () => {
            const runId = async () => /run_id:(\w+)/.exec(await redisCli(server, asDefault(), ["INFO", "server"]))![1];
            const idBefore = await runId();
            const clientA = await connect(server, "client-a", initial.password("client-a"));
            assert.equal(await clientA.call("SET", "client-a:k", "1"), "OK");

            const after = await sharedStack({ "stock:tenants": ALL });
            assert.equal(await canLogIn(server, "client-c", after.password("client-c")), false, "client-c does not exist yet");
            publish(server.aclFile, after.acl);
            // The sidecar logs once the whole file is applied (users added and removed).
            await waitUntil("the sidecar to log the change applied", () => logLines(sidecar, /^acl-reload: applied/).length === 1, {
                timeoutMs: 10000,
                process: sidecar,
            });
            assert.equal(await canLogIn(server, "client-c", after.password("client-c")), true, "client-c can log in");

            assert.equal(await runId(), idBefore, "the same Redis process: no restart");
            assert.equal(await clientA.call("GET", "client-a:k"), "1", "client-a's connection survived the reload");
            clientA.close();
        });

        it("removes a tenant that left the list", async () => {
            const users = async () => (await redisCli(server, asDefault(), ["ACL", "USERS"])).split("\n").join(",");
            publish(server.aclFile, (await sharedStack({ "stock:tenants": ["client-a", "client-b"] })).acl);
            await waitUntil("client-c is gone", async () => (await users()) === "client-a,client-b,default", {
                timeoutMs: 10000,
                process: sidecar,
            });
            publish(server.aclFile, (await sharedStack({ "stock:tenants": ALL })).acl);
            await waitUntil("client-c is back", async () => (await users()).includes("client-c"), { timeoutMs: 10000, process: sidecar });
        });

        it("rotates one tenant's password live, then closes its old sessions after the grace period, and nobody else's", async () => {
            const oldA = await connect(server, "client-a", initial.password("client-a"));
            const subscribedA = await connect(server, "client-a", initial.password("client-a"));
            assert.deepEqual(await subscribedA.call("SUBSCRIBE", "client-a:/0.celery.pidbox"), [
                "subscribe",
                "client-a:/0.celery.pidbox",
                1,
            ]);
            const liveB = await Promise.all([
                connect(server, "client-b", initial.password("client-b")),
                connect(server, "client-b", initial.password("client-b")),
            ]);

            const rotated = await sharedStack({ "stock:tenants": ALL, "stock:redisPasswordGenerations": { "client-a": 1 } });
            publish(server.aclFile, rotated.acl);
            await waitUntil(
                "the sidecar to report client-a's password change",
                () => logLines(sidecar, /password changed for client-a at \d+/).length === 1,
                { timeoutMs: 10000, process: sidecar },
            );
            const changedAt = Number(/password changed for client-a at (\d+)/.exec(sidecar.log)![1]);
            assert.equal(await canLogIn(server, "client-a", rotated.password("client-a")), true, "the new password works");
            assert.equal(await canLogIn(server, "client-a", initial.password("client-a")), false, "the old password is refused");
            assert.equal(await alive(oldA), true, "the old session lives on during the grace period");

            // A pod that already has the new password connects after the change (the server's clock
            // past the change's second, which the sidecar treats as before it): it must stay.
            await waitUntil(
                "the server clock to pass the change",
                async () => Number((await redisCli(server, asDefault(), ["TIME"])).split("\n")[0]) > changedAt + 1,
                { timeoutMs: 5000 },
            );
            const newA = await connect(server, "client-a", rotated.password("client-a"));

            // The sidecar logs once it has closed every old session of the user.
            await waitUntil(
                "the sidecar to report client-a's old sessions closed",
                () => logLines(sidecar, /^acl-reload: closed \d+ connection\(s\) of client-a /).length === 1,
                {
                    timeoutMs: (REVOKE_GRACE_SECONDS + 5) * 1000,
                    process: sidecar,
                },
            );
            assert.ok(Date.now() / 1000 >= changedAt + REVOKE_GRACE_SECONDS, "not before the grace period");
            assert.match(sidecar.log, /closed 2 connection\(s\) of client-a opened before its password changed/);
            assert.equal(await alive(oldA), false, "client-a's old session is closed");
            assert.equal(await alive(subscribedA), false, "client-a's old subscribed session is closed");
            assert.equal(await alive(newA), true, "client-a's session on the new password stays");
            for (const b of liveB) assert.equal(await alive(b), true, "client-b's sessions stay");
            assert.equal(await canLogIn(server, "client-c", rotated.password("client-c")), true, "client-c is untouched");
            for (const c of [newA, ...liveB]) c.close();
        });

        it("reports a line Redis refuses, and keeps every other user working", async () => {
            const good = fs.readFileSync(server.aclFile, "utf8");
            publish(server.aclFile, `${good}user broken on >x ~* +@nonsense-category\n`);
            await waitUntil("the sidecar reports the refusal", () => /Redis refused part of/.test(sidecar.log), {
                timeoutMs: 10000,
                process: sidecar,
            });
            assert.equal(await canLogIn(server, "broken", "x"), false);
            const rotated = await sharedStack({ "stock:tenants": ALL, "stock:redisPasswordGenerations": { "client-a": 1 } });
            assert.equal(await canLogIn(server, "client-c", rotated.password("client-c")), true);
            assert.equal(sidecar.hasExited, false, "the sidecar keeps watching");
        });
    });
}
