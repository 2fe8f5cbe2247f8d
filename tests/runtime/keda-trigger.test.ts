/**
 * The KEDA triggers the program renders watch exactly the Redis lists the tenant's Celery workers
 * consume, proven on real servers: Debian's redis-server with the shared stack's users.acl and
 * --requirepass, the tenants' workers and producers from fixtures/upstream-app/backend (shaped like
 * the real app: no key prefix of its own, our runtime shim on PYTHONPATH), run as the charts render
 * them (tests/runtime/pods.ts).
 *
 * Two tenant stacks run the program with KEDA on (stock:celeryKeda, a `keda` block per worker
 * group) and their charts are rendered by helm. Each trigger is then read the way KEDA's redis
 * scaler reads it: its TriggerAuthentication's secretTargetRefs resolved from the program's own
 * Secret (address, username, password), its metadata's databaseIndex and listName, and KEDA's own
 * Lua script (tests/fixtures/keda/redis-list-length.lua, from the pinned release) run with EVAL as
 * that user. With no worker running, tasks are published by the tenant's own code; every trigger
 * must count exactly the tasks of its queue, every waiting message must sit in a list some trigger
 * watches, the other tenant's triggers must count 0; started, the rendered workers drain every
 * trigger to 0.
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { spawnSync } from "node:child_process";

import { ENV_SECRET } from "../../components/names";
import { K8sObject } from "../../tools/lib/helm";
import { defaultSharedOutputs } from "../../tools/lib/mock-run";
import { REPO_ROOT, projectDefaults } from "../../tools/lib/stack-files";
import { ManagedProcess, requireRealServers, runToCompletion, startProcess, stopAll, waitUntil } from "../support/real-servers";
import { redisCli, RedisServer, startRedisServerOnPort } from "../support/redis-server";
import { SharedStackRedis, sharedRedisServerOptions, sharedStackRedis } from "../support/shared-stack";
import { localRun, mountVolumes, LocalPaths, RenderedContainer, TenantPods, tenantPods } from "./pods";

const FIXTURE = path.join(REPO_ROOT, "fixtures", "upstream-app", "backend");
const KEDA_SCRIPT = fs.readFileSync(path.join(REPO_ROOT, "tests", "fixtures", "keda", "redis-list-length.lua"), "utf8");
const TENANTS = ["client-a", "client-b"];
/** The port the fixture hard-codes. */
const REDIS_PORT = 6379;
/** Tasks client-a publishes per queue (distinct counts, so that a trigger on the wrong list shows); `stock` gets none. */
const SENT: Record<string, number> = { summary: 1, statement: 2, price: 3, news: 4 };
/** kombu's separator before a priority step in a queue's list name (kombu.transport.redis Channel.sep). */
const PRIORITY_SEP = "\x06\x16";

/** Two worker groups, each scaled by KEDA on its own queues. */
const WORKERS = [
    { name: "fast", queues: ["summary", "stock"], replicas: 1, concurrency: 1, keda: { minReplicas: 0, maxReplicas: 3, listLength: 5 } },
    {
        name: "fetch",
        queues: ["statement", "price", "news"],
        replicas: 1,
        concurrency: 1,
        keda: { minReplicas: 1, maxReplicas: 4, listLength: 10 },
    },
];

/** The project's default app profile (the fixture is the unmodified app it is for), KEDA on, SQLite. */
const STACK_OVERRIDES: Record<string, unknown> = {
    ...Object.fromEntries(
        [
            "stock:apiStartupProbe",
            "stock:apiLivenessProbe",
            "stock:apiReadinessProbe",
            "stock:celeryLiveness",
            "stock:redisKeyPrefixMode",
        ].map((k) => [k, projectDefaults()[k]]),
    ),
    "stock:backendSource": FIXTURE,
    "stock:deployType": "test",
    "stock:celeryKeda": true,
    "stock:celeryWorkers": WORKERS,
};

/** One trigger as KEDA's redis scaler sees it once its TriggerAuthentication is resolved. */
interface ResolvedTrigger {
    scaledObject: string;
    queue: string;
    listName: string;
    databaseIndex: string;
    address: string;
    username: string;
    password: string;
}

interface Tenant {
    name: string;
    pods: TenantPods;
    paths: LocalPaths;
    triggers: ResolvedTrigger[];
}

