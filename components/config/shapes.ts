/**
 * The value shapes of the config model: DNS names, quantities, probes, paths, workers, the Redis
 * settings. zod schemas the key table is built from, and the small parsers a validated value needs.
 */
import { z } from "zod";

export const PROJECT = "stock";

/** The dotenv variable the frontend reads its API origin from (`${REACT_APP_HOST_URL}/api/v1/...`). */
export const FRONTEND_API_URL_VARIABLE = "REACT_APP_HOST_URL";

/** Names Kubernetes or the shared stack already use: a tenant namespace must never collide with them. */
export const RESERVED_NAMESPACES = ["default", "kube-system", "kube-public", "kube-node-lease", "redis", "ingress-nginx", "cert-manager"];

export const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
export const IPV4 = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;

export function isDnsLabel(s: string): boolean {
    return s.length <= 63 && DNS_LABEL.test(s);
}

/** A fully qualified DNS name: at least two labels, lower case, at most 253 characters. */
export function isDnsName(s: string): boolean {
    const labels = s.split(".");
    return s.length <= 253 && labels.length >= 2 && labels.every(isDnsLabel) && !IPV4.test(s);
}

export function isCidr(s: string): boolean {
    const [ip, bits, ...rest] = s.split("/");
    return rest.length === 0 && IPV4.test(ip) && /^\d{1,2}$/.test(bits ?? "") && Number(bits) <= 32;
}

export const dnsLabel = (what: string) =>
    z
        .string()
        .refine(
            isDnsLabel,
            `${what} must be a DNS-1123 label: lower-case letters, digits and '-', at most 63 characters, starting and ending with a letter or digit`,
        );
export const dnsName = z.string().refine(isDnsName, "must be a lower-case DNS name such as app.client-a.example.com");
export const registryHost = z
    .string()
    .regex(
        /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?(:\d{1,5})?$/,
        "must be a registry host[:port] such as harbor.example.com:9800, without scheme or path",
    );
