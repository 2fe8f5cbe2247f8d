/**
 * Proof with real servers that tenants sharing one Redis are isolated.
 *
 * Every redis-server of REDIS_BUILDS (Debian 12's 7.0.15 and Redis 8 from
 * Debian's source, .ci/build-redis8) is started on a free loopback port with exactly the
 * users.acl the shared stack deploys (the `redis-acl` Secret of
 * `runProgram("shared")`, i.e. components/redis/values.ts redisAclFile()) and
 * `--requirepass <redis-auth Secret>` as the Bitnami chart starts it. Each
 * tenant logs in with the credential the shared stack exports to its tenant
 * stack (`redisCredential-<tenant>`); real Celery workers (Debian
 * python3-celery) run per tenant with the kombu options from
 * kombuTransportOptions().
 *
 * The probes in (b) run the commands for real; that every command of the
 * server is refused on other tenants is tests/security/redis-command-table.test.ts.
 *
 * Needs: redis-server redis-tools python3-celery python3-kombu python3-redis.
 * Without them the real-server suite fails, unless STOCK_SKIP_REAL_SERVERS=1
 * (then it is skipped with a message; tests/support/real-servers.ts). Every
 * password here is derived from the fake seed the mock runner
 * (tools/lib/mock-run.ts) fills in (FAKE-SECRET-redisPasswordSeed-shared).
 */
import { strict as assert } from "node:assert";
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

import { kombuTransportOptions, tenantRedisAccess, TENANT_REDIS_DB } from "../../components/redis/acl";
import { SharedStackRedis, sharedRedisServerOptions, sharedStackRedis } from "../support/shared-stack";
import { ManagedProcess, PYTHON, requireRealServers, startProcess, stopAll, waitUntil } from "../support/real-servers";
import { REDIS_BUILDS, redisCli, RedisServer, requireRedisBuild, startRedisServer } from "../support/redis-server";

const TENANTS = ["client-a", "client-b", "client-c"]; // the shared stack's stock:tenants (checked below)
const QUEUES = "price,news"; // the SAME queue names for both tenants
const TASKS_PER_TENANT = 6;
const TASK_MODULE_DIR = __dirname;

/** The shared stack as configured in the repo, computed once for the whole file. */
let sharedOnce: Promise<SharedStackRedis> | undefined;
const sharedStack = (): Promise<SharedStackRedis> => (sharedOnce ??= sharedStackRedis());

interface TaskReport {
    sent_by: string;
    seq: number;
    worker_tenant: string;
    hostname: string;
    queue: string;
}

function brokerUrl(server: RedisServer, user: string, password: string): string {
    return `redis://${encodeURIComponent(user)}:${encodeURIComponent(password)}@${server.host}:${server.port}/${TENANT_REDIS_DB}`;
}

function pythonEnv(tenant: string, url: string, transportOptions: Record<string, string>): NodeJS.ProcessEnv {
    return {
        PATH: "/usr/bin:/bin",
        HOME: os.tmpdir(),
        LANG: "C.UTF-8",
        PYTHONPATH: TASK_MODULE_DIR,
        PYTHONDONTWRITEBYTECODE: "1",
        STOCK_TENANT: tenant,
        STOCK_BROKER_URL: url,
        STOCK_TRANSPORT_OPTIONS: JSON.stringify(transportOptions),
    };
}

/** Run the task module as a client (send/ping/restore) and parse its JSON. */
function runClient<T>(env: NodeJS.ProcessEnv, args: string[], timeoutMs = 15_000): Promise<T> {
    return new Promise((resolve, reject) => {
        execFile(
            PYTHON,
            [path.join(TASK_MODULE_DIR, "celery_tenant_tasks.py"), ...args],
            { env, cwd: TASK_MODULE_DIR, timeout: timeoutMs, encoding: "utf8", maxBuffer: 4 << 20 },
            (err, stdout, stderr) => {
                if (err) {
                    reject(new Error(`celery_tenant_tasks.py ${args.join(" ")} failed (${err.message}):\n${stdout}\n${stderr}`));
                    return;
                }
                try {
                    resolve(JSON.parse(stdout.trim().split("\n").pop() ?? "") as T);
                } catch {
                    reject(new Error(`unexpected output from celery_tenant_tasks.py ${args.join(" ")}:\n${stdout}\n${stderr}`));
                }
            },
        );
    });
}

