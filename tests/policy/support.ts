/**
 * Runs the pack's policies the way the @pulumi/policy analyzer server (server.js, 1.21.0) does,
 * without starting it: resource policies per resource with ResourceValidationArgs, stack policies
 * once with StackValidationArgs, properties wrapped in the SDK's unknown-checking proxy (an
 * UnknownValueError becomes an advisory "can't run during preview"), the policy config handed to
 * `getConfig()`, `notApplicable()` recorded. Also turns what the mock runner (tools/lib/mock-run.ts)
 * records and what helm renders into the resources the engine would hand the analyzer.
 */
import type {
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
} from "@pulumi/policy";
import { policies as packPolicies } from "../../policy/policies";
import { K8sObject } from "../../tools/lib/helm";
import { RecordedResource, UNKNOWN, reveal } from "../../tools/lib/mock-run";

// The SDK exports these two at runtime (index.js) but its proxy.d.ts declares nothing: type them here.

const sdk = require("@pulumi/policy") as {
    unknownCheckingProxy: <T>(value: T) => T;
    UnknownValueError: new (...args: never[]) => Error;
};
const { unknownCheckingProxy, UnknownValueError } = sdk;

/** A resource as the engine hands it to the analyzer: type, name, URN, plain (unwrapped) properties. */
export interface InputResource {
    type: string;
    name: string;
    urn: string;

    props: Record<string, any>;
    parent?: string;
}

export interface Diagnostic {
    policy: string;
    message: string;
    urn: string;
    level: "mandatory" | "advisory";
}

export interface AnalyzeResult {
    diagnostics: Diagnostic[];
    mandatory: Diagnostic[];
    advisory: Diagnostic[];
    notApplicable: Array<{ policy: string; reason: string }>;
}

export interface AnalyzeOptions {
    /** Policy config by policy name, as `--policy-pack-config` would give it. */
    config?: Record<string, Record<string, unknown>>;
    /** The stack config the engine passes the pack process as PULUMI_CONFIG (decrypted); none by default. */
    stackConfig?: Record<string, string>;
    policies?: Array<ResourceValidationPolicy | StackValidationPolicy>;
}

class NotApplicable extends Error {
    constructor(readonly reason: string) {
        super(reason);
    }
}

const throwNotApplicable = (reason?: string): never => {
    throw new NotApplicable(reason ?? "");
};

function isStackPolicy(p: ResourceValidationPolicy | StackValidationPolicy): p is StackValidationPolicy {
    return typeof (p as StackValidationPolicy).validateStack === "function";
}

const NO_OPTIONS = {
    protect: false,
    ignoreChanges: [],
    aliases: [],
    additionalSecretOutputs: [],
    customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
};

/** ResourceValidationArgs as server.js builds them. */
export function resourceArgs(r: InputResource, config: Record<string, unknown> = {}): ResourceValidationArgs {
    const props = unknownCheckingProxy(structuredClone(r.props));
    return {
        type: r.type,
        props,
        urn: r.urn,
        name: r.name,
        opts: { ...NO_OPTIONS, parent: r.parent },
        stackTags: new Map(),
        isType: () => false,
        asType: () => undefined,
        getConfig: <T extends object>() => ({ ...config }) as T,
        notApplicable: throwNotApplicable,
    };
}

/** StackValidationArgs as server.js builds them (parents linked by URN). */
export function stackArgs(resources: readonly InputResource[], config: Record<string, unknown> = {}): StackValidationArgs {
    const byUrn = new Map<string, PolicyResource>();
    const list: PolicyResource[] = resources.map((r) => {
        const pr: PolicyResource = {
            type: r.type,
            props: unknownCheckingProxy(structuredClone(r.props)),
            urn: r.urn,
            name: r.name,
            opts: { ...NO_OPTIONS, parent: r.parent },
            dependencies: [],
            propertyDependencies: {},
            isType: () => false,
            asType: () => undefined,
        };
        byUrn.set(r.urn, pr);
        return pr;
    });
    resources.forEach((r, i) => {
        const parent = r.parent ? byUrn.get(r.parent) : undefined;
        if (parent) list[i].parent = parent;
    });
    return {
        resources: list,
        stackTags: new Map(),
        getConfig: <T extends object>() => ({ ...config }) as T,
        notApplicable: throwNotApplicable,
    };
}

