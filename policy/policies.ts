/**
 * The stock-deploy guardrails: CrossGuard policies over the resources a stack registers.
 *
 * This module only exports data and pure functions; it never constructs the PolicyPack (index.ts
 * does, and only the analyzer process may: the constructor starts a gRPC server). Tests import
 * the policies and the check functions from here.
 *
 * The pack reads resources only and knows nothing of the program: which namespaces are tenants,
 * which registry is allowed and which namespaces are system namespaces all come from the policy
 * config (defaults below), and a tenant namespace is recognised by its label.
 *
 * Values the engine cannot know yet (during `pulumi preview`) make the resource policies throw the
 * SDK's UnknownValueError when they read them; the SDK then reports "can't run during preview"
 * (advisory) and the same policy runs again, with the values known, during `pulumi up`.
 */
import type {
    PolicyConfigSchema, PolicyResource, ReportViolation, ResourceValidationArgs, ResourceValidationPolicy,
    StackValidationArgs, StackValidationPolicy,
} from "@pulumi/policy";

/** The pack's name (`pulumi preview --policy-pack ./policy` reports violations under it). */
export const PACK_NAME = "stock-deploy-guardrails";

// ---------------------------------------------------------------------------------------------
// Defaults of the policy config (policy/config.json repeats them; `--policy-pack-config` overrides)
// ---------------------------------------------------------------------------------------------

/** `host[:port]/project/` prefixes images may come from: the cluster's Harbor. */
export const DEFAULT_ALLOWED_REGISTRIES = ["harbor.feng.local:9800/library/"];
/**
 * Namespaces whose images may come from elsewhere. `redis`: the shared Bitnami Redis is installed
 * from the upstream OCI chart, whose images come from docker.io (bitnamilegacy/redis); the chart
 * is pinned to an exact version and the image to an exact tag.
 */
export const DEFAULT_IMAGE_EXEMPT_NAMESPACES = ["redis"];
/** Namespaces that are not tenants: everything else is a tenant namespace. */
export const DEFAULT_SYSTEM_NAMESPACES = ["redis", "kube-system", "ingress-nginx", "cert-manager"];
/** The label that marks a Namespace as a tenant's (its value is the tenant). */
export const DEFAULT_TENANT_LABEL = "stock-deploy/tenant";
/** ConfigMap keys and literal env var names that look like credentials (case-insensitive). */
export const DEFAULT_CREDENTIAL_KEY_PATTERN = "PASSWORD|PASSWD|PWD|TOKEN|SECRET|_KEY$";
/**
 * ... unless they point at one rather than hold it (the Bitnami Redis chart sets
 * REDIS_PASSWORD_FILE=/opt/bitnami/redis/secrets/redis-password).
 */
export const DEFAULT_CREDENTIAL_KEY_EXCLUDE = "(_FILE|_PATH|_DIR)$";
/** Literal env values that are flags, not credentials (ALLOW_EMPTY_PASSWORD=no). */
const FLAG_VALUE = /^(yes|no|true|false|on|off|0|1)$/i;
/** Stack config keys (the part after `project:`) whose values are credentials (case-insensitive). */
export const DEFAULT_SECRET_CONFIG_KEY_PATTERN = "password|passwd|pwd|token|secret|private_?key|api_?key|credential";
/** ... unless the key names something rather than holding it (`pullSecretName`, `tokenFile`). */
export const DEFAULT_SECRET_CONFIG_KEY_EXCLUDE = "(name|names|ref|path|file|id|ids)$";
/** Where credentials from stack config may legitimately end up: `<type>` or `<type>:<property path>`. */
export const DEFAULT_SECRET_SINKS = [
    "kubernetes:core/v1:Secret",
    "docker:index/image:Image:registry.password",
    "docker:index/image:Image:build.args",
];
/** Shorter config values are not searched for (too likely to occur by chance). */
export const DEFAULT_SECRET_MIN_LENGTH = 8;

// ---------------------------------------------------------------------------------------------
// Resource model
// ---------------------------------------------------------------------------------------------

// Resource properties are whatever the program (or a chart) declared: untyped on purpose.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Props = Record<string, any>;

/** What the checks need to know of a resource (a subset of ResourceValidationArgs / PolicyResource). */
export interface ResourceView {
    type: string;
    name: string;
    urn?: string;
    props: Props;
}

export interface Finding {
    message: string;
    /** The resource at fault (stack policies); resource policies report against the resource validated. */
    urn?: string;
}

const t = (group: string, version: string, kind: string) => `kubernetes:${group ? `${group}/` : "core/"}${version}:${kind}`;

