/**
 * What the stacks deploy, computed the way the tests compute it everywhere else: the real program
 * under Pulumi's mocks (tools/lib/mock-run.ts, as `pulumi up` of a new stack: fake secrets, digests
 * known) and the charts rendered by the real helm with the values it passes to helm.v4.Chart.
 * The shared stack (tests/support/shared-stack.ts) gives the Redis ACL file; each tenant stack reads that Redis at the loopback
 * address the test started it on, so its env (ConfigMap + Secret) holds a working credential.
 */
import * as path from "path";
import { K8sObject, helmTemplate } from "../../tools/lib/helm";
import { IMAGE_TYPE, ProgramRun, reveal, runProgram } from "../../tools/lib/mock-run";
import { REPO_ROOT, loadTenantConfig } from "../../tools/lib/stack-files";
import { TenantConfig } from "../../components/config";
import { BackendEnv } from "../../components/tenant/app-env";
import { ENV_CONFIGMAP, ENV_SECRET, SHARED_OUTPUTS } from "../../components/names";
import { SharedStackRedis } from "../support/shared-stack";
import { TenantPods, podsOf } from "../runtime/pods";

function k8sData(run: ProgramRun, kind: "ConfigMap" | "Secret", name: string): Record<string, string> {
    const found = run.ofType(`kubernetes:core/v1:${kind}`).filter((r) => reveal(r.inputs.metadata)?.name === name);
    if (found.length !== 1) throw new Error(`expected one ${kind} ${name}, found ${found.length}`);
    return reveal(kind === "Secret" ? found[0].inputs.stringData : found[0].inputs.data);
}

export interface TenantStack {
    stack: string;
    config: TenantConfig;
    outputs: Record<string, any>;
    /** The stack output for the external load balancer. */
    nginxServerBlock: string;
    /** The backend's environment exactly as the ConfigMap and Secret hold it. */
    env: BackendEnv;
    /** Every object the three charts render, by chart release. */
    charts: Record<string, K8sObject[]>;
    /** The backend pods as rendered (API, workers, beat, migration Job), with the ConfigMaps and Secrets they use (tests/runtime/pods.ts). */
    pods: TenantPods;
    /** The backend image's build context (the tenant's stock:backendSource): what the image's WORKDIR holds. */
    backendContext: string;
    /** The frontend image's build: the staged context (with its computed envs/<BUILD_FOR>) and BUILD_FOR, as the program hands them to BuildKit. */
    frontendBuild: { context: string; buildFor: string };
}

export async function tenantStack(
    stack: string,
    shared: SharedStackRedis,
    redis: { host: string; port: number },
    overrides: Record<string, unknown> = {},
): Promise<TenantStack> {
    const run = await runProgram(stack, {
        preview: false,
        overrides,
        sharedOutputs: { ...shared.outputs, [SHARED_OUTPUTS.redisHost]: redis.host, [SHARED_OUTPUTS.redisPort]: redis.port },
    });
    const charts: Record<string, K8sObject[]> = {};
    for (const chart of run.ofType("kubernetes:helm.sh/v4:Chart")) {
        const { name, namespace, values } = chart.inputs;
        charts[name] = await helmTemplate(path.resolve(chart.inputs.chart), reveal(values), { releaseName: name, namespace });
    }
    const frontend = run
        .ofType(IMAGE_TYPE)
        .map((i) => reveal(i.inputs))
        .filter((b) => b.buildArgs?.BUILD_FOR);
    if (frontend.length !== 1)
        throw new Error(`expected one frontend image build (with BUILD_FOR) in stack ${stack}, found ${frontend.length}`);
    const config = loadTenantConfig(stack, { overrides });
    return {
        stack,
        config,
        outputs: run.outputs,
        nginxServerBlock: run.outputs.nginxServerBlock,
        env: { config: k8sData(run, "ConfigMap", ENV_CONFIGMAP), secret: k8sData(run, "Secret", ENV_SECRET) },
        charts,
        pods: podsOf(stack, run, Object.values(charts).flat()),
        // The images stack builds the backend image from the tenant's stock:backendSource, resolved as the program resolves it.
        backendContext: path.resolve(REPO_ROOT, config.images.backend.source),
        frontendBuild: { context: path.resolve(frontend[0].context.location), buildFor: frontend[0].buildArgs.BUILD_FOR },
    };
}
