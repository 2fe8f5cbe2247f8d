/**
 * The backend pods of a tenant stack as the program really renders them (runProgram + helm
 * template of its charts), and how to run one of their containers on this machine: the container's
 * command, the env the kubelet gives it (the ConfigMaps/Secrets its own envFrom names, then its env
 * entries, valueFrom keys resolved; containerEnv), with the container paths mapped
 * to local directories (the /tmp emptyDir, the stock-python-runtime ConfigMap mounted from
 * runtime/python). The image's WORKDIR (/code for an app shaped like the real one) is `cwd`.
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ENV_CONFIGMAP, ENV_SECRET } from "../../components/names";
import { K8sObject, helmTemplate } from "../../tools/lib/helm";
import { ProgramRun, reveal, runProgram, RunOptions } from "../../tools/lib/mock-run";
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
    /** The container's `envFrom`, in order: `configMap:<name>` / `secret:<name>` (what localRun imports). */
    envFrom: string[];
    /**
     * The container's `env` entries, in order: a literal value, or the key of a ConfigMap/Secret
     * (`valueFrom`), resolved by localRun. Literal values are also in `env`.
     */
    envEntries: { name: string; value?: string; ref?: { kind: "configMap" | "secret"; name: string; key: string } }[];
    /** Literal `env` entries of the container. */
    env: Record<string, string>;
    /** mountPath → the ConfigMap it comes from, or "emptyDir". */
    mounts: Record<string, string>;
    /** Named container ports → containerPort (what a probe's `port: http` means). */
    ports: Record<string, number>;
    livenessProbe?: K8sObject;
    readinessProbe?: K8sObject;
    startupProbe?: K8sObject;
}

export interface TenantPods {
    stack: string;
    /** The tenant env: ConfigMap data + Secret stringData the backend containers are meant to import with envFrom. */
    envFrom: Record<string, string>;
    /** The data of every ConfigMap the program creates, by name (what a configMap volume or envFrom shows). */
    configMaps: Record<string, Record<string, string>>;
    /** The stringData of every Secret the program creates, by name. */
    secrets: Record<string, Record<string, string>>;
    /** The stringData of the env Secret alone (what a secretTargetRef reads). */
    secret: Record<string, string>;
    /** Every object the charts render with the program's values (ScaledObjects, TriggerAuthentication, ...). */
    objects: K8sObject[];
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
        envFrom: (c.envFrom ?? []).map((f: K8sObject) => {
            if (f.prefix) throw new Error(`${owner}: envFrom with a prefix is not emulated (tests/runtime/pods.ts)`);
            if (f.configMapRef) return `configMap:${f.configMapRef.name}`;
            if (f.secretRef) return `secret:${f.secretRef.name}`;
            throw new Error(`${owner}: envFrom ${JSON.stringify(f)} is not emulated (tests/runtime/pods.ts)`);
        }),
        envEntries: (c.env ?? []).map((e: K8sObject) => envEntry(owner, e)),
        env: Object.fromEntries(
            (c.env ?? []).filter((e: K8sObject) => e.value !== undefined).map((e: K8sObject) => [e.name, String(e.value)]),
        ),
        mounts: Object.fromEntries((c.volumeMounts ?? []).map((m: K8sObject) => [m.mountPath, volumes[m.name]])),
        ports: Object.fromEntries((c.ports ?? []).filter((p: K8sObject) => p.name).map((p: K8sObject) => [p.name, p.containerPort])),
        livenessProbe: c.livenessProbe,
        readinessProbe: c.readinessProbe,
        startupProbe: c.startupProbe,
    }));
}

function envEntry(owner: string, e: K8sObject): RenderedContainer["envEntries"][number] {
    if (e.value !== undefined || !e.valueFrom) return { name: e.name, value: String(e.value ?? "") };
    const { configMapKeyRef: cm, secretKeyRef: secret } = e.valueFrom;
    if (cm) return { name: e.name, ref: { kind: "configMap", name: cm.name, key: cm.key } };
    if (secret) return { name: e.name, ref: { kind: "secret", name: secret.name, key: secret.key } };
    throw new Error(`${owner}: env ${e.name} valueFrom ${JSON.stringify(e.valueFrom)} is not emulated (tests/runtime/pods.ts)`);
}