export const TYPES = {
    namespace: t("", "v1", "Namespace"),
    service: t("", "v1", "Service"),
    configMap: t("", "v1", "ConfigMap"),
    secret: t("", "v1", "Secret"),
    pod: t("", "v1", "Pod"),
    replicationController: t("", "v1", "ReplicationController"),
    deployment: t("apps", "v1", "Deployment"),
    statefulSet: t("apps", "v1", "StatefulSet"),
    daemonSet: t("apps", "v1", "DaemonSet"),
    replicaSet: t("apps", "v1", "ReplicaSet"),
    job: t("batch", "v1", "Job"),
    cronJob: t("batch", "v1", "CronJob"),
    networkPolicy: t("networking.k8s.io", "v1", "NetworkPolicy"),
    dockerImage: "docker:index/image:Image",
} as const;

/** Where each workload type keeps its pod spec. */
export const POD_SPEC_PATHS: Readonly<Record<string, readonly string[]>> = {
    [TYPES.deployment]: ["spec", "template", "spec"],
    [TYPES.statefulSet]: ["spec", "template", "spec"],
    [TYPES.daemonSet]: ["spec", "template", "spec"],
    [TYPES.replicaSet]: ["spec", "template", "spec"],
    [TYPES.replicationController]: ["spec", "template", "spec"],
    [TYPES.job]: ["spec", "template", "spec"],
    [TYPES.cronJob]: ["spec", "jobTemplate", "spec", "template", "spec"],
    [TYPES.pod]: ["spec"],
};

export function isWorkload(type: string): boolean {
    return type in POD_SPEC_PATHS;
}

/** `Kind` of a `kubernetes:<group>/<version>:<Kind>` type (`Image` of `docker:index/image:Image`). */
export function kindOf(type: string): string {
    return type.slice(type.lastIndexOf(":") + 1);
}

/** The namespace a namespaced object lands in: its own, or `default` (the provider's default). */
export function namespaceOf(props: Props): string {
    const ns = props?.metadata?.namespace;
    return typeof ns === "string" && ns !== "" ? ns : "default";
}

/** `Deployment client-a/stock-backend-api` (metadata.name when set, else the Pulumi name). */
export function describe(r: ResourceView, withNamespace = true): string {
    const name = typeof r.props?.metadata?.name === "string" ? r.props.metadata.name : r.name;
    return withNamespace ? `${kindOf(r.type)} ${namespaceOf(r.props)}/${name}` : `${kindOf(r.type)} ${name}`;
}

export interface ContainerView {
    /** `container "api"` or `init container "wait"`. */
    label: string;
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    spec: Record<string, any>;
}

/** The pod spec of a workload, or undefined for other types. */
export function podSpecOf(r: ResourceView): Props | undefined {
    const path = POD_SPEC_PATHS[r.type];
    if (!path) return undefined;
    let cur: unknown = r.props;
    for (const key of path) {
        if (cur === null || typeof cur !== "object") return undefined;
        cur = (cur as Props)[key];
    }
    return cur !== null && typeof cur === "object" ? (cur as Props) : undefined;
}

export function containersOf(podSpec: Props): ContainerView[] {
    const list = (key: string, what: string): ContainerView[] =>
        (Array.isArray(podSpec[key]) ? podSpec[key] : []).map((c: Props, i: number) => ({
            label: `${what} "${typeof c?.name === "string" ? c.name : `#${i}`}"`,
            spec: c ?? {},
        }));
    return [...list("initContainers", "init container"), ...list("containers", "container")];
}

function podSpecPath(type: string): string {
    return (POD_SPEC_PATHS[type] ?? ["spec"]).join(".");
}

// ---------------------------------------------------------------------------------------------
// Image references
// ---------------------------------------------------------------------------------------------

export interface ImageRef {
    /** Everything before the tag/digest: `harbor.feng.local:9800/library/stock_backend`. */
    name: string;
    tag?: string;
    digest?: string;
}

/** Splits `host[:port]/path[:tag][@digest]`; a `:` before the last `/` is a port, not a tag. */
export function parseImageRef(ref: string): ImageRef {
    const at = ref.indexOf("@");
    const digest = at >= 0 ? ref.slice(at + 1) : undefined;
    const rest = at >= 0 ? ref.slice(0, at) : ref;
    const colon = rest.lastIndexOf(":");
    const tag = colon > rest.lastIndexOf("/") ? rest.slice(colon + 1) : undefined;
    return { name: tag === undefined ? rest : rest.slice(0, colon), tag, digest };
}

const DIGEST = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[0-9a-f]{32,}$/;

/** Why an image reference is not pinned, or undefined when it is (a digest, or a tag other than latest). */
export function unpinnedReason(ref: string): string | undefined {
    if (ref.trim() === "") return "has no image";
    const { tag, digest } = parseImageRef(ref);
    if (digest !== undefined) return DIGEST.test(digest) ? undefined : `has a malformed digest "@${digest}"`;
    if (tag === undefined || tag === "") return "has no tag, which means :latest";
    if (tag === "latest") return "uses the mutable tag :latest";
    return undefined;
}

