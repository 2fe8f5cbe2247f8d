/**
 * The backend pods of a tenant stack as the program really renders them (runProgram + helm
 * template of its charts), and how to run one of their containers on this machine: the container's
 * command, the env of its ConfigMap/Secret (envFrom) and its own env, with the container paths mapped
 * to local directories (the /tmp emptyDir, the stock-python-runtime ConfigMap mounted from
 * runtime/python). The image's WORKDIR (/code for an app shaped like the real one) is `cwd`.
 */
import { strict as assert } from "node:assert";
import * as os from "node:os";
import * as path from "node:path";
import { K8sObject, helmTemplate } from "../../tools/lib/helm";
import { reveal, runProgram, RunOptions } from "../../tools/lib/mock-run";
import { REPO_ROOT } from "../../tools/lib/stack-files";
import { CELERY, GUNICORN, PYTHON } from "../support/real-servers";

/** The interface fixed with the charts: ConfigMap name, where it is mounted, the env it needs. */
export const RUNTIME_CONFIGMAP = "stock-python-runtime";
export const RUNTIME_MOUNT = "/opt/stock-runtime/python";
export const RUNTIME_DIR = path.join(REPO_ROOT, "runtime", "python");
export const PREFIX_ENV = "STOCK_REDIS_KEY_PREFIX";

/**
 * Optional, for a manual run: a directory holding other Celery/kombu sources (`celery/`, `kombu/`
 * packages) to run instead of Debian's, put on PYTHONPATH after the runtime, e.g.
 * `git archive v5.3.6 celery | tar -x -C /tmp/celery-5.3.6`. CI runs Debian's (no other Celery is
 * installable there); docs/app-contract.md lists the versions this was run with.
 */
export const OTHER_PYTHON_SOURCES = process.env.STOCK_TEST_PYTHON_SOURCES;

export interface RenderedContainer {
    pod: string;
    name: string;
    command: string[];
    /** Literal `env` entries of the container (valueFrom entries are not used by the backend). */
    env: Record<string, string>;
    /** mountPath → the ConfigMap it comes from, or "emptyDir". */
    mounts: Record<string, string>;
    livenessProbe?: K8sObject;
}

export interface TenantPods {
    stack: string;
    /** ConfigMap data + Secret stringData the containers import with envFrom. */
    envFrom: Record<string, string>;
    api: RenderedContainer;
    workers: RenderedContainer[];
    beat?: RenderedContainer;
    migration?: RenderedContainer;
}

function containerOf(pod: K8sObject, owner: string): RenderedContainer[] {
    const volumes: Record<string, string> = Object.fromEntries(
        (pod.spec.volumes ?? []).map((v: K8sObject) => [
            v.name,
            v.configMap ? `configMap:${v.configMap.name}` : v.emptyDir ? "emptyDir" : "other",
        ]),
    );
    return pod.spec.containers.map((c: K8sObject) => ({
        pod: owner,
        name: c.name,
        command: [...(c.command ?? []), ...(c.args ?? [])],
        env: Object.fromEntries(
            (c.env ?? []).filter((e: K8sObject) => e.value !== undefined).map((e: K8sObject) => [e.name, String(e.value)]),
        ),
        mounts: Object.fromEntries((c.volumeMounts ?? []).map((m: K8sObject) => [m.mountPath, volumes[m.name]])),
        livenessProbe: c.livenessProbe,
    }));
}

/**
 * Run the program for `stack` and render its charts the way the plan does. `celeryLiveness`, when
 * given, replaces the celery chart's livenessProbe values the program computed.
 */
