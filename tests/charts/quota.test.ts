/**
 * The tenant namespace's ResourceQuota and LimitRange (components/tenant/quota.ts, created by the Tenant
 * component) agree with what the charts actually run: render the three charts with the values the
 * program computes for every tenant stack in the repo, sum every container of every pod at the peak
 * of an update (a RollingUpdate Deployment's old and new pods, the migration Job), and compare with
 * the quota the program creates, to the millicore and the byte.
 */
import { strict as assert } from "node:assert";
import { cpuMillis, tenantQuota, updatePeak } from "../../components/tenant/quota";
import { memoryBytes } from "../../components/redis/values";
import { K8sObject, helmTemplate } from "../../tools/lib/helm";
import { reveal, runProgram } from "../../tools/lib/mock-run";
import { loadStackConfig, stackNames } from "../../tools/lib/stack-files";

const tenantStacks = stackNames().filter((s) => loadStackConfig(s).role === "tenant");
const MI = 2 ** 20;

/** Pods of one rendered workload at the peak of an update; a Deployment KEDA scales runs up to its ScaledObject's maxReplicaCount. */
function peakPods(o: K8sObject, rendered: K8sObject[]): number {
    if (o.kind === "Job") return o.spec.parallelism ?? 1;
    const scaler = rendered.find((s) => s.kind === "ScaledObject" && s.spec.scaleTargetRef.kind === o.kind && s.spec.scaleTargetRef.name === o.metadata.name);
    if (scaler) assert.equal(o.spec.replicas, undefined, `${o.metadata.name}: KEDA owns the replicas`);
    const replicas = scaler ? (scaler.spec.maxReplicaCount ?? 100) : (o.spec.replicas ?? 1);
    const type = o.spec.strategy?.type ?? "RollingUpdate";
    if (type === "RollingUpdate") {
        const surge = String(o.spec.strategy?.rollingUpdate?.maxSurge ?? "25%");
        const pods = surge.endsWith("%") ? Math.ceil((replicas * Number(surge.slice(0, -1))) / 100) : Number(surge);
        assert.ok(pods <= replicas, `${o.kind} ${o.metadata.name}: maxSurge ${surge} above its replicas would outgrow the quota's update peak`);
    }
    return updatePeak(replicas, type);
}