/** `nginx` → `docker.io/library/nginx`: what the runtime pulls for a reference without a registry host. */
export function fullyQualified(ref: string): string {
    const first = ref.split("/")[0];
    const hasHost = ref.includes("/") && (first.includes(".") || first.includes(":") || first === "localhost");
    if (hasHost) return ref;
    return ref.includes("/") ? `docker.io/${ref}` : `docker.io/library/${ref}`;
}

function normalisePrefix(prefix: string): string {
    return prefix.endsWith("/") ? prefix : `${prefix}/`;
}

export function fromAllowedRegistry(ref: string, allowed: readonly string[]): boolean {
    return allowed.map(normalisePrefix).some((p) => ref.startsWith(p) || fullyQualified(ref).startsWith(p));
}

// ---------------------------------------------------------------------------------------------
// Config
// ---------------------------------------------------------------------------------------------

const stringList = (description: string, defaults: readonly string[]) => ({
    type: "array" as const, items: { type: "string" as const }, default: [...defaults], description,
});

function listConfig(value: unknown, fallback: readonly string[]): string[] {
    return Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [...fallback];
}

function stringConfig(value: unknown, fallback: string): string {
    return typeof value === "string" && value !== "" ? value : fallback;
}

export interface ImageConfig { allowedRegistries: string[]; exemptNamespaces: string[] }
export interface WorkloadConfig { exemptNamespaces: string[] }
export interface ServiceConfig { systemNamespaces: string[] }
export interface NetworkConfig { tenantLabel: string }
export interface CredentialConfig { credentialKeyPattern: string; credentialKeyExclude: string; allowedKeys: string[] }
export interface StackSecretConfig {
    secretKeyPattern: string;
    secretKeyExclude: string;
    secretConfigKeys: string[];
    sinks: string[];
    minLength: number;
}

export function imageConfig(raw: Partial<ImageConfig> = {}): ImageConfig {
    return {
        allowedRegistries: listConfig(raw.allowedRegistries, DEFAULT_ALLOWED_REGISTRIES),
        exemptNamespaces: listConfig(raw.exemptNamespaces, DEFAULT_IMAGE_EXEMPT_NAMESPACES),
    };
}
export function workloadConfig(raw: Partial<WorkloadConfig> = {}): WorkloadConfig {
    return { exemptNamespaces: listConfig(raw.exemptNamespaces, []) };
}
export function serviceConfig(raw: Partial<ServiceConfig> = {}): ServiceConfig {
    return { systemNamespaces: listConfig(raw.systemNamespaces, DEFAULT_SYSTEM_NAMESPACES) };
}
export function networkConfig(raw: Partial<NetworkConfig> = {}): NetworkConfig {
    return { tenantLabel: stringConfig(raw.tenantLabel, DEFAULT_TENANT_LABEL) };
}
export function credentialConfig(raw: Partial<CredentialConfig> = {}): CredentialConfig {
    return {
        credentialKeyPattern: stringConfig(raw.credentialKeyPattern, DEFAULT_CREDENTIAL_KEY_PATTERN),
        credentialKeyExclude: stringConfig(raw.credentialKeyExclude, DEFAULT_CREDENTIAL_KEY_EXCLUDE),
        allowedKeys: listConfig(raw.allowedKeys, []),
    };
}
export function stackSecretConfig(raw: Partial<StackSecretConfig> = {}): StackSecretConfig {
    return {
        secretKeyPattern: stringConfig(raw.secretKeyPattern, DEFAULT_SECRET_CONFIG_KEY_PATTERN),
        secretKeyExclude: stringConfig(raw.secretKeyExclude, DEFAULT_SECRET_CONFIG_KEY_EXCLUDE),
        secretConfigKeys: listConfig(raw.secretConfigKeys, []),
        sinks: listConfig(raw.sinks, DEFAULT_SECRET_SINKS),
        minLength: typeof raw.minLength === "number" && raw.minLength > 0 ? raw.minLength : DEFAULT_SECRET_MIN_LENGTH,
    };
}

const workloadSchema: PolicyConfigSchema = {
    properties: {
        exemptNamespaces: stringList("Namespaces whose workloads this policy skips (none by default).", []),
    },
};

// ---------------------------------------------------------------------------------------------
// 1. Workloads: non-root, resource limits, pinned images
// ---------------------------------------------------------------------------------------------