export async function tenantPods(stack: string, options: RunOptions, celeryLiveness?: Record<string, unknown>): Promise<TenantPods> {
    const program = await runProgram(stack, { ...options, preview: false });
    const configMap = reveal(program.one("kubernetes:core/v1:ConfigMap").inputs);
    const secret = reveal(program.one("kubernetes:core/v1:Secret", `${stack}-secret`).inputs);
    const charts = program.ofType("kubernetes:helm.sh/v4:Chart");
    const valuesOf = (c: (typeof charts)[number]) => {
        const values = reveal(c.inputs.values);
        if (!celeryLiveness || path.basename(c.inputs.chart) !== "celery") return values;
        return { ...values, livenessProbe: { ...values.livenessProbe, ...celeryLiveness } };
    };
    const objects = (
        await Promise.all(
            charts.map((c) => helmTemplate(c.inputs.chart, valuesOf(c), { releaseName: c.inputs.name, namespace: c.inputs.namespace })),
        )
    ).flat();
    const pods = objects
        .filter((o) => o.kind === "Deployment" || o.kind === "Job")
        .flatMap((o) => containerOf(o.spec.template, `${o.kind}/${o.metadata.name}`));
    const byComponent = (test: (pod: string) => boolean) => pods.filter((c) => test(c.pod));
    const [api] = byComponent((p) => p === "Deployment/stock-backend-api");
    assert.ok(api, `${stack}: no API Deployment rendered`);
    return {
        stack,
        envFrom: { ...configMap.data, ...secret.stringData },
        api,
        workers: byComponent((p) => p.startsWith("Deployment/stock-backend-celery-") && !p.endsWith("-beat")),
        beat: byComponent((p) => p.endsWith("-celery-beat"))[0],
        migration: byComponent((p) => p.startsWith("Job/"))[0],
    };
}

export interface LocalRun {
    command: string;
    args: string[];
    env: NodeJS.ProcessEnv;
    cwd: string;
}

/** The Debian binary that the image's command word stands for. */
function binaryFor(word: string): string {
    const known: Record<string, string> = { celery: CELERY, gunicorn: GUNICORN, python: PYTHON, python3: PYTHON, "/bin/sh": "/bin/sh" };
    assert.ok(known[word], `no local binary for the container command ${JSON.stringify(word)}`);
    return known[word];
}

export interface LocalPaths {
    /** The image's WORKDIR. */
    cwd: string;
    /** Where the pod's /tmp emptyDir lives on this machine (per tenant: it also holds the fixture's SQLite database). */
    tmp: string;
    /** `--bind` of gunicorn: a free loopback address instead of 0.0.0.0:8080. */
    bind?: string;
}

/**
 * Container paths → local ones: /tmp (the emptyDir) and the runtime ConfigMap's mount. Every other
 * path the command or env names must not exist in the container spec (asserted by the caller).
 */
export function localize(container: RenderedContainer, value: string, paths: LocalPaths): string {
    let out = value;
    for (const [mountPath, source] of Object.entries(container.mounts)) {
        if (source === `configMap:${RUNTIME_CONFIGMAP}`) out = out.split(mountPath).join(RUNTIME_DIR);
    }
    return out.replace(/(^|[:=\s])\/tmp(?=\/|$|[:\s])/g, `$1${paths.tmp}`);
}

/** How to run `container` here: its command and exactly the env the pod would have. */
export function localRun(
    pods: TenantPods,
    container: RenderedContainer,
    paths: LocalPaths,
    extraEnv: Record<string, string | undefined> = {},
): LocalRun {
    const podEnv: Record<string, string> = { ...pods.envFrom, ...container.env };
    const env: NodeJS.ProcessEnv = {
        PATH: "/usr/bin:/bin",
        LANG: "C.UTF-8",
        // What the kubelet sets: the pod's host name, which is also what Celery's %h expands to.
        HOSTNAME: os.hostname(),
        // tempfile.gettempdir() of the pod is /tmp; here /tmp is paths.tmp.
        TMPDIR: paths.tmp,
    };
    for (const [k, v] of Object.entries(podEnv)) env[k] = localize(container, v, paths);
    for (const [k, v] of Object.entries(extraEnv)) {
        if (v === undefined) delete env[k];
        else env[k] = v;
    }
    const words = container.command.map((w) => localize(container, w, paths));
    if (paths.bind) {
        const i = words.indexOf("--bind");
        assert.ok(i >= 0, `${container.pod}: no --bind in ${words.join(" ")}`);
        words[i + 1] = paths.bind;
    }
    return { command: binaryFor(words[0]), args: words.slice(1), env, cwd: paths.cwd };
}