/** secretTargetRef → the value of the program's Secret (the only Secret the chart may name). */
function resolveTriggers(pods: TenantPods): ResolvedTrigger[] {
    const auths = new Map(pods.objects.filter((o) => o.kind === "TriggerAuthentication").map((a) => [a.metadata.name, a]));
    return pods.objects
        .filter((o) => o.kind === "ScaledObject")
        .flatMap((so) =>
            so.spec.triggers.map((t: K8sObject) => {
                assert.equal(t.type, "redis", `${so.metadata.name}: trigger type`);
                const auth = auths.get(t.authenticationRef?.name);
                assert.ok(
                    auth,
                    `${so.metadata.name}: trigger ${t.name} names TriggerAuthentication ${t.authenticationRef?.name}, which is not rendered`,
                );
                const params: Record<string, string> = {};
                for (const ref of auth.spec.secretTargetRef) {
                    assert.equal(ref.name, ENV_SECRET, `${auth.metadata.name} reads Secret ${ref.name}`);
                    assert.ok(ref.key in pods.secret, `${auth.metadata.name}: Secret ${ENV_SECRET} has no key ${ref.key}`);
                    params[ref.parameter] = pods.secret[ref.key];
                }
                return {
                    scaledObject: so.metadata.name,
                    queue: String(t.name).replace(/^queue-/, ""),
                    listName: t.metadata.listName,
                    databaseIndex: t.metadata.databaseIndex,
                    address: params.address,
                    username: params.username,
                    password: params.password,
                };
            }),
        );
}

/** What KEDA reads for one trigger: its Lua script, by EVAL, on its address and database, as its user. */
async function kedaListLength(t: ResolvedTrigger, listName = t.listName): Promise<string> {
    const [host, port] = t.address.split(":");
    return redisCli({ host, port: Number(port) }, { user: t.username, password: t.password }, [
        "-n",
        t.databaseIndex,
        "EVAL",
        KEDA_SCRIPT,
        "1",
        listName,
    ]);
}

/** Run Python in a worker container's env (its envFrom, its env, the shim as mounted): the tenant's own producer. */
function publish(t: Tenant, plan: Record<string, number>, priority?: number): void {
    const worker = t.pods.workers[0];
    const script = [
        "import json, os, sys",
        "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'fin.settings')",
        "import django",
        "django.setup()",
        "from stock.tasks import TASK_FOR_QUEUE",
        "options = json.loads(sys.argv[2])",
        "for queue, count in json.loads(sys.argv[1]).items():",
        "    for _ in range(count):",
        "        TASK_FOR_QUEUE[queue]().apply_async(**options)",
    ].join("\n");
    const options = priority === undefined ? {} : { priority };
    const run = localRun(t.pods, { ...worker, command: ["python", "-c", script, JSON.stringify(plan), JSON.stringify(options)] }, t.paths);
    const r = spawnSync(run.command, run.args, { cwd: run.cwd, env: run.env, encoding: "utf8", timeout: 30_000, killSignal: "SIGKILL" });
    assert.equal(r.status, 0, `${t.name}: publishing ${JSON.stringify(plan)} failed:\n${r.stdout}${r.stderr}`);
}