/** Every container runs as non-root: runAsNonRoot true (pod or container level), never runAsUser 0. */
export function checkRunsAsNonRoot(r: ResourceView, config: WorkloadConfig = workloadConfig()): string[] {
    const pod = podSpecOf(r);
    if (!pod || config.exemptNamespaces.includes(namespaceOf(r.props))) return [];
    const podCtx: Props = pod.securityContext ?? {};
    const at = podSpecPath(r.type);
    const out: string[] = [];
    for (const c of containersOf(pod)) {
        const ctx: Props = c.spec.securityContext ?? {};
        const nonRoot = ctx.runAsNonRoot ?? podCtx.runAsNonRoot;
        const user = ctx.runAsUser ?? podCtx.runAsUser;
        if (nonRoot !== true) {
            out.push(`${describe(r)}: ${c.label} may run as root: runAsNonRoot is ${nonRoot === false ? "false" : "not set"} in both ${at}.securityContext and the container's securityContext. ` +
                "Fix: set securityContext.runAsNonRoot: true and a non-zero runAsUser (chart values podSecurityContext / containerSecurityContext).");
        }
        if (user === 0 || user === "0") {
            out.push(`${describe(r)}: ${c.label} runs as root: runAsUser is 0${ctx.runAsUser === undefined ? ` (from ${at}.securityContext)` : ""}. ` +
                "Fix: set runAsUser to the image's unprivileged uid (e.g. 1000) and runAsNonRoot: true.");
        }
    }
    return out;
}

function present(v: unknown): boolean {
    return v !== undefined && v !== null && String(v).trim() !== "";
}

/** Every container (init containers included) has cpu and memory limits. */
export function checkResourceLimits(r: ResourceView, config: WorkloadConfig = workloadConfig()): string[] {
    const pod = podSpecOf(r);
    if (!pod || config.exemptNamespaces.includes(namespaceOf(r.props))) return [];
    const out: string[] = [];
    for (const c of containersOf(pod)) {
        const limits: Props = c.spec.resources?.limits ?? {};
        const missing = ["cpu", "memory"].filter((k) => !present(limits[k]));
        if (missing.length > 0) {
            out.push(`${describe(r)}: ${c.label} has no ${missing.join(" and no ")} limit (resources.limits). ` +
                `Fix: set resources.limits.${missing.join(" and resources.limits.")} (and requests) for this container in the chart values.`);
        }
    }
    return out;
}

/** Every image is pinned: a digest, or a tag other than `latest`; docker images are pushed under such a tag. */
export function checkImagesPinned(r: ResourceView, config: WorkloadConfig = workloadConfig()): string[] {
    if (r.type === TYPES.dockerImage) {
        const ref = String(r.props.imageName ?? "");
        const reason = unpinnedReason(ref);
        // A push needs a tag; a digest is only known after the push.
        return reason ? [`${describe(r, false)}: imageName "${ref}" ${reason}. Fix: push under an immutable tag (e.g. a content hash), never :latest.`] : [];
    }
    const pod = podSpecOf(r);
    if (!pod || config.exemptNamespaces.includes(namespaceOf(r.props))) return [];
    const out: string[] = [];
    for (const c of containersOf(pod)) {
        const ref = typeof c.spec.image === "string" ? c.spec.image : "";
        const reason = unpinnedReason(ref);
        if (reason) {
            out.push(`${describe(r)}: ${c.label} image "${ref}" ${reason}. ` +
                "Fix: set image.tag to an immutable tag (the program's content-hash tag) or image.digest to sha256:...; never latest or an empty tag.");
        }
    }
    return out;
}

// ---------------------------------------------------------------------------------------------
// 2. Registries
// ---------------------------------------------------------------------------------------------

/** Images come only from the allowed registries (system namespaces in `exemptNamespaces` excepted). */
export function checkAllowedRegistry(r: ResourceView, config: ImageConfig = imageConfig()): string[] {
    const allowed = config.allowedRegistries;
    const list = allowed.map((p) => `"${normalisePrefix(p)}"`).join(", ");
    if (r.type === TYPES.dockerImage) {
        const ref = String(r.props.imageName ?? "");
        return fromAllowedRegistry(ref, allowed) ? [] : [
            `${describe(r, false)}: imageName "${ref}" is not pushed to an allowed registry (${list}). Fix: set stock:harborServer / stock:harborProject to the cluster's Harbor, or add the registry to allowedRegistries in the policy config.`,
        ];
    }
    const pod = podSpecOf(r);
    if (!pod || config.exemptNamespaces.includes(namespaceOf(r.props))) return [];
    const out: string[] = [];
    for (const c of containersOf(pod)) {
        const ref = typeof c.spec.image === "string" ? c.spec.image : "";
        if (!fromAllowedRegistry(ref, allowed)) {
            const resolved = fullyQualified(ref) !== ref ? ` (pulled as ${fullyQualified(ref)})` : "";
            out.push(`${describe(r)}: ${c.label} image "${ref}"${resolved} is not from an allowed registry (${list}). ` +
                `Fix: push the image to Harbor and reference it as <harbor>/<project>/<repository>:<tag>; a system namespace can be exempted with exemptNamespaces in the policy config.`);
        }
    }
    return out;
}

