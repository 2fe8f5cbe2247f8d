/**
 * stock:celeryKeda and the `keda` block of a worker group: the config model's rules, and what the
 * program makes of them (chart values, the Secret's keys, the quota), under the Pulumi mocks.
 * The rendered objects: tests/charts/keda.test.ts; on real servers: tests/runtime/keda-trigger.test.ts.
 */
import * as assert from "assert";
import { ConfigError } from "../../components/config";
import { KEDA_SECRET_ENV } from "../../components/tenant/keda";
import { tenantQuota } from "../../components/tenant/quota";
import { reveal, runProgram, UNKNOWN } from "../../tools/lib/mock-run";
import { LoadOptions, loadStackConfig, loadTenantConfig } from "../../tools/lib/stack-files";

const QUEUES = ["summary", "stock", "statement", "price", "news"];
const keda = (extra: object = {}) => ({ minReplicas: 0, maxReplicas: 4, listLength: 10, ...extra });
const kedaStack = (workers: object[], on = true): LoadOptions => ({
    overrides: { "stock:celeryKeda": on, "stock:celeryWorkers": workers },
});

function problems(options: LoadOptions): string[] {
    try {
        loadStackConfig("client-a", options);
    } catch (e) {
        if (e instanceof ConfigError) return e.problems;
        throw e;
    }
    return [];
}