interface Worker {
    tenant: string;
    hostname: string;
    proc: ManagedProcess;
}

/** Stop a worker (SIGTERM to its process group, SIGKILL after 3 s). */
const stopWorker = (w: Worker): Promise<void> => w.proc.stop(3000);

/** Start a Celery worker and wait (bounded) until it logs "ready". */
async function startWorker(tenant: string, env: NodeJS.ProcessEnv, extraArgs: string[] = [], readyTimeoutMs = 20_000): Promise<Worker> {
    const hostname = `w-${tenant}@stocktest`;
    const proc = startProcess(
        `worker for ${tenant}`,
        PYTHON,
        ["-m", "celery", "-A", "celery_tenant_tasks", "worker", "--pool", "solo", "-Q", QUEUES, "-n", hostname, "-l", "INFO", ...extraArgs],
        { env, cwd: TASK_MODULE_DIR },
    );
    try {
        await waitUntil(`${hostname} to be ready`, () => proc.log.includes(`${hostname} ready.`), {
            process: proc,
            timeoutMs: readyTimeoutMs,
            intervalMs: 50,
        });
    } catch (e) {
        await proc.stop(3000);
        throw e;
    }
    return { tenant, hostname, proc };
}

function lines(text: string): string[] {
    return text
        .split("\n")
        .map((l) => l.trim())
        .filter((l) => l.length > 0);
}