// ---------------------------------------------------------------------------------------------
// 3. Services
// ---------------------------------------------------------------------------------------------

const EXTERNAL_SERVICE_TYPES = ["LoadBalancer", "NodePort"];

/** No LoadBalancer/NodePort Service (nor externalIPs) in a tenant namespace (= not a system namespace). */
export function checkNoExternalService(r: ResourceView, config: ServiceConfig = serviceConfig()): string[] {
    if (r.type !== TYPES.service) return [];
    const ns = namespaceOf(r.props);
    if (config.systemNamespaces.includes(ns)) return [];
    const spec: Props = r.props.spec ?? {};
    const out: string[] = [];
    const fix = "External traffic enters only through the ingress controller (behind the external nginx load balancer). " +
        "Fix: use service.type ClusterIP and expose the app with an Ingress.";
    if (EXTERNAL_SERVICE_TYPES.includes(spec.type)) {
        out.push(`${describe(r)} is of type ${spec.type} in tenant namespace ${ns}. ${fix}`);
    }
    if (Array.isArray(spec.externalIPs) && spec.externalIPs.length > 0) {
        out.push(`${describe(r)} sets externalIPs (${spec.externalIPs.join(", ")}) in tenant namespace ${ns}. ${fix}`);
    }
    return out;
}

// ---------------------------------------------------------------------------------------------
// 4. Default-deny NetworkPolicy per tenant namespace (stack policy)
// ---------------------------------------------------------------------------------------------

function isEmptySelector(selector: unknown): boolean {
    if (selector === undefined || selector === null) return false; // podSelector is required; absent is not "all pods"
    if (typeof selector !== "object") return false;
    const s = selector as Props;
    const labels = s.matchLabels ?? {};
    const exprs = s.matchExpressions ?? [];
    return Object.keys(s).every((k) => k === "matchLabels" || k === "matchExpressions") &&
        typeof labels === "object" && Object.keys(labels).length === 0 && Array.isArray(exprs) && exprs.length === 0;
}

/** Why a NetworkPolicy is not a default-deny of all ingress and egress, or undefined when it is. */
export function notDefaultDenyReason(props: Props): string | undefined {
    const spec: Props = props.spec ?? {};
    if (!isEmptySelector(spec.podSelector)) return "its podSelector is not {} (it does not select every pod)";
    const types: unknown[] = Array.isArray(spec.policyTypes) ? spec.policyTypes : [];
    const missing = ["Ingress", "Egress"].filter((x) => !types.includes(x));
    if (missing.length > 0) return `its policyTypes lack ${missing.join(" and ")}`;
    const rules = ["ingress", "egress"].filter((k) => Array.isArray(spec[k]) ? spec[k].length > 0 : spec[k] !== undefined && spec[k] !== null);
    if (rules.length > 0) return `it has ${rules.join(" and ")} rules (allows traffic)`;
    return undefined;
}

/** Every Namespace labelled as a tenant has a default-deny NetworkPolicy in it. */
export function checkTenantDefaultDeny(resources: readonly ResourceView[], config: NetworkConfig = networkConfig()): Finding[] {
    const label = config.tenantLabel;
    const policies = resources.filter((r) => r.type === TYPES.networkPolicy);
    const out: Finding[] = [];
    for (const ns of resources.filter((r) => r.type === TYPES.namespace)) {
        const labels: Props = ns.props.metadata?.labels ?? {};
        if (!(label in labels)) continue;
        const name: string = typeof ns.props.metadata?.name === "string" ? ns.props.metadata.name : ns.name;
        const inNs = policies.filter((p) => p.props.metadata?.namespace === name);
        if (inNs.some((p) => notDefaultDenyReason(p.props) === undefined)) continue;
        const seen = inNs.length === 0
            ? "it has no NetworkPolicy at all"
            : `its NetworkPolicies are not default-deny: ${inNs.map((p) => `${p.props.metadata?.name ?? p.name}: ${notDefaultDenyReason(p.props)}`).join("; ")}`;
        out.push({
            urn: ns.urn,
            message: `Tenant Namespace ${name} (label ${label}=${labels[label]}) has no default-deny NetworkPolicy: ${seen}. ` +
                `Fix: add a NetworkPolicy in namespace ${name} with spec {podSelector: {}, policyTypes: [Ingress, Egress]} and no ingress/egress rules; the charts' own NetworkPolicies then allow only what each workload needs.`,
        });
    }
    return out;
}

// ---------------------------------------------------------------------------------------------
// 5. Credentials: never where they are stored in plaintext
// ---------------------------------------------------------------------------------------------

function pattern(source: string): RegExp {
    return new RegExp(source, "i");
}

/**
 * Credentials live only in Secrets: a Secret declares its type; a ConfigMap has no key that looks
 * like a credential; no container sets a credential-looking env var to a literal value.
 */