describe("tenant namespace quota agrees with the charts rendered with the program's values", function () {
    this.timeout(60000);

    /** Every tenant stack as it is, and client-b with two worker groups scaled by KEDA (stock:celeryKeda). */
    const cases: Array<{ stack: string; label: string; overrides?: Record<string, unknown> }> = [
        ...tenantStacks.map((stack) => ({ stack, label: stack })),
        {
            stack: "client-b",
            label: "client-b with KEDA (max replicas count)",
            overrides: {
                "stock:celeryKeda": true,
                "stock:celeryWorkers": [
                    { name: "default", queues: ["summary", "stock", "statement", "news"], replicas: 1, keda: { minReplicas: 0, maxReplicas: 3, listLength: 10 } },
                    { name: "price", queues: ["price"], replicas: 3, concurrency: 4, keda: { minReplicas: 1, maxReplicas: 7, listLength: 5 } },
                ],
            },
        },
    ];
    for (const { stack, label, overrides } of cases) {
        describe(label, function () {
            let workloads: K8sObject[];
            let rendered: K8sObject[];
            let program: Awaited<ReturnType<typeof runProgram>>;

            before(async () => {
                program = await runProgram(stack, { overrides });
                const charts = program.ofType("kubernetes:helm.sh/v4:Chart");
                rendered = (await Promise.all(charts.map((c) => helmTemplate(c.inputs.chart, reveal(c.inputs.values), { releaseName: c.inputs.name, namespace: c.inputs.namespace })))).flat();
                workloads = rendered.filter((o) => o.kind === "Deployment" || o.kind === "Job" || o.kind === "StatefulSet" || o.kind === "DaemonSet");
            });

            it("creates a ResourceQuota whose hard limits are the sum of every pod the charts run at the peak of an update", () => {
                assert.deepEqual(rendered.filter((o) => o.kind === "HorizontalPodAutoscaler"), [], "no chart HPA: replicas are the config's, or KEDA's up to its maximum");
                assert.equal(rendered.filter((o) => o.kind === "ScaledObject").length, overrides ? 2 : 0);
                const totals = { pods: 0, requestsCpu: 0, requestsMemory: 0, limitsCpu: 0, limitsMemory: 0 };
                for (const o of workloads) {
                    const pods = peakPods(o, rendered);
                    const containers = [...(o.spec.template.spec.initContainers ?? []), ...o.spec.template.spec.containers];
                    totals.pods += pods;
                    for (const c of containers) {
                        assert.ok(c.resources?.requests && c.resources?.limits, `${o.kind} ${o.metadata.name}/${c.name} sets requests and limits`);
                        totals.requestsCpu += pods * cpuMillis(String(c.resources.requests.cpu));
                        totals.requestsMemory += pods * memoryBytes(String(c.resources.requests.memory));
                        totals.limitsCpu += pods * cpuMillis(String(c.resources.limits.cpu));
                        totals.limitsMemory += pods * memoryBytes(String(c.resources.limits.memory));
                    }
                }
                const quota = program.one("kubernetes:core/v1:ResourceQuota");
                assert.equal(quota.inputs.metadata.namespace, stack);
                assert.deepEqual(quota.inputs.spec.hard, {
                    pods: String(totals.pods),
                    "requests.cpu": `${totals.requestsCpu}m`,
                    "requests.memory": `${Math.ceil(totals.requestsMemory / MI)}Mi`,
                    "limits.cpu": `${totals.limitsCpu}m`,
                    "limits.memory": `${Math.ceil(totals.limitsMemory / MI)}Mi`,
                });
            });

            it("creates a LimitRange no rendered container exceeds, whose defaults are one of the config's containers", () => {
                const range = program.one("kubernetes:core/v1:LimitRange").inputs;
                assert.equal(range.metadata.namespace, stack);
                const [limit] = range.spec.limits;
                assert.equal(limit.type, "Container");
                for (const o of workloads) {
                    for (const c of o.spec.template.spec.containers) {
                        assert.ok(cpuMillis(String(c.resources.limits.cpu)) <= cpuMillis(limit.max.cpu), `${o.metadata.name}/${c.name} cpu`);
                        assert.ok(memoryBytes(String(c.resources.limits.memory)) <= memoryBytes(limit.max.memory), `${o.metadata.name}/${c.name} memory`);
                    }
                }
                const containerResources = workloads.flatMap((o) => o.spec.template.spec.containers.map((c: K8sObject) => JSON.stringify({ requests: c.resources.requests, limits: c.resources.limits })));
                assert.ok(containerResources.includes(JSON.stringify({ requests: limit.defaultRequest, limits: limit.default })), "the defaults are a real container's");
                // The charts' pods start only once the namespace has its budget.
                for (const c of program.ofType("kubernetes:helm.sh/v4:Chart")) {
                    const deps = c.dependencies ?? [];
                    assert.ok(deps.some((d: string) => d.includes("ResourceQuota")), `chart ${c.name} waits for the ResourceQuota`);
                }
            });
        });
    }

    it("grows with the config: ten more API replicas raise pods by twenty and memory by twenty API containers' limits", () => {
        const config = loadStackConfig("client-a");
        assert.ok(config.role === "tenant");
        const base = tenantQuota(config);
        const more = tenantQuota({ ...config, replicas: { ...config.replicas, api: config.replicas.api + 10 } });
        assert.equal(Number(more.hard.pods) - Number(base.hard.pods), 20);
        const mi = (q: string) => Number(q.replace(/Mi$/, ""));
        assert.equal(mi(more.hard["limits.memory"]) - mi(base.hard["limits.memory"]), (20 * memoryBytes(config.resources.api.limits.memory)) / MI);
    });
});
