/**
 * Tenant isolation that needs no cooperation from the app, proven on real servers.
 *
 * fixtures/upstream-app/backend is shaped like the real stock app: broker URL built from
 * DJANGO_REDIS_HOST with port 6379 hard-coded, no key prefix, no bootstep, config_from_object
 * without namespace, tasks pinned to named queues, periodic tasks, django-db results. Two tenant
 * stacks (client-a, client-b, with stock:backendSource pointing at the fixture) are run through the
 * program, their charts rendered, and their containers started here the way the pods would run them
 * (tests/runtime/pods.ts): the rendered command, the ConfigMap/Secret env plus the container env,
 * the stock runtime (runtime/python) on PYTHONPATH as mounted. Redis is a Debian redis-server with
 * the users.acl and --requirepass the shared stack deploys, on port 6379 of a loopback address of
 * its own (the app hard-codes the port); that address is the shared stack's redisHost here.
 *
 * The stacks run the project's default app profile (DEFAULT_PROFILE), the one client-c runs on.
 * Test-only deviations, all in `STACK_OVERRIDES`: DEPLOY_TYPE=test (the fixture's SQLite in the
 * pod's /tmp instead of MySQL), one worker per tenant on every queue with concurrency 1 and one
 * gunicorn worker (two cores shared by the whole suite), beat on.
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

import { defaultSharedOutputs } from "../../tools/lib/mock-run";
import { REPO_ROOT, projectDefaults } from "../../tools/lib/stack-files";
import {
    freePort,
    httpRequest,
    ManagedProcess,
    requireRealServers,
    runToCompletion,
    startProcess,
    stopAll,
    waitUntil,
} from "../support/real-servers";
import { redisCli, RedisServer, startRedisServerOnPort } from "../support/redis-server";
import { SharedStackRedis, sharedRedisServerOptions, sharedStackRedis } from "../support/shared-stack";
import {
    LocalPaths,
    localize,
    mountVolumes,
    localRun,
    OTHER_PYTHON_SOURCES,
    PREFIX_ENV,
    RenderedContainer,
    RUNTIME_CONFIGMAP,
    RUNTIME_MOUNT,
    TenantPods,
    tenantPods,
} from "./pods";
import { ProbeResult, runProbe } from "./probes";

const FIXTURE = path.join(REPO_ROOT, "fixtures", "upstream-app", "backend");
const TENANTS = ["client-a", "client-b"];
const QUEUES = ["summary", "stock", "statement", "price", "news"];
/** The queues the fixture's API can send to (POST api/v1/task/<queue>/), all shared by both tenants. */
const SENT_QUEUES = ["summary", "statement", "price", "news"];
/** The port the app hard-codes. */
const REDIS_PORT = 6379;

/**
 * The app-profile keys client-a and client-b set for the reference app, back at their project
 * defaults: the fixture is the unmodified app those defaults are for (the same profile as client-c).
 */
const DEFAULT_PROFILE = Object.fromEntries(
    ["stock:apiStartupProbe", "stock:apiLivenessProbe", "stock:apiReadinessProbe", "stock:celeryLiveness", "stock:redisKeyPrefixMode"].map(
        (k) => [k, projectDefaults()[k]],
    ),
);

const STACK_OVERRIDES: Record<string, unknown> = {
    ...DEFAULT_PROFILE,
    "stock:backendSource": FIXTURE,
    "stock:deployType": "test",
    "stock:celeryBeat": true,
    "stock:gunicornWorkers": 1,
    "stock:celeryWorkers": [{ name: "default", queues: QUEUES, replicas: 1, concurrency: 1 }],
};

interface Tenant {
    name: string;
    pods: TenantPods;
    paths: LocalPaths;
    apiUrl: string;
    worker: RenderedContainer;
    processes: Record<string, ManagedProcess>;
}

interface TaskRow {
    id: string;
    status: string;
    result?: { task: string; database: string; hostname: string; queue: string; origin: string };
    task_name?: string;
    periodic_task_name?: string | null;
}

/** The database name the program gives the tenant (MYSQL_DATABASE), which the fixture's tasks report. */
const databaseOf = (t: Tenant) => t.pods.envFrom.MYSQL_DATABASE;

/**
 * The runtime shim as the charts wire it: ConfigMap stock-python-runtime mounted at
 * /opt/stock-runtime/python (its files as the program creates them, see mountConfigMaps), PYTHONPATH
 * pointing there, STOCK_REDIS_KEY_PREFIX in the env.
 */
function runtimeEnv(t: Tenant, c: RenderedContainer): Record<string, string> {
    const wired = runtimeWiring(t.pods, c);
    if (!OTHER_PYTHON_SOURCES) return wired;
    const shim = wired.PYTHONPATH ?? localize(c, c.env.PYTHONPATH, t.paths);
    return { ...wired, PYTHONPATH: `${shim}:${OTHER_PYTHON_SOURCES}` };
}