export function checkNoPlaintextCredentials(r: ResourceView, config: CredentialConfig = credentialConfig()): string[] {
    const looksSecret = (key: string) => pattern(config.credentialKeyPattern).test(key) && !pattern(config.credentialKeyExclude).test(key) &&
        !config.allowedKeys.includes(key);
    const out: string[] = [];
    if (r.type === TYPES.secret) {
        if (!present(r.props.type)) {
            out.push(`${describe(r)} has no type. Fix: set type explicitly (Opaque, kubernetes.io/dockerconfigjson, kubernetes.io/tls, ...) so that the API server validates its keys.`);
        }
        return out;
    }
    if (r.type === TYPES.configMap) {
        for (const field of ["data", "binaryData"]) {
            const data = r.props[field];
            if (data === undefined || data === null || typeof data !== "object") continue;
            for (const key of Object.keys(data).filter(looksSecret)) {
                out.push(`${describe(r)}: ${field} key "${key}" looks like a credential, and ConfigMaps are stored and shown in plaintext. ` +
                    `Fix: move ${key} to a Secret (set with \`pulumi config set --secret\`), or list it in allowedKeys in the policy config if it is not a credential.`);
            }
        }
        return out;
    }
    const pod = podSpecOf(r);
    if (!pod) return out;
    for (const c of containersOf(pod)) {
        const env: Props[] = Array.isArray(c.spec.env) ? c.spec.env : [];
        for (const e of env) {
            if (typeof e?.name === "string" && looksSecret(e.name) && present(e.value) && !FLAG_VALUE.test(String(e.value).trim())) {
                out.push(`${describe(r)}: ${c.label} sets ${e.name} to a literal value, stored in plaintext in the ${kindOf(r.type)}. ` +
                    `Fix: put it in a Secret and use env[].valueFrom.secretKeyRef (or envFrom.secretRef).`);
            }
        }
    }
    return out;
}

/** The stack config the engine hands the policy pack process (`PULUMI_CONFIG`, decrypted), or undefined. */
export function stackConfigFromEnv(env: NodeJS.ProcessEnv = process.env): Record<string, string> | undefined {
    const raw = env.PULUMI_CONFIG;
    if (!raw) return undefined;
    try {
        const parsed: unknown = JSON.parse(raw);
        if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) return undefined;
        return Object.fromEntries(Object.entries(parsed as Record<string, unknown>).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]));
    } catch {
        return undefined;
    }
}

function leafStrings(value: unknown): string[] {
    if (typeof value === "string") return [value];
    if (Array.isArray(value)) return value.flatMap(leafStrings);
    if (value && typeof value === "object") return Object.values(value).flatMap(leafStrings);
    return [];
}

/** The credential values in stack config, by key: keys matching the pattern (or listed), leaves of JSON values. */
export function credentialValues(stackConfig: Record<string, string>, config: StackSecretConfig = stackSecretConfig()): Map<string, string[]> {
    const include = pattern(config.secretKeyPattern);
    const exclude = pattern(config.secretKeyExclude);
    const result = new Map<string, string[]>();
    for (const [key, raw] of Object.entries(stackConfig)) {
        const short = key.slice(key.indexOf(":") + 1);
        const listed = config.secretConfigKeys.includes(key);
        if (!listed && !(include.test(short) && !exclude.test(short))) continue;
        let parsed: unknown = raw;
        try {
            const json: unknown = JSON.parse(raw);
            if (json && typeof json === "object") parsed = json;
        } catch {
            // a plain string
        }
        const values = leafStrings(parsed).filter((v) => v.length >= config.minLength);
        if (values.length > 0) result.set(key, values);
    }
    return result;
}

/** The object behind the SDK's unknown-checking proxy (so a scan never trips over preview unknowns). */
function unproxied(value: unknown): unknown {
    if (value && typeof value === "object" && (value as Props).__isSpecialProxy === true) {
        return (value as Props).__getSpecialProxyTarget;
    }
    return value;
}

/** The SDK's "not known during preview" sentinels (strings). */
const UNKNOWN_SENTINELS = new Set([
    "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7", "3eeb2bf0-c639-47a8-9e75-3b44932eb421", "04da6b54-80e4-46f7-96ec-b56ff0331ba9",
    "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2", "030794c1-ac77-496b-92df-f27374a8bd58", "e48ece36-62e2-4504-bad9-02848725956a",
    "dd056dcd-154b-4c76-9bd3-c8f88648b5ff",
]);

function* stringLeaves(value: unknown, path: string[] = []): Generator<{ path: string; value: string }> {
    const v = unproxied(value);
    if (typeof v === "string") {
        if (!UNKNOWN_SENTINELS.has(v)) yield { path: path.join("."), value: v };
    } else if (Array.isArray(v)) {
        for (let i = 0; i < v.length; i++) yield* stringLeaves(v[i], [...path, String(i)]);
    } else if (v && typeof v === "object") {
        for (const [k, child] of Object.entries(v)) yield* stringLeaves(child, [...path, k]);
    }
}