describe("shared Redis: the ACL file the shared stack deploys", function () {
    let shared: SharedStackRedis;

    before(async function () {
        this.timeout(20_000);
        shared = await sharedStack();
    });

    it("holds `default` and one user per tenant of stock:tenants, each of which gets a credential output", function () {
        assert.deepEqual(shared.tenants, TENANTS);
        const users = lines(shared.usersAcl).map((l) => l.split(/\s+/)[1]);
        assert.deepEqual(users, ["default", ...TENANTS]);
        for (const t of TENANTS) {
            assert.deepEqual(Object.keys(shared.credentials[t]).sort(), ["keyPrefix", "password", "username"]);
            assert.equal(shared.credentials[t].username, t);
            assert.equal(shared.credentials[t].keyPrefix, tenantRedisAccess(t).keyPrefix);
        }
    });

    it("has no passwordless user: no `nopass`, and every user line sets a `>` or `#<sha256>` password", function () {
        assert.ok(!/(^|\s)nopass(\s|$)/m.test(shared.usersAcl), "nopass in the ACL file");
        for (const line of lines(shared.usersAcl)) {
            const [keyword, user, ...rules] = line.split(/\s+/);
            assert.equal(keyword, "user", `not a user line: ${keyword} ...`);
            // Only the passwords after the last reset/resetpass count.
            const lastReset = Math.max(rules.lastIndexOf("reset"), rules.lastIndexOf("resetpass"));
            const passwords = rules.slice(lastReset + 1).filter((w) => /^>\S+$/.test(w) || /^#[0-9a-f]{64}$/.test(w));
            assert.ok(passwords.length > 0, `user ${user} has no password`);
            assert.ok(rules.includes("on"), `user ${user} is not enabled`);
        }
    });
});

for (const build of REDIS_BUILDS) {
    describe(`shared Redis: tenant isolation with real redis-server and Celery workers (${build.name})`, function () {
        this.timeout(30_000);
        let server: RedisServer | undefined;
        let shared: SharedStackRedis | undefined;

        before(async function () {
            this.timeout(20_000);
            requireRealServers(this, { modules: ["celery", "kombu", "redis"], redis: true });
            requireRedisBuild(this, build);
            shared = await sharedStack();
            assert.deepEqual(shared.tenants, TENANTS);
            // As the Bitnami chart starts it: --requirepass from the redis-auth Secret, plus our --aclfile.
            server = await startRedisServer(sharedRedisServerOptions(shared, { build }));
        });

        after(async function () {
            this.timeout(20_000);
            await stopAll();
            await server?.stop();
        });

        const srv = (): RedisServer => {
            assert.ok(server, "redis-server was not started");
            return server;
        };
        const stack = (): SharedStackRedis => {
            assert.ok(shared, "the shared stack was not computed");
            return shared;
        };
        /** The credential the shared stack exports to tenant t's stack. */
        const password = (t: string): string => stack().credentials[t].password;
        const asTenant = (t: string) => ({ user: stack().credentials[t].username, password: password(t) });
        const asDefault = () => ({ user: "default", password: stack().defaultPassword });
        /** Environment of tenant t's Celery: its own credential and (by default) kombuTransportOptions(t). */
        const tenantEnv = (t: string, transportOptions = kombuTransportOptions(t)): NodeJS.ProcessEnv =>
            pythonEnv(t, brokerUrl(srv(), asTenant(t).user, password(t)), transportOptions);

        describe("(a) Celery: each tenant's tasks run only on its own worker, both on queues " + QUEUES, function () {
            const workers = new Map<string, Worker>();

            before(async function () {
                this.timeout(25_000);
                // Workers run with Celery's defaults (mingle and gossip on): the ACL rule must allow them.
                assert.equal(await redisCli(srv(), asDefault(), ["ACL", "LOG", "RESET"]), "OK");
                const started = await Promise.all(TENANTS.map((t) => startWorker(t, tenantEnv(t))));
                for (const w of started) workers.set(w.tenant, w);
            });

            after(async function () {
                this.timeout(15_000);
                await Promise.all([...workers.values()].map(stopWorker));
            });

            it(`runs ${TASKS_PER_TENANT} tasks per tenant with no crossover, all finished`, async function () {
                const results = await Promise.all(
                    TENANTS.map((t) => runClient<TaskReport[]>(tenantEnv(t), ["send", String(TASKS_PER_TENANT), QUEUES, "10"])),
                );
                TENANTS.forEach((tenant, i) => {
                    const reports = results[i];
                    assert.equal(reports.length, TASKS_PER_TENANT, `${tenant}: not all tasks finished`);
                    for (const r of reports) {
                        assert.equal(r.sent_by, tenant);
                        assert.equal(r.worker_tenant, tenant, `${tenant}'s task ${r.seq} ran on ${r.worker_tenant}'s worker`);
                        assert.equal(r.hostname, workers.get(tenant)!.hostname);
                    }
                    assert.deepEqual([...new Set(reports.map((r) => r.queue))].sort(), QUEUES.split(",").sort());
                });
            });

            it("celery control (pidbox) reaches only the tenant's own worker", async function () {
                const replies = await Promise.all(TENANTS.map((t) => runClient<string[]>(tenantEnv(t), ["ping", "1.0"])));
                TENANTS.forEach((t, i) => assert.deepEqual(replies[i], [workers.get(t)!.hostname]));
            });

            it("kombu's unacked-message restore works under the ACL with kombuTransportOptions()", async function () {
                const t = "client-a";
                const report = await runClient<Record<string, unknown>>(tenantEnv(t), ["restore", "restore-check"]);
                assert.deepEqual(report, { restore_visible: "ok", restore_unacked: "ok", queue_len_after: 3 });
            });

            it("the legitimate Celery traffic caused no ACL denial and wrote only under the tenant prefixes", async function () {
                assert.equal(await redisCli(srv(), asDefault(), ["ACL", "LOG"]), "", "unexpected ACL denials");
                const keys = lines(await redisCli(srv(), asDefault(), ["--scan"]));
                assert.ok(keys.length > 0, "expected Celery keys in Redis");
                for (const key of keys) {
                    assert.ok(
                        TENANTS.some((t) => key.startsWith(tenantRedisAccess(t).keyPrefix)),
                        `key ${JSON.stringify(key)} is outside every tenant prefix`,
                    );
                }
                for (const t of TENANTS) {
                    assert.ok(keys.includes(`${t}:_kombu.binding.price`), `${t} has its own price queue binding`);
                }
            });

            it("without the prefixed unacked_* options kombu 5.2 cannot restore messages (NOPERM), so they are required", async function () {
                const t = "client-a";
                const { global_keyprefix } = kombuTransportOptions(t);
                const report = await runClient<Record<string, unknown>>(tenantEnv(t, { global_keyprefix }), [
                    "restore",
                    "restore-check-bare",
                ]);
                assert.match(String(report.restore_unacked), /NoPermissionError/);
                assert.equal(report.queue_len_after, 1, "two messages stay stranded in the unacked hash");
            });
        });

        describe("(b) a tenant's credential is refused on another tenant's keys and channels and on dangerous commands", function () {
            before(async function () {
                for (const t of TENANTS) {
                    assert.equal(await redisCli(srv(), asTenant(t), ["SET", `${t}:private`, `${t}-data`]), "OK");
                }
            });

            for (const [me, other] of [
                ["client-b", "client-a"],
                ["client-a", "client-b"],
            ]) {
                const denied: Array<[string, string[], RegExp]> = [
                    ["read another tenant's key", ["GET", `${other}:private`], /^NOPERM .*\bkeys?\b/],
                    ["write another tenant's key", ["SET", `${other}:private`, "overwritten"], /^NOPERM .*\bkeys?\b/],
                    ["delete another tenant's key", ["DEL", `${other}:private`], /^NOPERM .*\bkeys?\b/],
                    ["copy another tenant's key into its own", ["COPY", `${other}:private`, `${me}:stolen`], /^NOPERM .*\bkeys?\b/],
                    ["inject a task into another tenant's queue", ["LPUSH", `${other}:price`, "{}"], /^NOPERM .*\bkeys?\b/],
                    ["consume another tenant's queue", ["BRPOP", `${other}:price`, "1"], /^NOPERM .*\bkeys?\b/],
                    ["use the seed's unprefixed queue", ["LPUSH", "price", "{}"], /^NOPERM .*\bkeys?\b/],
                    ["KEYS *", ["KEYS", "*"], /^NOPERM .*'keys' command/],
                    ["KEYS on another prefix", ["KEYS", `${other}:*`], /^NOPERM .*'keys' command/],
                    ["SCAN", ["SCAN", "0"], /^NOPERM .*'scan' command/],
                    ["SCAN MATCH another prefix", ["SCAN", "0", "MATCH", `${other}:*`], /^NOPERM .*'scan' command/],
                    ["RANDOMKEY", ["RANDOMKEY"], /^NOPERM .*'randomkey' command/],
                    ["DBSIZE", ["DBSIZE"], /^NOPERM .*'dbsize' command/],
                    ["PUBLISH to another tenant's pidbox", ["PUBLISH", `${other}:/0.celery.pidbox`, "{}"], /^NOPERM .*\bchannels?\b/],
                    [
                        "PUBLISH to another tenant's result channel",
                        ["PUBLISH", `${other}:celery-task-meta-x`, "{}"],
                        /^NOPERM .*\bchannels?\b/,
                    ],
                    ["SUBSCRIBE to another tenant's channel", ["SUBSCRIBE", `${other}:celery-task-meta-x`], /^NOPERM .*\bchannels?\b/],
                    ["PSUBSCRIBE another tenant's pattern", ["PSUBSCRIBE", `${other}:*`], /^NOPERM .*\bchannels?\b/],
                    ["PSUBSCRIBE *", ["PSUBSCRIBE", "*"], /^NOPERM .*\bchannels?\b/],
                    ["PUBSUB CHANNELS", ["PUBSUB", "CHANNELS"], /^NOPERM .*'pubsub\|channels' command/],
                    ["FLUSHALL", ["FLUSHALL"], /^NOPERM .*'flushall' command/],
                    ["FLUSHDB", ["FLUSHDB"], /^NOPERM .*'flushdb' command/],
                    ["SWAPDB", ["SWAPDB", "0", "1"], /^NOPERM .*'swapdb' command/],
                    ["CONFIG GET", ["CONFIG", "GET", "*"], /^NOPERM .*'config\|get' command/],
                    ["CONFIG SET", ["CONFIG", "SET", "maxmemory", "1"], /^NOPERM .*'config\|set' command/],
                    ["ACL LIST", ["ACL", "LIST"], /^NOPERM .*'acl\|list' command/],
                    ["ACL SETUSER (self-escalation)", ["ACL", "SETUSER", me, "~*", "&*"], /^NOPERM .*'acl\|setuser' command/],
                    ["INFO", ["INFO"], /^NOPERM .*'info' command/],
                    ["CLIENT LIST", ["CLIENT", "LIST"], /^NOPERM .*'client\|list' command/],
                    ["CLIENT KILL", ["CLIENT", "KILL", "USER", other], /^NOPERM .*'client\|kill' command/],
                    ["MONITOR", ["MONITOR"], /^NOPERM .*'monitor' command/],
                    ["SCRIPT FLUSH", ["SCRIPT", "FLUSH"], /^NOPERM .*'script\|flush' command/],
                    ["FUNCTION FLUSH", ["FUNCTION", "FLUSH"], /^NOPERM .*'function\|flush' command/],
                    ["MEMORY STATS", ["MEMORY", "STATS"], /^NOPERM .*'memory\|stats' command/],
                    ["SHUTDOWN", ["SHUTDOWN", "NOSAVE"], /^NOPERM .*'shutdown' command/],
                    [
                        "CLIENT TRACKING (BCAST leaks every key name)",
                        ["CLIENT", "TRACKING", "on", "BCAST"],
                        /^NOPERM .*'client\|tracking' command/,
                    ],
                    [
                        "XACKDEL and every stream command (CVE-2025-62507)",
                        ["XADD", `${me}:stream`, "*", "f", "v"],
                        /^NOPERM .*'xadd' command/,
                    ],
                ];

                it(`${me} is refused on ${other}: ${denied.length} commands all answer NOPERM`, async function () {
                    const answers = await Promise.all(denied.map(([, args]) => redisCli(srv(), asTenant(me), args)));
                    const failures = denied
                        .map(([what, args, expected], i) => ({ what, args, expected, answer: answers[i] }))
                        .filter((x) => !x.expected.test(x.answer))
                        .map((x) => `${x.what} (${x.args.join(" ")}): expected ${x.expected}, got ${JSON.stringify(x.answer)}`);
                    assert.deepEqual(failures, []);
                });

                it(`${me} can still use its own prefix (the refusals are not an auth failure)`, async function () {
                    assert.equal(await redisCli(srv(), asTenant(me), ["ACL", "WHOAMI"]), me);
                    assert.equal(await redisCli(srv(), asTenant(me), ["SET", `${me}:scratch`, "1"]), "OK");
                    assert.equal(await redisCli(srv(), asTenant(me), ["GET", `${me}:private`]), `${me}-data`);
                    assert.equal(await redisCli(srv(), asTenant(me), ["PUBLISH", `${me}:/0.celery.pidbox`, "{}"]), "0");
                });
            }

            it("the other tenant's data is untouched", async function () {
                for (const t of TENANTS) {
                    assert.equal(await redisCli(srv(), asDefault(), ["GET", `${t}:private`]), `${t}-data`);
                }
                assert.equal(await redisCli(srv(), asDefault(), ["EXISTS", "client-a:stolen", "client-b:stolen"]), "0");
            });
        });

        describe("(c) the chart's `default` user is not usable by tenants", function () {
            it("no AUTH at all is refused (NOAUTH)", async function () {
                assert.match(await redisCli(srv(), null, ["PING"]), /^NOAUTH/);
                assert.match(await redisCli(srv(), null, ["GET", "client-a:private"]), /^NOAUTH/);
            });

            for (const t of TENANTS) {
                it(`${t}'s password does not open the default user`, async function () {
                    const pw = password(t);
                    assert.match(await redisCli(srv(), null, ["AUTH", "default", pw]), /^WRONGPASS/);
                    assert.match(await redisCli(srv(), null, ["AUTH", pw]), /^WRONGPASS/); // one-arg AUTH = default
                    assert.match(await redisCli(srv(), null, ["HELLO", "3", "AUTH", "default", pw]), /^WRONGPASS/);
                    const viaFlag = await redisCli(srv(), { user: "default", password: pw }, ["GET", "client-a:private"]);
                    assert.match(viaFlag, /WRONGPASS/);
                    assert.match(viaFlag, /NOAUTH/);
                });
            }

            it("a tenant cannot log in with the other tenant's password", async function () {
                assert.match(await redisCli(srv(), null, ["AUTH", "client-a", password("client-b")]), /^WRONGPASS/);
                assert.match(await redisCli(srv(), null, ["AUTH", "client-b", password("client-a")]), /^WRONGPASS/);
            });

            it("no user accepts an arbitrary password (nothing is passwordless), and tenants cannot use the default password", async function () {
                for (const user of ["default", ...TENANTS]) {
                    assert.match(await redisCli(srv(), null, ["AUTH", user, "fake-anything-at-all"]), /^WRONGPASS/, user);
                }
                for (const t of TENANTS) {
                    assert.match(await redisCli(srv(), null, ["AUTH", t, stack().defaultPassword]), /^WRONGPASS/, t);
                }
            });

            it("the default user itself works with the redis-auth Secret's password, i.e. --requirepass and the ACL file agree (control)", async function () {
                // With --aclfile the file's `user default` line wins over --requirepass; the chart's probes use the Secret.
                assert.equal(await redisCli(srv(), asDefault(), ["PING"]), "PONG");
                assert.equal(await redisCli(srv(), asDefault(), ["ACL", "WHOAMI"]), "default");
            });
        });

        describe("rotating client-a's password (stock:redisPasswordGenerations.client-a = 1, see SECURITY.md)", function () {
            let rotated: SharedStackRedis;
            const whoami = (user: string, pw: string) => redisCli(srv(), { user, password: pw }, ["ACL", "WHOAMI"]);

            /** Load the (new) ACL file; how it reaches a running Redis live is tests/security/acl-reload.test.ts. */
            async function loadUsersAcl(usersAcl: string): Promise<void> {
                fs.writeFileSync(srv().aclFile, usersAcl, { mode: 0o600 });
                assert.equal(await redisCli(srv(), asDefault(), ["ACL", "LOAD"]), "OK");
            }

            before(async function () {
                this.timeout(20_000);
                rotated = await sharedStackRedis({ overrides: { "stock:redisPasswordGenerations": { "client-a": 1 } } });
            });

            after(async function () {
                await loadUsersAcl(stack().usersAcl); // leave the server as the other tests expect
            });

            it("changes only client-a's password, in the ACL file and in its credential output", function () {
                assert.notEqual(rotated.credentials["client-a"].password, password("client-a"));
                assert.equal(rotated.credentials["client-b"].password, password("client-b"));
                assert.equal(rotated.defaultPassword, stack().defaultPassword);
                assert.notEqual(rotated.usersAcl, stack().usersAcl);
            });

            it("with the new ACL file only the new password works; re-adding the old one by hand bridges until client-a's pods roll", async function () {
                const [oldPw, newPw] = [password("client-a"), rotated.credentials["client-a"].password];
                await loadUsersAcl(rotated.usersAcl);
                assert.equal(await whoami("client-a", newPw), "client-a");
                assert.match(await whoami("client-a", oldPw), /WRONGPASS/);
                assert.equal(await whoami("client-b", password("client-b")), "client-b");

                // The overlap: a Redis ACL user may hold two passwords; the rule stays the same for both.
                assert.equal(await redisCli(srv(), asDefault(), ["ACL", "SETUSER", "client-a", `>${oldPw}`]), "OK");
                assert.equal(await whoami("client-a", oldPw), "client-a");
                assert.equal(await whoami("client-a", newPw), "client-a");
                assert.match(await redisCli(srv(), { user: "client-a", password: oldPw }, ["GET", "client-b:private"]), /^NOPERM/);

                // After `pulumi up -s client-a`: drop the old password again.
                assert.equal(await redisCli(srv(), asDefault(), ["ACL", "SETUSER", "client-a", `<${oldPw}`]), "OK");
                assert.match(await whoami("client-a", oldPw), /WRONGPASS/);
                assert.equal(await whoami("client-a", newPw), "client-a");
            });
        });

        describe("control: the seed's setup (everyone is `default`, no prefix) does mix tenants", function () {
            const workers: Worker[] = [];

            after(async function () {
                this.timeout(15_000);
                await Promise.all(workers.map(stopWorker));
            });

            it("detects crossover when both tenants share user, db and queue names", async function () {
                this.timeout(25_000);
                const url = brokerUrl(srv(), "default", stack().defaultPassword);
                // mingle/gossip are irrelevant here and mingle costs a second
                const quick = ["--without-mingle", "--without-gossip"];
                workers.push(...(await Promise.all(TENANTS.map((t) => startWorker(t, pythonEnv(t, url, {}), quick)))));
                const results = await Promise.all(
                    TENANTS.map((t) => runClient<TaskReport[]>(pythonEnv(t, url, {}), ["send", String(TASKS_PER_TENANT), QUEUES, "10"])),
                );
                const crossed = results.flat().filter((r) => r.worker_tenant !== r.sent_by);
                assert.ok(crossed.length > 0, "expected the unprotected setup to let one tenant's worker run the other's tasks");
            });
        });
    });
}