function runtimeWiring(pods: TenantPods, c: RenderedContainer): Record<string, string> {
    const wiring = {
        mount: c.mounts[RUNTIME_MOUNT] === `configMap:${RUNTIME_CONFIGMAP}`,
        pythonPath: c.env.PYTHONPATH === RUNTIME_MOUNT,
        prefix: pods.envFrom[PREFIX_ENV] !== undefined,
    };
    // The default profile (redisKeyPrefixMode shim) wires all three; the test adds nothing.
    assert.ok(
        Object.values(wiring).every(Boolean),
        `${pods.stack} ${c.pod}: the runtime is not wired as the charts should: ${JSON.stringify(wiring)}`,
    );
    return {};
}

function start(
    t: Tenant,
    c: RenderedContainer,
    label: string,
    extraEnv: Record<string, string | undefined> = {},
    bind?: string,
): ManagedProcess {
    const env = { ...runtimeEnv(t, c), ...extraEnv };
    if ("PYTHONPATH" in extraEnv && extraEnv.PYTHONPATH === undefined && OTHER_PYTHON_SOURCES) env.PYTHONPATH = OTHER_PYTHON_SOURCES; // no shim, same Celery
    const run = localRun(t.pods, c, { ...t.paths, bind }, env);
    return startProcess(`${t.name} ${label}`, run.command, run.args, { cwd: run.cwd, env: run.env });
}

/** The container's rendered liveness probe, run as the kubelet runs it (./probes.ts), in the env the container was started with. */
function liveness(t: Tenant, c: RenderedContainer): Promise<ProbeResult> {
    assert.ok(c.livenessProbe, `${c.pod}: no liveness probe`);
    return runProbe(c.livenessProbe, { pods: t.pods, container: c, paths: t.paths, extraEnv: runtimeEnv(t, c) });
}

/** The shim's one line: which kombu, which prefix (the API logs it at its first task send). */
function assertPrefixLogged(p: ManagedProcess, tenant: string): void {
    assert.match(
        p.log,
        new RegExp(`stock-runtime\\[\\d+\\]: Redis keys and channels of kombu [0-9.]+ are put under '${tenant}:'`),
        `${p.name} did not log the prefix`,
    );
}

async function sendTask(t: Tenant, queue: string): Promise<string> {
    const res = await httpRequest(`${t.apiUrl}/api/v1/task/${queue}/`, { method: "POST", headers: { Host: "app.example" } });
    assert.equal(
        res.status,
        201,
        `${t.name}: POST api/v1/task/${queue}/ answered ${res.status}: ${res.body.slice(0, 500)}\n${t.processes.api.tail()}`,
    );
    return res.json<{ id: string }>().id;
}

async function taskRow(t: Tenant, id: string): Promise<TaskRow> {
    return (await httpRequest(`${t.apiUrl}/api/v1/taskresult/${id}/`)).json<TaskRow>();
}