export const port = z.number().int().min(1).max(65535);
export const replicas = z.number({ error: "must be a whole number" }).int("must be a whole number").min(0, "must be 0 or more");
export const envKey = z.string().regex(/^[A-Z_][A-Z0-9_]*$/, "environment variable names must be UPPER_SNAKE_CASE");
export const envMap = z.record(envKey, z.string());
/** One dotenv line: env-cmd reads KEY=VALUE up to the end of the line. */
export const dotenvValue = z.string().regex(/^[^\r\n]*$/, "must fit on one line (it becomes a KEY=VALUE line of the dotenv file)");
export const logLevel = z.enum(["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]);

export const quantity = (what: string, pattern: RegExp, example: string) =>
    z.string().regex(pattern, `must be a Kubernetes ${what} quantity such as ${example}`);
export const cpu = quantity("CPU", /^(\d+m|\d+(\.\d+)?)$/, "250m or 1");
export const memory = quantity("memory", /^\d+(\.\d+)?(Ki|Mi|Gi|Ti|k|M|G|T)?$/, "512Mi");
/** Requests and limits, both required: the policy pack refuses a container without limits. */
export const resources = z.strictObject({
    requests: z.strictObject({ cpu, memory }),
    limits: z.strictObject({ cpu, memory }),
});

/** How KEDA scales one worker group on the length of its queues (used when stock:celeryKeda is true). */
export const kedaScaling = z.strictObject({
    /** Fewest replicas; 0 scales the group to zero while its queues are empty. */
    minReplicas: z.number().int().min(0).max(1000),
    /** Most replicas; the namespace quota holds this many. */
    maxReplicas: z.number().int().min(1).max(1000),
    /** Waiting tasks per replica, per queue (KEDA's listLength). */
    listLength: z.number().int().min(1),
    /** Waiting tasks above which a group scaled to zero is woken (KEDA's activationListLength). */
    activationListLength: z.number().int().min(0).default(0),
});

export const celeryWorker = z.strictObject({
    name: dnsLabel("a worker name"),
    queues: z.array(z.string()).min(1, "a worker needs at least one queue"),
    replicas,
    concurrency: z.number().int().min(1).default(2),
    logLevel: logLevel.default("INFO"),
    resources: resources.optional(),
    keda: kedaScaling.optional(),
});

export const redisSettings = z.strictObject({
    chart: z.string().min(1),
    chartVersion: z.string().regex(/^\d+\.\d+\.\d+$/, "must be an exact chart version such as 21.2.13 (never a range)"),
    namespace: dnsLabel("the Redis namespace"),
    releaseName: dnsLabel("the Redis release name"),
    imageRepository: z.string().min(1),
    imageTag: z
        .string()
        .min(1)
        .refine((t) => t !== "latest", "must be a fixed tag, not latest"),
    /** The image's index digest: the tag names the version, the digest pins the bytes. */
    imageDigest: z
        .string({ error: "is required with imageTag: the image's digest (sha256:...) pins the bytes the tag names" })
        .regex(
            /^sha256:[0-9a-f]{64}$/,
            "must be the image's digest, sha256: and 64 hex digits (docker buildx imagetools inspect <image>:<tag>)",
        ),
    /** Seconds from a tenant's password rotation to closing its connections opened with the old password. */
    revokeGraceSeconds: z
        .number({ error: "is required: seconds from a password rotation to closing the old sessions, e.g. 600" })
        .int()
        .min(0)
        .max(86400),
    architecture: z.enum(["standalone", "replication"]),
    persistence: z.strictObject({
        enabled: z.boolean(),
        size: z.string().regex(/^\d+(Mi|Gi|Ti)$/, "must be a size such as 8Gi"),
        storageClass: z.string().default(""),
    }),
    resources,
});

/**
 * An entry of `stock:tenants`: the customer's name, deployed by the stack of the same name, or
 * `<tenant>@<stack>` when a stack of another name deploys it. A string, so that Pulumi.yaml can
 * declare the key as a list of strings; `- client-c` is all `tenant add` appends.
 */
export function parseTenantEntry(entry: string): { tenant: string; stack: string } {
    const [tenant, stack] = entry.split("@");
    return { tenant, stack: stack ?? tenant };
}
export const tenantEntry = z.string().refine((e) => {
    const [tenant, stack, ...rest] = e.split("@");
    return rest.length === 0 && isDnsLabel(tenant) && (stack === undefined || /^[A-Za-z0-9_.-]+$/.test(stack));
}, "a tenant must be a DNS-1123 label (lower-case letters, digits and '-', at most 63 characters, starting and ending with a letter or digit), optionally followed by @<stack> when a stack of another name deploys it");

export const tls = z.union(
    [
        z.strictObject({ secretName: dnsLabel("tls.secretName"), apiSecretName: dnsLabel("tls.apiSecretName").optional() }),
        z.strictObject({ clusterIssuer: z.string().min(1) }),
    ],
    {
        error: "must be {secretName: <existing TLS secret>, apiSecretName?: <its secret for stock:apiHost>} or {clusterIssuer: <cert-manager ClusterIssuer>}",
    },
);

/** Where the Tenant mounts the Python runtime (the Redis key-prefix shim) in every backend container. */
export const PYTHON_RUNTIME_MOUNT = "/opt/stock-runtime/python";

/** How an API probe is written in config; see {@link parseProbe}. */
export type ProbeSpec = { kind: "off" } | { kind: "tcp" } | { kind: "http"; path: string } | { kind: "exec"; command: string };
export const PROBE_FORMS = "http:<path> (GET on the API port), tcp (the port accepts), exec:<shell command> or off";

/** `http:/api/v1/`, `tcp`, `exec:<command>` or `off`; undefined for anything else. */
export function parseProbe(text: string): ProbeSpec | undefined {
    if (text === "off" || text === "tcp") return { kind: text };
    if (text.startsWith("http:")) {
        const probePath = text.slice("http:".length);
        return /^\/[A-Za-z0-9._~!$&'()*+,;=:@%/?-]*$/.test(probePath) ? { kind: "http", path: probePath } : undefined;
    }
    if (text.startsWith("exec:")) {
        const command = text.slice("exec:".length).trim();
        return command ? { kind: "exec", command } : undefined;
    }
    return undefined;
}

/** A probe as written in config (a string Pulumi can type); {@link parseProbe} reads it once valid. */
export const probe = z.string().refine((s) => parseProbe(s) !== undefined, `must be ${PROBE_FORMS}, e.g. http:/api/v1/`);
export const PROBE_HELP = (which: string) =>
    `The API's ${which} probe: ${PROBE_FORMS}. The real app serves /api/v1/; the reference app also /healthz and /readyz.`;

/** A probe string the schema has accepted. */
export const probeOf = (text: string): ProbeSpec => parseProbe(text) as ProbeSpec;

/** Arguments the ping probe's `/bin/sh -c` line may carry without quoting. */
export const SHELL_SAFE = /^[A-Za-z0-9_./:=@+-]+$/;
export const pythonName = z
    .string()
    .regex(
        /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*(:[A-Za-z_][A-Za-z0-9_]*)?$/,
        "must be a dotted Python module such as fin.celery (optionally :attribute)",
    );
export const commandLine = z.array(z.string().min(1, "an argument must not be empty")).min(1, "must name at least the executable");
export const absolutePath = z
    .string()
    .regex(/^(\/[A-Za-z0-9._-]+)+$/, "must be an absolute path of letters, digits and ._- such as /tmp/celerybeat/schedule (no trailing /)")
    .refine((p) => !p.split("/").includes("..") && !p.split("/").includes("."), "must not contain . or .. segments");
/** Directories an emptyDir must never hide: the OS, the already writable ones, our runtime mount. */
export const SYSTEM_DIRS = [
    "/bin",
    "/boot",
    "/dev",
    "/etc",
    "/lib",
    "/lib64",
    "/opt",
    "/proc",
    "/root",
    "/run",
    "/sbin",
    "/srv",
    "/sys",
    "/usr",
    "/var",
];
export const writablePath = absolutePath
    .refine(
        (p) => !SYSTEM_DIRS.includes(p) && !/^\/(proc|sys|dev)(\/|$)/.test(p),
        "must not be a system directory (an emptyDir there would hide the image's files)",
    )
    .refine((p) => p !== "/tmp" && !p.startsWith("/tmp/"), "/tmp is always writable already: leave it out")
    .refine(
        (p) => !PYTHON_RUNTIME_MOUNT.startsWith(p + "/") && !p.startsWith(PYTHON_RUNTIME_MOUNT),
        `must not hide the Python runtime mounted at ${PYTHON_RUNTIME_MOUNT}`,
    );
export const runAs = z.strictObject({
    user: z.number().int().min(1, "0 is root: Pod Security restricted requires a non-root user").max(2147483647),
    group: z.number().int().min(1, "0 is root's group: pick a non-root group").max(2147483647),
});

/** A resource-name-safe form of a build context as written in config: `app/backend` → `app-backend`. */
export function contextSlug(source: string): string {
    return (
        source
            .replace(/[^A-Za-z0-9]+/g, "-")
            .replace(/^-+|-+$/g, "")
            .toLowerCase() || "root"
    );
}
