/**
 * Celery smoke test for real: Debian's redis-server on a free loopback port with the ACL users the
 * shared stack computes (components/redis/acl.ts aclFileLines: the tenant may only touch keys and
 * channels under its prefix), a real worker (`celery -A fin.celery worker -Q ... --pool solo`) and
 * gunicorn, both with the env the program computes for client-a (DEPLOY_TYPE=test on top).
 */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { aclFileLines, kombuTransportOptions, tenantRedisAccess } from "../../components/redis/acl";
import {
    ManagedProcess, PYTHON, REDIS_CLI, REDIS_SERVER, freePort, httpRequest, requireRealServers, runToCompletion, startProcess, waitForFile,
    waitForHttp, waitForPort, waitUntil,
} from "../support/real-servers";
import { BACKEND_DIR, TenantEnv, processEnv, removeDir, tempDir, tenantEnv } from "./harness";

const QUEUES = ["summary", "stock", "statement", "price", "news"];
const FAKE_TENANT_PASSWORD = "FAKE-SECRET-redis-tenant-password";
const FAKE_DEFAULT_PASSWORD = "FAKE-SECRET-redis-default-password";

interface ClientReport {
    broker_transport_options: Record<string, string>;
    result_backend_transport_options: Record<string, string>;
    task_keyprefix: string;
    results: Record<string, { queue: string; delivered_via: string; tenant: string; prefix: string }>;
    restore_by_tag: string;
}