describe("the real app's shape under the tenant Redis ACL, prefixed by the stock runtime (real redis-server, Celery, gunicorn)", function () {
    this.timeout(60_000);
    let shared: SharedStackRedis;
    let redis: RedisServer;
    const tenants: Tenant[] = [];
    const dirs: string[] = [];
    const asDefault = () => ({ user: "default", password: shared.defaultPassword });
    const asTenant = (name: string) => ({ user: shared.credentials[name].username, password: shared.credentials[name].password });

    before(async function () {
        this.timeout(120_000);
        requireRealServers(this, {
            modules: ["django", "celery", "kombu", "redis", "django_celery_results", "corsheaders", "gunicorn"],
            redis: true,
            commands: true,
        });
        shared = await sharedStackRedis();
        assert.deepEqual(
            TENANTS.filter((t) => shared.tenants.includes(t)),
            TENANTS,
        );
        redis = await startRedisServerOnPort(REDIS_PORT, sharedRedisServerOptions(shared));
        const sharedOutputs = { ...defaultSharedOutputs(TENANTS), redisHost: redis.host, redisPort: REDIS_PORT };
        for (const name of TENANTS) {
            // The default profile: `ping` liveness (the app has no heartbeat bootstep), the shim applies the prefix.
            const pods = await tenantPods(name, { overrides: STACK_OVERRIDES, sharedOutputs });
            const root = fs.mkdtempSync(path.join(os.tmpdir(), `stock-runtime-${name}-`));
            dirs.push(root);
            const tmp = path.join(root, "tmp");
            fs.mkdirSync(tmp);
            const t: Tenant = { name, pods, paths: { cwd: FIXTURE, tmp }, apiUrl: "", worker: pods.workers[0], processes: {} };
            assert.equal(pods.workers.length, 1, `${name}: one worker Deployment`);
            assert.ok(pods.beat && pods.migration, `${name}: beat and the migration Job are rendered`);
            const containers = [pods.api, ...pods.workers, pods.beat, pods.migration];
            mountVolumes(pods, containers, t.paths);
            const migrate = localRun(pods, pods.migration, t.paths, runtimeEnv(t, pods.migration));
            runToCompletion(migrate.command, migrate.args, { cwd: migrate.cwd, env: migrate.env, timeoutMs: 60_000 });
            tenants.push(t);
        }
        assert.equal(await redisCli(redis, asDefault(), ["ACL", "LOG", "RESET"]), "OK");
        for (const t of tenants) {
            const port = await freePort();
            t.apiUrl = `http://127.0.0.1:${port}`;
            t.processes.api = start(t, t.pods.api, "API (gunicorn)", {}, `127.0.0.1:${port}`);
            t.processes.worker = start(t, t.worker, "worker");
            t.processes.beat = start(t, t.pods.beat!, "beat");
        }
        for (const t of tenants) {
            await waitUntil(`${t.name}'s worker to be ready`, () => / ready\.$/m.test(t.processes.worker.log), {
                process: t.processes.worker,
                timeoutMs: 60_000,
            });
            await waitUntil(`${t.name}'s API to answer api/v1/`, async () => (await httpRequest(`${t.apiUrl}/api/v1/`)).status === 200, {
                process: t.processes.api,
                timeoutMs: 30_000,
            });
        }
    });

    after(async function () {
        this.timeout(30_000);
        await stopAll();
        await redis?.stop();
        for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
    });

    it("runs what the program renders: the fixture's gunicorn, celery worker and beat, with the tenant prefix from the env", function () {
        for (const t of tenants) {
            assert.deepEqual(t.pods.api.command.slice(0, 2), ["gunicorn", "fin.wsgi"]);
            assert.deepEqual(t.worker.command.slice(0, 4), ["celery", "-A", "fin.celery", "worker"]);
            assert.deepEqual(t.pods.beat!.command.slice(0, 4), ["celery", "-A", "fin.celery", "beat"]);
            assert.equal(t.pods.envFrom.DJANGO_REDIS_HOST.split("@").pop(), redis.host);
            for (const p of [t.processes.worker, t.processes.beat]) assertPrefixLogged(p, t.name);
        }
    });

    it("each tenant's API sends tasks to the shared queue names, and only its own worker runs them", async function () {
        const sent = await Promise.all(tenants.map(async (t) => ({ t, ids: await Promise.all(SENT_QUEUES.map((q) => sendTask(t, q))) })));
        for (const { t, ids } of sent) {
            for (const [i, id] of ids.entries()) {
                let row: TaskRow | undefined;
                await waitUntil(
                    `${t.name}'s task ${id} on ${SENT_QUEUES[i]} to succeed`,
                    async () => (row = await taskRow(t, id)).status === "SUCCESS",
                    { process: t.processes.worker, timeoutMs: 30_000 },
                );
                assert.equal(row!.result!.database, databaseOf(t), `${t.name}'s task ran against ${row!.result!.database}`);
                assert.equal(row!.result!.queue, SENT_QUEUES[i]);
                const other = tenants.find((o) => o !== t)!;
                assert.equal((await taskRow(other, id)).status, "PENDING", `${other.name}'s database has ${t.name}'s task`);
            }
            assert.ok((t.processes.worker.log.match(/ received$/gm) ?? []).length >= SENT_QUEUES.length);
            assertPrefixLogged(t.processes.api, t.name);
        }
    });

    it("beat schedules the periodic tasks, and the tenant's own worker runs them", async function () {
        for (const t of tenants) {
            let rows: TaskRow[] = [];
            await waitUntil(
                `${t.name}'s beat-sent get_news to run`,
                async () => {
                    // Without result_extended (the real app does not set it) the row has no task name: the result names the task.
                    rows = (await httpRequest(`${t.apiUrl}/api/v1/taskresult/`))
                        .json<{ objects: TaskRow[] }>()
                        .objects.filter((r) => r.status === "SUCCESS" && r.result?.origin?.startsWith(`gen${t.processes.beat.pid}@`));
                    return rows.length > 0;
                },
                { process: t.processes.beat, timeoutMs: 30_000, intervalMs: 250 },
            );
            assert.match(t.processes.beat.log, /Scheduler: Sending due task Get news every 2 seconds \(stock\.tasks\.get_news\)/);
            for (const r of rows) {
                assert.equal(r.result!.task, "get_news");
                assert.equal(r.result!.database, databaseOf(t));
            }
        }
    });

    it("leaves every key under a tenant prefix, with no ACL denial of the prefixed traffic", async function () {
        assert.equal(await redisCli(redis, asDefault(), ["ACL", "LOG"]), "", "unexpected ACL denials");
        const keys = (await redisCli(redis, asDefault(), ["--scan"])).split("\n").filter(Boolean);
        for (const t of TENANTS)
            for (const q of QUEUES) assert.ok(keys.includes(`${t}:_kombu.binding.${q}`), `${t}:_kombu.binding.${q} missing`);
        assert.deepEqual(
            keys.filter((k) => !TENANTS.some((t) => k.startsWith(`${t}:`))),
            [],
        );
    });

    it("refuses a tenant's credential on the other tenant's queues, bindings and pidbox (NOPERM)", async function () {
        for (const [me, other] of [
            ["client-a", "client-b"],
            ["client-b", "client-a"],
        ]) {
            for (const args of [
                ["LLEN", `${other}:price`],
                ["SMEMBERS", `${other}:_kombu.binding.price`],
                ["LPUSH", `${other}:news`, "{}"],
                ["BRPOP", `${other}:summary`, "1"],
            ]) {
                assert.match(await redisCli(redis, asTenant(me), args), /^NOPERM/, `${me}: ${args.join(" ")}`);
            }
            assert.match(await redisCli(redis, asTenant(me), ["PUBLISH", `${other}:/0.celery.pidbox`, "{}"]), /^NOPERM/);
            assert.match(await redisCli(redis, asTenant(me), ["LLEN", "price"]), /^NOPERM/, "the app's unprefixed queue");
        }
    });

    it("the celery liveness probe passes on the live worker and fails on a hung one (SIGSTOP), whose twin in the other tenant stays alive", async function () {
        this.timeout(120_000);
        const [a, b] = tenants;
        assert.ok(a.worker.livenessProbe?.exec, `${a.worker.pod}: no exec liveness probe`);
        const live = await liveness(a, a.worker);
        assert.ok(live.ok, `probe on a live worker failed:\n${live.detail}`);
        assert.match(live.detail, /pong/);
        // Same node name (default@<host>) in both tenants: only the prefix keeps the probes apart.
        a.processes.worker.signal("SIGSTOP");
        try {
            const hung = await liveness(a, a.worker);
            assert.ok(!hung.ok, `probe on a stopped worker passed:\n${hung.detail}`);
            assert.match(hung.detail, /No nodes replied|Error/i);
            const twin = await liveness(b, b.worker);
            assert.ok(twin.ok, `${b.name}'s probe: ${twin.detail}`);
        } finally {
            a.processes.worker.signal("SIGCONT");
        }
        await waitUntil("the resumed worker to answer its probe", async () => (await liveness(a, a.worker)).ok, {
            timeoutMs: 60_000,
            intervalMs: 500,
        });
    });

    describe("fail closed: without the prefix the tenant's Redis user refuses the app", function () {
        beforeEach(async function () {
            assert.equal(await redisCli(redis, asDefault(), ["ACL", "LOG", "RESET"]), "OK");
        });

        it("without the shim on PYTHONPATH the API's task send fails with NOPERM on the unprefixed queue", async function () {
            const t = tenants[0];
            const port = await freePort();
            const api = start(
                t,
                t.pods.api,
                "API without the shim",
                { PYTHONPATH: undefined, [PREFIX_ENV]: undefined },
                `127.0.0.1:${port}`,
            );
            const url = `http://127.0.0.1:${port}`;
            await waitUntil("the shim-less API to answer", async () => (await httpRequest(`${url}/api/v1/`)).status === 200, {
                timeoutMs: 30_000,
            });
            const res = await httpRequest(`${url}/api/v1/task/price/`, { method: "POST" });
            assert.equal(res.status, 500);
            const log = await redisCli(redis, asDefault(), ["ACL", "LOG"]);
            assert.match(log, /\nprice\n/, "NOPERM on the key `price`");
            assert.doesNotMatch(log, /client-b:/);
            await api.stop();
        });

        it("without the shim the worker stops at start-up with NoPermissionError, touching no other tenant's key", async function () {
            const t = tenants[0];
            const w = start(t, t.worker, "worker without the shim", { PYTHONPATH: undefined, [PREFIX_ENV]: undefined });
            await w.waitForExit(60_000);
            assert.match(w.log, /NoPermissionError/);
            assert.doesNotMatch(w.log, / ready\.$/m);
        });

        it("with the other tenant's prefix but its own credential, the worker gets NOPERM, never the other tenant's queue", async function () {
            const t = tenants[0];
            const w = start(t, t.worker, "worker with client-b's prefix", { [PREFIX_ENV]: "client-b:" });
            await w.waitForExit(60_000);
            assert.match(w.log, /NoPermissionError/);
            assert.match(w.log, /put under 'client-b:'/);
            assert.doesNotMatch(w.log, / ready\.$/m);
        });
    });
});