function isSink(type: string, path: string, sinks: readonly string[]): boolean {
    return sinks.some((sink) => {
        if (sink === type) return true;
        if (!sink.startsWith(`${type}:`)) return false;
        const prefix = sink.slice(type.length + 1);
        return path === prefix || path.startsWith(`${prefix}.`);
    });
}

/**
 * No credential from stack config appears (as is or base64-encoded) in any resource property
 * other than the sinks made for it (Secret data, the registry password of an image push, ...).
 * Messages name the config key and the property, never the value.
 */
export function checkSecretConfigNotInPlaintext(
    resources: readonly ResourceView[], stackConfig: Record<string, string>, config: StackSecretConfig = stackSecretConfig(),
): Finding[] {
    const needles: Array<{ key: string; forms: string[] }> = [];
    for (const [key, values] of credentialValues(stackConfig, config)) {
        for (const v of values) needles.push({ key, forms: [v, Buffer.from(v, "utf8").toString("base64")] });
    }
    if (needles.length === 0) return [];
    const out: Finding[] = [];
    for (const proxied of resources) {
        const r: ResourceView = { ...proxied, props: (unproxied(proxied.props) ?? {}) as Props };
        const hits = new Map<string, Set<string>>();
        for (const leaf of stringLeaves(r.props)) {
            if (isSink(r.type, leaf.path, config.sinks)) continue;
            for (const n of needles) {
                if (n.forms.some((f) => leaf.value.includes(f))) {
                    if (!hits.has(n.key)) hits.set(n.key, new Set());
                    hits.get(n.key)!.add(leaf.path || "(the value itself)");
                }
            }
        }
        for (const [key, paths] of hits) {
            out.push({
                urn: r.urn,
                message: `The value of the secret stack config ${key} appears in ${describe(r, r.type.startsWith("kubernetes:") && typeof r.props.metadata === "object")} (${r.type}) at ${[...paths].join(", ")}, where it is stored in plaintext. ` +
                    `Fix: pass it only through a Secret (stringData) and reference that Secret (envFrom.secretRef / valueFrom.secretKeyRef); never put it in a ConfigMap, env literal, annotation, chart value or output.`,
            });
        }
    }
    return out;
}

// ---------------------------------------------------------------------------------------------
// Policies
// ---------------------------------------------------------------------------------------------

function resourcePolicy(
    name: string, description: string, configSchema: PolicyConfigSchema,
    check: (r: ResourceView, args: ResourceValidationArgs) => string[],
): ResourceValidationPolicy {
    return {
        name,
        description,
        enforcementLevel: "mandatory",
        configSchema,
        validateResource: (args: ResourceValidationArgs, reportViolation: ReportViolation) => {
            for (const message of check({ type: args.type, name: args.name, urn: args.urn, props: args.props }, args)) {
                reportViolation(message);
            }
        },
    };
}

function toView(r: PolicyResource): ResourceView {
    return { type: r.type, name: r.name, urn: r.urn, props: r.props };
}

export const podRunsAsNonRoot = resourcePolicy(
    "pod-runs-as-non-root",
    "Every container of a Deployment, StatefulSet, DaemonSet, Job, CronJob or Pod runs as non-root: runAsNonRoot: true at pod or container level, and no runAsUser: 0.",
    workloadSchema,
    (r, args) => checkRunsAsNonRoot(r, workloadConfig(args.getConfig<Partial<WorkloadConfig>>())),
);

export const containerResourceLimits = resourcePolicy(
    "container-resource-limits",
    "Every container (init containers included) of a workload has cpu and memory limits.",
    workloadSchema,
    (r, args) => checkResourceLimits(r, workloadConfig(args.getConfig<Partial<WorkloadConfig>>())),
);

export const imageTagPinned = resourcePolicy(
    "image-tag-pinned",
    "Every container image is pinned by a digest (@sha256:...) or a tag other than latest; images built by the stack are pushed under such a tag.",
    workloadSchema,
    (r, args) => checkImagesPinned(r, workloadConfig(args.getConfig<Partial<WorkloadConfig>>())),
);

export const imageFromAllowedRegistry = resourcePolicy(
    "image-from-allowed-registry",
    "Container images (and images the stack builds and pushes) come only from the configured Harbor registry/project; system namespaces listed in exemptNamespaces are exempt.",
    {
        properties: {
            allowedRegistries: stringList("Image reference prefixes allowed, as host[:port]/project/.", DEFAULT_ALLOWED_REGISTRIES),
            exemptNamespaces: stringList("Namespaces whose images may come from other registries (the shared Bitnami Redis pulls from docker.io).", DEFAULT_IMAGE_EXEMPT_NAMESPACES),
        },
    },
    (r, args) => checkAllowedRegistry(r, imageConfig(args.getConfig<Partial<ImageConfig>>())),
);