describe("app/backend: Celery worker on a shared Redis with tenant ACLs (real servers)", function () {
    this.timeout(60_000);
    let started = 0;
    let dir: string | undefined;
    let t: TenantEnv;
    let prefix: string;
    let tenantHost: string;
    let redisPort: number;
    let redis: ManagedProcess | undefined;
    let worker: ManagedProcess | undefined;
    let api: ManagedProcess | undefined;
    let env: NodeJS.ProcessEnv;
    let heartbeat: string;
    let base = "";

    const redisAdmin = (...args: string[]) =>
        runToCompletion(REDIS_CLI, ["-h", "127.0.0.1", "-p", String(redisPort), "--user", "default", "--pass", FAKE_DEFAULT_PASSWORD, "--no-auth-warning", ...args], { env: { PATH: "/usr/bin:/bin" }, timeoutMs: 10_000 });

    before(async function () {
        started = Date.now();
        requireRealServers(this, { redis: true });
        dir = tempDir("celery");
        redisPort = await freePort();
        const access = tenantRedisAccess("client-a");
        t = tenantEnv({ host: "127.0.0.1", port: redisPort, username: access.username, password: FAKE_TENANT_PASSWORD, keyPrefix: access.keyPrefix });
        prefix = t.env.config.DJANGO_REDIS_KEY_PREFIX;
        tenantHost = t.env.config.DJANGO_ALLOWED_HOSTS.split(",")[0];

        const conf = path.join(dir, "redis.conf");
        fs.writeFileSync(conf, [
            `port ${redisPort}`, "bind 127.0.0.1", "protected-mode yes", `dir ${dir}`,
            'save ""', "appendonly no", 'logfile ""',
            ...aclFileLines([t.tenant.tenant], { [t.tenant.tenant]: FAKE_TENANT_PASSWORD }, FAKE_DEFAULT_PASSWORD),
        ].join("\n") + "\n", { mode: 0o600 });
        redis = startProcess("redis-server", REDIS_SERVER, [conf], { cwd: dir, env: { PATH: "/usr/bin:/bin" } });
        await waitForPort(redisPort, { process: redis });

        heartbeat = path.join(dir, "celery", "worker_heartbeat");
        env = processEnv(t.env, {
            DEPLOY_TYPE: "test",
            DJANGO_SQLITE_PATH: path.join(dir, "stock.sqlite3"),
            DJANGO_STATIC_ROOT: path.join(dir, "static"),
            CELERY_HEARTBEAT_FILE: heartbeat,
        }, dir);
        const port = await freePort();
        base = `http://127.0.0.1:${port}`;
        worker = startProcess("celery worker", PYTHON,
            ["-m", "celery", "-A", "fin.celery", "worker", "-Q", QUEUES.join(","), "--pool", "solo", "-l", "INFO", "-n", `${t.tenant.tenant}@%h`],
            { cwd: BACKEND_DIR, env });
        api = startProcess("gunicorn", PYTHON, ["-m", "gunicorn", "fin.wsgi", "--bind", `127.0.0.1:${port}`, "--workers", "1", "--graceful-timeout", "2"],
            { cwd: BACKEND_DIR, env });
        await Promise.all([
            waitForHttp(`${base}/healthz`, { process: api, status: 200 }),
            waitUntil("the worker to be ready", () => / ready\.\s*$/m.test(worker!.log), { process: worker, timeoutMs: 20_000 }),
        ]);
    });

    after(async function () {
        await Promise.all([worker?.stop(), api?.stop()]);
        await redis?.stop();
        removeDir(dir);
        console.log(`      (celery suite: ${((Date.now() - started) / 1000).toFixed(1)} s)`);
    });

    it("connects as the tenant's own Redis user (<user>:<password>@<host> + DJANGO_REDIS_PORT)", function () {
        assert.strictEqual(t.env.secret.DJANGO_REDIS_HOST, `client-a:${FAKE_TENANT_PASSWORD}@127.0.0.1`);
        assert.strictEqual(t.env.config.DJANGO_REDIS_PORT, String(redisPort));
        assert.strictEqual(prefix, "client-a:");
    });

    it("the worker's heartbeat bootstep creates CELERY_HEARTBEAT_FILE (and its directory)", async function () {
        await waitForFile(heartbeat, { process: worker, timeoutMs: 10_000 });
        const age = Date.now() - fs.statSync(heartbeat).mtimeMs;
        assert.ok(age < 15_000, `heartbeat is ${age} ms old`);
    });

    let report: ClientReport;
    it("runs one task per queue, each delivered through its own queue, and returns the tenant", function () {
        const out = runToCompletion(PYTHON, [path.join(__dirname, "celery_client.py"), "10"], { cwd: BACKEND_DIR, env, timeoutMs: 30_000 });
        report = JSON.parse(out.trim().split("\n").pop()!);
        for (const q of QUEUES) {
            assert.deepStrictEqual(report.results[q], { queue: q, delivered_via: q, tenant: "client-a", prefix }, q);
        }
    });

    it("uses exactly the kombu options components/redis/acl.ts prescribes, and prefixes result keys", function () {
        assert.deepStrictEqual(report.broker_transport_options, kombuTransportOptions(t.tenant.tenant));
        assert.deepStrictEqual(report.result_backend_transport_options, { global_keyprefix: prefix });
        assert.strictEqual(report.task_keyprefix, `${prefix}celery-task-meta-`);
    });

    it("kombu's unacked-restore transaction (WATCH) runs under the tenant ACL", function () {
        assert.strictEqual(report.restore_by_tag, "ok");
    });

    it("POST /api/v1/tasks/<queue>/ → 202 with an id; GET /api/v1/tasks/<id>/ reaches SUCCESS", async function () {
        const sent = await httpRequest(`${base}/api/v1/tasks/news/`, { method: "POST", headers: { Host: tenantHost } });
        assert.strictEqual(sent.status, 202, sent.body);
        const { id, task, queue } = sent.json<{ id: string; task: string; queue: string }>();
        assert.match(id, /^[0-9a-f-]{36}$/);
        assert.deepStrictEqual({ task, queue }, { task: "fin.tasks.news", queue: "news" });
        let last: { state?: string; result?: unknown } = {};
        await waitUntil(`task ${id} to succeed`, async () => {
            const res = await httpRequest(`${base}/api/v1/tasks/${id}/`, { headers: { Host: tenantHost } });
            assert.strictEqual(res.status, 200, res.body);
            last = res.json();
            return last.state === "SUCCESS";
        }, { process: worker, timeoutMs: 10_000 });
        assert.deepStrictEqual(last.result, { queue: "news", delivered_via: "news", tenant: "client-a", prefix });
    });

    it("every key it created is under the tenant prefix, and the ACL denied nothing", function () {
        const keys = redisAdmin("--scan").split("\n").filter(Boolean).sort();
        assert.ok(keys.length > 0, "no keys at all");
        assert.deepStrictEqual(keys.filter((k) => !k.startsWith(prefix)), [], "keys outside the tenant prefix");
        for (const q of QUEUES) assert.ok(keys.includes(`${prefix}_kombu.binding.${q}`), `binding of ${q} in ${keys.join(", ")}`);
        assert.ok(keys.some((k) => k.startsWith(`${prefix}celery-task-meta-`)), `no prefixed result key in ${keys.join(", ")}`);
        const denied = redisAdmin("ACL", "LOG").trim();
        assert.strictEqual(denied, "", `Redis ACL denials:\n${denied}`);
    });

    it("a warm shutdown (SIGTERM) stops the worker and removes the heartbeat file", async function () {
        worker!.signal("SIGTERM");
        await worker!.waitForExit(10_000);
        assert.ok(!fs.existsSync(heartbeat), "heartbeat file left behind");
    });
});