describe("KEDA's redis triggers, as the program renders them, count the lists the tenant's workers consume (real redis-server, Celery)", function () {
    this.timeout(60_000);
    let shared: SharedStackRedis;
    let redis: RedisServer;
    const tenants: Tenant[] = [];
    const dirs: string[] = [];
    const workers: ManagedProcess[] = [];
    const asDefault = () => ({ user: "default", password: shared.defaultPassword });
    const tenant = (name: string) => tenants.find((t) => t.name === name)!;

    before(async function () {
        this.timeout(120_000);
        requireRealServers(this, {
            modules: ["django", "celery", "kombu", "redis", "django_celery_results", "corsheaders"],
            redis: true,
            commands: true,
        });
        shared = await sharedStackRedis();
        redis = await startRedisServerOnPort(REDIS_PORT, sharedRedisServerOptions(shared));
        const sharedOutputs = { ...defaultSharedOutputs(TENANTS), redisHost: redis.host, redisPort: REDIS_PORT };
        for (const name of TENANTS) {
            const pods = await tenantPods(name, { overrides: STACK_OVERRIDES, sharedOutputs });
            const root = fs.mkdtempSync(path.join(os.tmpdir(), `stock-keda-${name}-`));
            dirs.push(root);
            const paths: LocalPaths = { cwd: FIXTURE, tmp: path.join(root, "tmp") };
            fs.mkdirSync(paths.tmp);
            assert.ok(pods.migration, `${name}: the migration Job is rendered`);
            const containers: RenderedContainer[] = [...pods.workers, pods.migration];
            mountVolumes(pods, containers, paths);
            // The workers store results in the tenant's SQLite database (DEPLOY_TYPE=test): its tables first.
            const migrate = localRun(pods, pods.migration, paths);
            runToCompletion(migrate.command, migrate.args, { cwd: migrate.cwd, env: migrate.env, timeoutMs: 60_000 });
            tenants.push({ name, pods, paths, triggers: resolveTriggers(pods) });
        }
        assert.equal(await redisCli(redis, asDefault(), ["ACL", "LOG", "RESET"]), "OK");
        publish(tenant("client-a"), SENT);
    });

    after(async function () {
        this.timeout(30_000);
        await stopAll();
        await redis?.stop();
        for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
    });

    it("renders a ScaledObject per worker group and a trigger per queue, on <prefix><queue>, logged in as the tenant's own user", function () {
        for (const t of tenants) {
            const expected = WORKERS.flatMap((w) => w.queues.map((q) => [`stock-backend-celery-${w.name}`, q, `${t.name}:${q}`]));
            assert.deepEqual(
                t.triggers.map((x) => [x.scaledObject, x.queue, x.listName]),
                expected,
            );
            for (const x of t.triggers) {
                assert.equal(x.username, shared.credentials[t.name].username, "the tenant's ACL user, never default");
                assert.equal(x.password, shared.credentials[t.name].password);
                assert.equal(x.address, `${redis.host}:${REDIS_PORT}`, "the shared stack's Redis");
                assert.equal(x.databaseIndex, "0");
                assert.ok(x.listName.startsWith(shared.credentials[t.name].keyPrefix), `${x.listName} is under the tenant's prefix`);
            }
        }
    });

    it("with no worker running, each of client-a's triggers counts exactly the tasks published to its queue", async function () {
        const counts = await Promise.all(tenant("client-a").triggers.map((x) => kedaListLength(x)));
        assert.deepEqual(Object.fromEntries(tenant("client-a").triggers.map((x, i) => [x.queue, counts[i]])), {
            summary: "1",
            stock: "0",
            statement: "2",
            price: "3",
            news: "4",
        });
        assert.equal(await redisCli(redis, asDefault(), ["ACL", "LOG"]), "", "KEDA's reads caused no ACL denial");
    });

    it("leaves no waiting message in a list that no trigger watches", async function () {
        const keys = (await redisCli(redis, asDefault(), ["--scan"])).split("\n").filter(Boolean);
        const types = await Promise.all(keys.map((k) => redisCli(redis, asDefault(), ["TYPE", k])));
        const lists = keys.filter((_, i) => types[i] === "list").sort();
        const watched = tenant("client-a")
            .triggers.filter((x) => SENT[x.queue])
            .map((x) => x.listName)
            .sort();
        assert.deepEqual(lists, watched);
    });

    it("client-b's triggers count 0, and client-b's user cannot read client-a's lists", async function () {
        const b = tenant("client-b");
        assert.deepEqual(
            await Promise.all(b.triggers.map((x) => kedaListLength(x))),
            b.triggers.map(() => "0"),
        );
        for (const x of tenant("client-a").triggers) assert.match(await kedaListLength(b.triggers[0], x.listName), /NOPERM/, x.listName);
    });

    it("the workers the charts render consume exactly those lists: started, they drain every trigger to 0", async function () {
        this.timeout(90_000);
        const a = tenant("client-a");
        for (const c of a.pods.workers) {
            const run = localRun(a.pods, c, a.paths);
            workers.push(startProcess(`client-a ${c.pod}`, run.command, run.args, { cwd: run.cwd, env: run.env }));
        }
        const total = Object.values(SENT).reduce((s, n) => s + n, 0);
        const succeeded = () => workers.reduce((s, w) => s + (w.log.match(/ succeeded in /g) ?? []).length, 0);
        await waitUntil(`client-a's ${total} tasks to succeed`, () => succeeded() === total, { timeoutMs: 60_000, intervalMs: 250 });
        assert.deepEqual(
            await Promise.all(a.triggers.map((x) => kedaListLength(x))),
            a.triggers.map(() => "0"),
        );
        await Promise.all(workers.map((w) => w.stop(10_000)));
    });

    it("counts no task sent with a priority of 3 or more: kombu keeps it in <list>\\x06\\x163 (docs/charts.md, KEDA)", async function () {
        const a = tenant("client-a");
        publish(a, { price: 1 }, 5);
        const price = a.triggers.find((x) => x.queue === "price")!;
        assert.equal(await kedaListLength(price), "0");
        assert.equal(await kedaListLength(price, `${price.listName}${PRIORITY_SEP}3`), "1");
        assert.equal(await redisCli(redis, asDefault(), ["DEL", `${price.listName}${PRIORITY_SEP}3`]), "1");
    });
});
