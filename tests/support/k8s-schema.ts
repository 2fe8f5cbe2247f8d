// Validation of rendered objects against the Kubernetes JSON schemas, with the
// model classes of kubernetes-models (ESM only, loaded with a real dynamic import).
//
// Note: kubernetes-models checks types, required fields and formats; like the
// OpenAPI schemas it comes from, it does not reject unknown fields.
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import { isKedaObject, kedaProblems } from "./keda-schema";

// ts-node compiles a literal import() to require() in a CommonJS setting, and
// require() cannot load ESM-only packages: keep a real dynamic import.
// eslint-disable-next-line @typescript-eslint/no-implied-eval
const dynamicImport = new Function("specifier", "return import(specifier)") as (specifier: string) => Promise<Record<string, unknown>>;

interface ModelClass {
    new (data: object): { validate(): void };
}

/**
 * apiVersion + kind → module of kubernetes-models. Only the kinds our charts
 * render (and a few close relatives) are listed: any other kind is an error, so
 * that an unexpected object (a CRD other than KEDA's, which keda-schema.ts checks; a typo in apiVersion) fails the tests.
 */
const MODELS: Record<string, string> = {
    "v1/ConfigMap": "v1/ConfigMap",
    "v1/Secret": "v1/Secret",
    "v1/Service": "v1/Service",
    "v1/ServiceAccount": "v1/ServiceAccount",
    "v1/Namespace": "v1/Namespace",
    "v1/Pod": "v1/Pod",
    "apps/v1/Deployment": "apps/v1/Deployment",
    "apps/v1/StatefulSet": "apps/v1/StatefulSet",
    "apps/v1/DaemonSet": "apps/v1/DaemonSet",
    "batch/v1/Job": "batch/v1/Job",
    "batch/v1/CronJob": "batch/v1/CronJob",
    "networking.k8s.io/v1/Ingress": "networking.k8s.io/v1/Ingress",
    "networking.k8s.io/v1/NetworkPolicy": "networking.k8s.io/v1/NetworkPolicy",
    "policy/v1/PodDisruptionBudget": "policy/v1/PodDisruptionBudget",
    "autoscaling/v2/HorizontalPodAutoscaler": "autoscaling/v2/HorizontalPodAutoscaler",
    "rbac.authorization.k8s.io/v1/Role": "rbac.authorization.k8s.io/v1/Role",
    "rbac.authorization.k8s.io/v1/RoleBinding": "rbac.authorization.k8s.io/v1/RoleBinding",
};

const cache = new Map<string, Promise<ModelClass>>();

async function importModel(modulePath: string, kind: string): Promise<ModelClass> {
    let mod: Record<string, unknown>;
    try {
        mod = await dynamicImport(`kubernetes-models/${modulePath}`);
    } catch {
        // Resolution of a bare specifier from a Function body can depend on the
        // loader; fall back to the file itself.
        const file = path.resolve(__dirname, "..", "..", "node_modules", "kubernetes-models", `${modulePath}.js`);
        mod = await dynamicImport(pathToFileURL(file).href);
    }
    const cls = mod[kind];
    if (typeof cls !== "function") throw new Error(`kubernetes-models/${modulePath} exports no ${kind}`);
    return cls as unknown as ModelClass;
}

/** The model class of apiVersion/kind; throws for a kind that is not known. */
export function modelFor(apiVersion: string, kind: string): Promise<ModelClass> {
    const key = `${apiVersion}/${kind}`;
    const modulePath = MODELS[key];
    if (!modulePath) return Promise.reject(new Error(`unknown kind ${key}: no kubernetes-models class is mapped for it`));
    let p = cache.get(key);
    if (!p) {
        p = importModel(modulePath, kind);
        cache.set(key, p);
    }
    return p;
}

function describe(obj: { apiVersion?: unknown; kind?: unknown; metadata?: { name?: unknown } }): string {
    return `${String(obj.apiVersion)} ${String(obj.kind)} ${String(obj.metadata?.name)}`;
}

/** Validates one object; throws an Error naming the object and the schema violations. */
export async function validateObject(obj: { apiVersion?: unknown; kind?: unknown; metadata?: { name?: unknown } }): Promise<void> {
    if (typeof obj !== "object" || obj === null) throw new Error(`not an object: ${JSON.stringify(obj)}`);
    if (typeof obj.apiVersion !== "string" || typeof obj.kind !== "string")
        throw new Error(`object without apiVersion/kind: ${JSON.stringify(obj).slice(0, 200)}`);
    // KEDA's kinds are CRDs, which kubernetes-models does not have: their own CRD schemas check them.
    if (isKedaObject(obj)) {
        const problems = kedaProblems(obj);
        if (problems.length) throw new Error(`${describe(obj)} does not match KEDA's CRD schema: ${problems.join("; ")}`);
        return;
    }
    const Model = await modelFor(obj.apiVersion, obj.kind);
    try {
        new Model(obj).validate();
    } catch (e) {
        throw new Error(`${describe(obj)} does not match the Kubernetes schema: ${(e as Error).message}`, { cause: e });
    }
}

/** Validates every object; throws one Error listing every failure. */
export async function validateObjects(
    objs: ReadonlyArray<{ apiVersion?: unknown; kind?: unknown; metadata?: { name?: unknown } }>,
): Promise<void> {
    const results = await Promise.allSettled(objs.map((o) => validateObject(o)));
    const failures = results.flatMap((r) => (r.status === "rejected" ? [(r.reason as Error).message] : []));
    if (failures.length) throw new Error(`${failures.length} object(s) failed validation:\n- ${failures.join("\n- ")}`);
}