/**
 * Run the program for `stack` and render its charts the way the plan does. `celeryLiveness`, when
 * given, replaces the celery chart's livenessProbe values the program computed.
 */
export async function tenantPods(stack: string, options: RunOptions, celeryLiveness?: Record<string, unknown>): Promise<TenantPods> {
    const program = await runProgram(stack, { ...options, preview: false });
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
    return podsOf(stack, program, objects);
}

/** The backend pods among `objects` (what the charts of `program` render), with the ConfigMaps and Secrets the program creates. */
export function podsOf(stack: string, program: ProgramRun, objects: K8sObject[]): TenantPods {
    const dataOf = (kind: "ConfigMap" | "Secret") =>
        Object.fromEntries(
            program
                .ofType(`kubernetes:core/v1:${kind}`)
                .map((r) => [reveal(r.inputs.metadata).name, reveal(kind === "Secret" ? r.inputs.stringData : r.inputs.data) ?? {}]),
        ) as Record<string, Record<string, string>>;
    const configMaps = dataOf("ConfigMap");
    const secrets = dataOf("Secret");
    assert.ok(configMaps[ENV_CONFIGMAP], `${stack}: the program creates no ConfigMap ${ENV_CONFIGMAP}`);
    assert.ok(secrets[ENV_SECRET], `${stack}: the program creates no Secret ${ENV_SECRET}`);
    const pods = objects
        .filter((o) => o.kind === "Deployment" || o.kind === "Job")
        .flatMap((o) => containerOf(o.spec.template, `${o.kind}/${o.metadata.name}`));
    const byComponent = (test: (pod: string) => boolean) => pods.filter((c) => test(c.pod));
    const [api] = byComponent((p) => p === "Deployment/stock-backend-api");
    assert.ok(api, `${stack}: no API Deployment rendered`);
    return {
        stack,
        envFrom: { ...configMaps[ENV_CONFIGMAP], ...secrets[ENV_SECRET] },
        configMaps,
        secrets,
        secret: { ...secrets[ENV_SECRET] },
        objects,
        api,
        workers: byComponent((p) => p.startsWith("Deployment/stock-backend-celery-") && !p.endsWith("-beat")),
        beat: byComponent((p) => p.endsWith("-celery-beat"))[0],
        migration: byComponent((p) => p.startsWith("Job/"))[0],
    };
}

/**
 * The env the kubelet gives `container`: its envFrom sources in order, then its env entries (a
 * later one wins), exactly from the ConfigMaps and Secrets the program creates. A source the
 * program does not create fails, as the pod would not start (CreateContainerConfigError).
 */
export function containerEnv(pods: TenantPods, container: RenderedContainer): Record<string, string> {
    const source = (kind: "configMap" | "secret", name: string) => {
        const data = (kind === "configMap" ? pods.configMaps : pods.secrets)[name];
        assert.ok(data, `${pods.stack} ${container.pod}: ${kind} ${name} (envFrom/valueFrom) is not created by the program`);
        return data;
    };
    const env: Record<string, string> = {};
    for (const ref of container.envFrom) {
        const [kind, name] = ref.split(":") as ["configMap" | "secret", string];
        Object.assign(env, source(kind, name));
    }
    for (const e of container.envEntries) {
        if (!e.ref) env[e.name] = e.value ?? "";
        else {
            const value = source(e.ref.kind, e.ref.name)[e.ref.key];
            assert.ok(
                value !== undefined,
                `${pods.stack} ${container.pod}: env ${e.name}: ${e.ref.kind} ${e.ref.name} has no key ${e.ref.key}`,
            );
            env[e.name] = value;
        }
    }
    return env;
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
    /**
     * Where the pod's /tmp emptyDir lives on this machine (per tenant: it also holds the fixture's
     * SQLite database). Its parent directory holds the mounted ConfigMaps (configMapDir).
     */
    tmp: string;
    /** `--bind` of gunicorn: a free loopback address instead of 0.0.0.0:8080. */
    bind?: string;
}