describe("stock:celeryKeda and the workers' keda blocks", function () {
    it("is off by default: no stack in the repo scales with KEDA, and the Secret has no KEDA keys", async function () {
        for (const stack of ["client-a", "client-b", "client-c"]) assert.strictEqual(loadTenantConfig(stack).celery.keda, false, stack);
        const program = await runProgram("client-a", { preview: false });
        const celery = program.ofType("kubernetes:helm.sh/v4:Chart").find((c) => c.inputs.name === "stock-backend-celery");
        const values = reveal(celery!.inputs.values);
        assert.strictEqual(values.keda.enabled, false);
        assert.ok(values.workers.every((w: { keda?: unknown }) => w.keda === undefined));
        const secret = program.ofType("kubernetes:core/v1:Secret").find((s) => reveal(s.inputs.metadata).name === "stock-backend-secret");
        for (const key of Object.values(KEDA_SECRET_ENV)) assert.ok(!(key in reveal(secret!.inputs.stringData)), key);
    });

    it("sets the chart's keda values from the group's block, the tenant's prefix and the Secret's keys; groups without a block keep their replicas", async function () {
        // Not a preview: the Secret's stringData (with the generated DJANGO_SECRET_KEY) is known only then.
        const program = await runProgram("client-a", {
            preview: false,
            overrides: {
                "stock:celeryKeda": true,
                "stock:celeryWorkers": [
                    { name: "fast", queues: ["summary", "stock"], replicas: 2, keda: keda({ activationListLength: 3 }) },
                    { name: "rest", queues: ["statement", "price", "news"], replicas: 1 },
                ],
            },
        });
        const celery = program.ofType("kubernetes:helm.sh/v4:Chart").find((c) => c.inputs.name === "stock-backend-celery");
        const values = reveal(celery!.inputs.values);
        assert.deepStrictEqual(values.keda, {
            enabled: false,
            keyPrefix: "client-a:",
            databaseIndex: 0,
            auth: {
                secretName: "stock-backend-secret",
                addressKey: "STOCK_REDIS_ADDRESS",
                usernameKey: "STOCK_REDIS_USERNAME",
                passwordKey: "STOCK_REDIS_PASSWORD",
            },
        });
        assert.deepStrictEqual(values.workers[0].keda, {
            enabled: true,
            minReplicaCount: 0,
            maxReplicaCount: 4,
            listLength: 10,
            activationListLength: 3,
        });
        assert.strictEqual(values.workers[1].keda, undefined);
        const secret = program.ofType("kubernetes:core/v1:Secret").find((s) => reveal(s.inputs.metadata).name === "stock-backend-secret");
        const data = reveal(secret!.inputs.stringData);
        assert.strictEqual(data.STOCK_REDIS_ADDRESS, "redis-master.redis.svc.cluster.local:6379");
        assert.strictEqual(data.STOCK_REDIS_USERNAME, "client-a", "the tenant's own ACL user");
        assert.ok(data.STOCK_REDIS_PASSWORD.length > 0 && data.DJANGO_REDIS_HOST.startsWith(`client-a:${data.STOCK_REDIS_PASSWORD}@`));
    });

    it("keeps the celery chart's values all known at preview with KEDA on (no output in them)", async function () {
        const program = await runProgram("client-b", {
            overrides: {
                "stock:celeryKeda": true,
                "stock:celeryWorkers": [{ name: "default", queues: QUEUES, replicas: 1, keda: keda() }],
            },
        });
        for (const c of program.ofType("kubernetes:helm.sh/v4:Chart")) {
            const text = JSON.stringify(c.inputs.values);
            assert.ok(!text.includes("__pulumiUnknown") && !text.includes(UNKNOWN), `${c.inputs.name}: values known at preview`);
        }
        const celery = program.ofType("kubernetes:helm.sh/v4:Chart").find((c) => c.inputs.name === "stock-backend-celery");
        assert.strictEqual(reveal(celery!.inputs.values).workers[0].keda.enabled, true);
    });

    it("counts a KEDA group's maxReplicas in the quota, not its replicas", function () {
        const base = loadTenantConfig(
            "client-a",
            kedaStack([{ name: "default", queues: QUEUES, replicas: 2, keda: keda({ maxReplicas: 2 }) }]),
        );
        const more = loadTenantConfig(
            "client-a",
            kedaStack([{ name: "default", queues: QUEUES, replicas: 2, keda: keda({ maxReplicas: 7 }) }]),
        );
        assert.strictEqual(
            Number(tenantQuota(more).hard.pods) - Number(tenantQuota(base).hard.pods),
            2 * 5,
            "two pods per replica at the update peak",
        );
        const off = loadTenantConfig(
            "client-a",
            kedaStack([{ name: "default", queues: QUEUES, replicas: 2, keda: keda({ maxReplicas: 7 }) }], false),
        );
        assert.strictEqual(tenantQuota(off).hard.pods, tenantQuota(base).hard.pods, "KEDA off: the fixed replicas");
    });

    it("refuses minReplicas above maxReplicas, naming the path and the fix", function () {
        const text = problems(
            kedaStack([{ name: "default", queues: QUEUES, replicas: 1, keda: keda({ minReplicas: 5, maxReplicas: 3 }) }]),
        ).join("\n");
        assert.match(
            text,
            /stock:celeryWorkers\[0\]\.keda in Pulumi\.client-a\.yaml: minReplicas 5 is above maxReplicas 3 \(worker 'default'\)/,
        );
        assert.match(text, /Fix: pulumi config set --path 'stock:celeryWorkers\[0\]\.keda\.minReplicas' 3 -s client-a/);
    });

    it("refuses stock:celeryKeda true with no keda block (KEDA would scale nothing)", function () {
        const text = problems(kedaStack([{ name: "default", queues: QUEUES, replicas: 1 }])).join("\n");
        assert.match(text, /stock:celeryKeda is true for Pulumi\.client-a\.yaml, but no worker of stock:celeryWorkers has a keda block/);
        assert.match(text, /Fix: .*pulumi config set stock:celeryKeda false -s client-a/);
    });

    it("refuses a keda block without maxReplicas or with an unknown key", function () {
        assert.match(
            problems(kedaStack([{ name: "default", queues: QUEUES, replicas: 1, keda: { minReplicas: 0, listLength: 5 } }])).join("\n"),
            /stock:celeryWorkers\[0\]\.keda\.maxReplicas/,
        );
        assert.match(
            problems(kedaStack([{ name: "default", queues: QUEUES, replicas: 1, keda: keda({ maxReplicaCount: 3 }) }])).join("\n"),
            /maxReplicaCount/,
        );
        assert.match(
            problems(kedaStack([{ name: "default", queues: QUEUES, replicas: 1, keda: keda({ listLength: 0 }) }])).join("\n"),
            /stock:celeryWorkers\[0\]\.keda\.listLength/,
        );
    });

    it("takes a KEDA group scaled from zero as its queues' consumer, unlike a group of replicas 0 without KEDA", function () {
        const zero = [{ name: "default", queues: QUEUES, replicas: 0, keda: keda({ minReplicas: 0 }) }];
        assert.deepStrictEqual(problems(kedaStack(zero)), []);
        assert.match(
            problems(kedaStack(zero, false)).join("\n"),
            /queue 'summary' is consumed only by default \(stock:celeryWorkers\[0\]\.replicas is 0\)/,
        );
    });

    it("warns, naming the groups, when keda blocks are set but stock:celeryKeda is false (they run their replicas)", function () {
        const config = loadStackConfig("client-a", kedaStack([{ name: "default", queues: QUEUES, replicas: 2, keda: keda() }], false));
        assert.ok(
            config.warnings.some((w) =>
                /default \(stock:celeryWorkers\[0\]\.keda\) has a keda block, but stock:celeryKeda is false: it runs its fixed replicas/.test(
                    w,
                ),
            ),
            config.warnings.join("\n"),
        );
    });
});