export const noExternalServiceInTenantNamespace = resourcePolicy(
    "no-external-service-in-tenant-namespace",
    "No Service of type LoadBalancer or NodePort (nor with externalIPs) in a tenant namespace, i.e. any namespace not listed in systemNamespaces: external traffic enters only through the ingress controller.",
    {
        properties: {
            systemNamespaces: stringList("Namespaces that are not tenants.", DEFAULT_SYSTEM_NAMESPACES),
        },
    },
    (r, args) => checkNoExternalService(r, serviceConfig(args.getConfig<Partial<ServiceConfig>>())),
);

export const noPlaintextCredentials = resourcePolicy(
    "no-plaintext-credentials",
    "Credentials live only in Secrets: every Secret declares its type, no ConfigMap key looks like a credential, and no container sets a credential-looking env var to a literal value (flags such as yes/no and *_FILE paths excepted).",
    {
        properties: {
            credentialKeyPattern: { type: "string", default: DEFAULT_CREDENTIAL_KEY_PATTERN, description: "Case-insensitive regular expression for key names that look like credentials." },
            credentialKeyExclude: { type: "string", default: DEFAULT_CREDENTIAL_KEY_EXCLUDE, description: "Key names matching this (case-insensitive) point at a credential (a file) and are skipped." },
            allowedKeys: stringList("Key names that match the pattern but are not credentials.", []),
        },
    },
    (r, args) => checkNoPlaintextCredentials(r, credentialConfig(args.getConfig<Partial<CredentialConfig>>())),
);

export const tenantNamespaceDefaultDeny: StackValidationPolicy = {
    name: "tenant-namespace-default-deny",
    description: "Every Namespace labelled as a tenant's (stock-deploy/tenant) has a NetworkPolicy with podSelector {} and policyTypes [Ingress, Egress] and no rules: nothing reaches or leaves a tenant's pods unless another NetworkPolicy allows it.",
    enforcementLevel: "mandatory",
    configSchema: {
        properties: {
            tenantLabel: { type: "string", default: DEFAULT_TENANT_LABEL, description: "The label that marks a tenant Namespace." },
        },
    },
    validateStack: (args: StackValidationArgs, reportViolation: ReportViolation) => {
        const config = networkConfig(args.getConfig<Partial<NetworkConfig>>());
        for (const f of checkTenantDefaultDeny(args.resources.map(toView), config)) reportViolation(f.message, f.urn);
    },
};

export const secretConfigNotInPlaintext: StackValidationPolicy = {
    name: "secret-config-not-in-plaintext",
    description: "No credential from the stack config (keys such as dbPassword, harborPassword, npmToken) appears, as is or base64-encoded, in any resource property other than a Secret or an image push's registry password and build args.",
    enforcementLevel: "mandatory",
    configSchema: {
        properties: {
            secretKeyPattern: { type: "string", default: DEFAULT_SECRET_CONFIG_KEY_PATTERN, description: "Case-insensitive regular expression for stack config keys (after 'project:') that hold credentials." },
            secretKeyExclude: { type: "string", default: DEFAULT_SECRET_CONFIG_KEY_EXCLUDE, description: "Keys matching this (case-insensitive) only name a credential (pullSecretName) and are skipped." },
            secretConfigKeys: stringList("More fully qualified stack config keys (project:key) whose values are credentials.", []),
            sinks: stringList("Where credentials may appear: '<type>' or '<type>:<property path>'.", DEFAULT_SECRET_SINKS),
            minLength: { type: "integer", default: DEFAULT_SECRET_MIN_LENGTH, description: "Shorter values are not searched for." },
        },
    },
    validateStack: (args: StackValidationArgs, reportViolation: ReportViolation) => {
        const stackConfig = stackConfigFromEnv();
        if (!stackConfig) args.notApplicable("the engine passed no stack config (PULUMI_CONFIG) to the policy pack");
        const config = stackSecretConfig(args.getConfig<Partial<StackSecretConfig>>());
        for (const f of checkSecretConfigNotInPlaintext(args.resources.map(toView), stackConfig, config)) reportViolation(f.message, f.urn);
    },
};

/** Every policy of the pack, in the order they are reported. */
export const policies: Array<ResourceValidationPolicy | StackValidationPolicy> = [
    podRunsAsNonRoot,
    containerResourceLimits,
    imageTagPinned,
    imageFromAllowedRegistry,
    noExternalServiceInTenantNamespace,
    tenantNamespaceDefaultDeny,
    noPlaintextCredentials,
    secretConfigNotInPlaintext,
];