/** Where the files of ConfigMap `name`, as a volume shows them, are on this machine (see mountConfigMaps). */
export function configMapDir(paths: LocalPaths, name: string): string {
    return path.join(path.dirname(paths.tmp), `configmap-${name}`);
}

/**
 * Write every ConfigMap the containers mount as the kubelet shows it: one read-only file per key,
 * with exactly the data the program put in the ConfigMap.
 */
export function mountConfigMaps(pods: TenantPods, containers: RenderedContainer[], paths: LocalPaths): string[] {
    const names = new Set(
        containers
            .flatMap((c) => Object.values(c.mounts))
            .filter((s) => s?.startsWith("configMap:"))
            .map((s) => s.slice(10)),
    );
    return [...names].map((name) => {
        const data = pods.configMaps[name];
        assert.ok(data, `${pods.stack}: a container mounts ConfigMap ${name}, which the program does not create`);
        const dir = configMapDir(paths, name);
        writeConfigMapVolume(dir, data);
        return dir;
    });
}

/**
 * The containers' volumes as the kubelet would make them: each ConfigMap they mount, and every
 * emptyDir they mount under /tmp (an empty directory). Returns the ConfigMaps' directories.
 */
export function mountVolumes(pods: TenantPods, containers: RenderedContainer[], paths: LocalPaths): string[] {
    const dirs = mountConfigMaps(pods, containers, paths);
    for (const c of containers)
        for (const [mountPath, source] of Object.entries(c.mounts))
            if (source === "emptyDir" && mountPath.startsWith("/tmp")) fs.mkdirSync(localize(c, mountPath, paths), { recursive: true });
    return dirs;
}

/**
 * A ConfigMap volume laid out as the kubelet writes it: the files in a timestamped directory,
 * `..data` a symlink to it, and each key a symlink `<key> -> ..data/<key>` (read-only files).
 */
export function writeConfigMapVolume(dir: string, data: Record<string, string>): void {
    const version = "..2026_12_01_00_00_00.000000001";
    fs.mkdirSync(path.join(dir, version), { recursive: true });
    for (const [file, content] of Object.entries(data)) {
        fs.writeFileSync(path.join(dir, version, file), content, { mode: 0o444 });
        fs.symlinkSync(path.join("..data", file), path.join(dir, file));
    }
    fs.symlinkSync(version, path.join(dir, "..data"));
}

/** The files of runtime/python, as the program puts them into ConfigMap stock-python-runtime. */
export function runtimeFiles(): Record<string, string> {
    return Object.fromEntries(
        fs
            .readdirSync(RUNTIME_DIR)
            .filter((f) => fs.statSync(path.join(RUNTIME_DIR, f)).isFile())
            .map((f) => [f, fs.readFileSync(path.join(RUNTIME_DIR, f), "utf8")]),
    );
}

/**
 * Container paths → local ones: /tmp (the emptyDir) and the mounted ConfigMaps (mountConfigMaps).
 * Every other path the command or env names must not exist in the container spec (asserted by the caller).
 */
export function localize(container: RenderedContainer, value: string, paths: LocalPaths): string {
    // /tmp first: the local directories put in below may themselves live under this machine's /tmp.
    let out = value.replace(/(^|[:=\s])\/tmp(?=\/|$|[:\s])/g, `$1${paths.tmp}`);
    for (const [mountPath, source] of Object.entries(container.mounts)) {
        if (source?.startsWith("configMap:")) out = out.split(mountPath).join(configMapDir(paths, source.slice(10)));
    }
    return out;
}

/** How to run `container` here: its command and exactly the env the pod would have. */
export function localRun(
    pods: TenantPods,
    container: RenderedContainer,
    paths: LocalPaths,
    extraEnv: Record<string, string | undefined> = {},
): LocalRun {
    const podEnv = containerEnv(pods, container);
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