/** Runs every (or the given) policy over the resources; see the module comment. */
export async function analyze(resources: readonly InputResource[], options: AnalyzeOptions = {}): Promise<AnalyzeResult> {
    const diagnostics: Diagnostic[] = [];
    const notApplicable: AnalyzeResult["notApplicable"] = [];
    const config = options.config ?? {};
    const run = async (policy: string, urn: string, fn: (report: ReportViolation) => unknown) => {
        const report: ReportViolation = (message: string, violationUrn?: string) =>
            diagnostics.push({ policy, message, urn: violationUrn ?? urn, level: "mandatory" });
        try {
            await fn(report);
        } catch (e) {
            if (e instanceof UnknownValueError)
                diagnostics.push({ policy, message: `can't run policy '${policy}' during preview: ${e.message}`, urn, level: "advisory" });
            else if (e instanceof NotApplicable) notApplicable.push({ policy, reason: e.reason });
            else throw e;
        }
    };
    for (const p of options.policies ?? packPolicies) {
        const level = (config[p.name]?.enforcementLevel as string | undefined) ?? p.enforcementLevel;
        if (level === "disabled") continue;
        if (isStackPolicy(p)) {
            const args = stackArgs(resources, config[p.name]);
            await run(p.name, "", (report) => {
                // The pack process gets the stack config in its environment: set it only while the
                // (synchronous) validation runs.
                const saved = process.env.PULUMI_CONFIG;
                if (options.stackConfig) process.env.PULUMI_CONFIG = JSON.stringify(options.stackConfig);
                else delete process.env.PULUMI_CONFIG;
                try {
                    return p.validateStack(args, report);
                } finally {
                    if (saved === undefined) delete process.env.PULUMI_CONFIG;
                    else process.env.PULUMI_CONFIG = saved;
                }
            });
            continue;
        }
        const validations =
            p.validateResource === undefined ? [] : Array.isArray(p.validateResource) ? p.validateResource : [p.validateResource];
        for (const r of resources) {
            for (const validate of validations) {
                await run(p.name, r.urn, (report) => validate(resourceArgs(r, config[p.name]), report));
            }
        }
    }
    const levels = (l: Diagnostic["level"]) => diagnostics.filter((d) => d.level === l);
    return { diagnostics, mandatory: levels("mandatory"), advisory: levels("advisory"), notApplicable };
}

/** One line per diagnostic, for assertion messages. */
export function explain(result: AnalyzeResult | Diagnostic[]): string {
    const list = Array.isArray(result) ? result : result.diagnostics;
    return list.map((d) => `[${d.level}] ${d.policy}: ${d.message}`).join("\n") || "(none)";
}

// ---------------------------------------------------------------------------------------------
// From the mock runner (tools/lib/mock-run.ts) and helm to analyzer resources
// ---------------------------------------------------------------------------------------------

/** Recorded inputs as the analyzer sees them: secrets unwrapped, unknowns as the engine's sentinel. */

export function analyzerValue(value: any): any {
    const v = reveal(value);
    return normaliseUnknowns(v);
}

function normaliseUnknowns(v: any): any {
    if (v && typeof v === "object" && v.__pulumiUnknown === true) return UNKNOWN;
    if (Array.isArray(v)) return v.map(normaliseUnknowns);
    if (v && typeof v === "object")
        return Object.fromEntries(
            Object.entries(v)
                .filter(([, x]) => x !== undefined)
                .map(([k, x]) => [k, normaliseUnknowns(x)]),
        );
    return v;
}

export function fromRecorded(r: RecordedResource): InputResource {
    return { type: r.type, name: r.name, urn: r.urn, props: analyzerValue(r.inputs), parent: r.parent || undefined };
}

/** `kubernetes:<group|core>/<version>:<Kind>` of a Kubernetes object. */
export function pulumiType(obj: Pick<K8sObject, "apiVersion" | "kind">): string {
    const [group, version] = obj.apiVersion.includes("/") ? obj.apiVersion.split("/") : ["core", obj.apiVersion];
    return `kubernetes:${group}/${version}:${obj.kind}`;
}

const CLUSTER_SCOPED = new Set([
    "Namespace",
    "ClusterRole",
    "ClusterRoleBinding",
    "CustomResourceDefinition",
    "PersistentVolume",
    "StorageClass",
    "IngressClass",
    "PriorityClass",
]);

/**
 * A rendered chart object as helm.v4.Chart registers it: a child of the Chart component, named
 * `<chart resource>:<namespace>/<name>`, in the release namespace unless it names its own.
 */
export function fromRendered(obj: K8sObject, chart: RecordedResource, namespace: string): InputResource {
    const props = structuredClone(obj);
    if (!CLUSTER_SCOPED.has(obj.kind) && !props.metadata.namespace) props.metadata.namespace = namespace;
    const type = pulumiType(obj);
    const name = `${chart.name}:${props.metadata.namespace ? `${props.metadata.namespace}/` : ""}${props.metadata.name}`;
    const qualified = `${chart.urn.split("::")[2]}$${type}`;
    const urn = `${chart.urn.split("::").slice(0, 2).join("::")}::${qualified}::${name}`;
    return { type, name, urn, props, parent: chart.urn };
}
