/**
 * The one typed configuration model of stock-deploy.
 *
 * Pure: it turns the raw key/value map Pulumi hands the program (plus the list of keys that are
 * secret) into a validated {@link StackConfig}, or a {@link ConfigError} that lists every problem at
 * once, each naming the key, the stack file and the fix. No Pulumi resources, no I/O.
 */
import * as path from "path";
import { z } from "zod";
import { reservedEnvKeys } from "./app-env";

export const PROJECT = "stock";

/** The dotenv variable the frontend reads its API origin from (`${REACT_APP_HOST_URL}/api/v1/...`). */
export const FRONTEND_API_URL_VARIABLE = "REACT_APP_HOST_URL";

/** Names Kubernetes or the shared stack already use: a tenant namespace must never collide with them. */
export const RESERVED_NAMESPACES = ["default", "kube-system", "kube-public", "kube-node-lease", "redis", "ingress-nginx", "cert-manager"];

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const IPV4 = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;

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

const dnsLabel = (what: string) =>
    z
        .string()
        .refine(
            isDnsLabel,
            `${what} must be a DNS-1123 label: lower-case letters, digits and '-', at most 63 characters, starting and ending with a letter or digit`,
        );
const dnsName = z.string().refine(isDnsName, "must be a lower-case DNS name such as app.client-a.example.com");
const registryHost = z
    .string()
    .regex(
        /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?(:\d{1,5})?$/,
        "must be a registry host[:port] such as harbor.example.com:9800, without scheme or path",
    );
const port = z.number().int().min(1).max(65535);
const replicas = z.number({ error: "must be a whole number" }).int("must be a whole number").min(0, "must be 0 or more");
const envKey = z.string().regex(/^[A-Z_][A-Z0-9_]*$/, "environment variable names must be UPPER_SNAKE_CASE");
const envMap = z.record(envKey, z.string());
/** One dotenv line: env-cmd reads KEY=VALUE up to the end of the line. */
const dotenvValue = z.string().regex(/^[^\r\n]*$/, "must fit on one line (it becomes a KEY=VALUE line of the dotenv file)");
const logLevel = z.enum(["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]);

/** How one key is documented, who needs it and how it is checked. `README.md` and `Pulumi.yaml` follow this table (a test keeps them in step). */
export interface KeySpec {
    /** One sentence for `Pulumi.yaml` and the README. */
    description: string;
    /** Which stacks read the key. */
    roles: ReadonlyArray<Role>;
    /** Must the stack set it (after project defaults from `Pulumi.yaml`)? */
    required: boolean;
    /** Must it be stored encrypted (`pulumi config set --secret`)? */
    secret?: boolean;
    /** The value shape. Raw config values arrive as strings; objects and lists as JSON. */
    schema: z.ZodType;
    /** A value to show in a fix hint; it passes every rule (a test sets each example). */
    example: string;
    /** How to fix the key when one `pulumi config set` line cannot (default: set it to the example). */
    fix?: (stack: string, file: string) => string;
}

export type Role = "shared" | "tenant";
const both: Role[] = ["shared", "tenant"];
const tenantOnly: Role[] = ["tenant"];
const sharedOnly: Role[] = ["shared"];

const quantity = (what: string, pattern: RegExp, example: string) =>
    z.string().regex(pattern, `must be a Kubernetes ${what} quantity such as ${example}`);
const cpu = quantity("CPU", /^(\d+m|\d+(\.\d+)?)$/, "250m or 1");
const memory = quantity("memory", /^\d+(\.\d+)?(Ki|Mi|Gi|Ti|k|M|G|T)?$/, "512Mi");
/** Requests and limits, both required: the policy pack refuses a container without limits. */
const resources = z.strictObject({
    requests: z.strictObject({ cpu, memory }),
    limits: z.strictObject({ cpu, memory }),
});

const celeryWorker = z.strictObject({
    name: dnsLabel("a worker name"),
    queues: z.array(z.string()).min(1, "a worker needs at least one queue"),
    replicas,
    concurrency: z.number().int().min(1).default(2),
    logLevel: logLevel.default("INFO"),
    resources: resources.optional(),
});

const redisSettings = z.strictObject({
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
const tenantEntry = z.string().refine((e) => {
    const [tenant, stack, ...rest] = e.split("@");
    return rest.length === 0 && isDnsLabel(tenant) && (stack === undefined || /^[A-Za-z0-9_.-]+$/.test(stack));
}, "a tenant must be a DNS-1123 label (lower-case letters, digits and '-', at most 63 characters, starting and ending with a letter or digit), optionally followed by @<stack> when a stack of another name deploys it");

const tls = z.union(
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
const PROBE_FORMS = "http:<path> (GET on the API port), tcp (the port accepts), exec:<shell command> or off";

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
const probe = z.string().refine((s) => parseProbe(s) !== undefined, `must be ${PROBE_FORMS}, e.g. http:/api/v1/`);
const PROBE_HELP = (which: string) =>
    `The API's ${which} probe: ${PROBE_FORMS}. The real app serves /api/v1/; the reference app also /healthz and /readyz.`;

/** A probe string the schema has accepted. */
const probeOf = (text: string): ProbeSpec => parseProbe(text) as ProbeSpec;

/** Arguments the ping probe's `/bin/sh -c` line may carry without quoting. */
const SHELL_SAFE = /^[A-Za-z0-9_./:=@+-]+$/;
const pythonName = z
    .string()
    .regex(
        /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*(:[A-Za-z_][A-Za-z0-9_]*)?$/,
        "must be a dotted Python module such as fin.celery (optionally :attribute)",
    );
const commandLine = z.array(z.string().min(1, "an argument must not be empty")).min(1, "must name at least the executable");
const absolutePath = z
    .string()
    .regex(/^(\/[A-Za-z0-9._-]+)+$/, "must be an absolute path of letters, digits and ._- such as /tmp/celerybeat/schedule (no trailing /)")
    .refine((p) => !p.split("/").includes("..") && !p.split("/").includes("."), "must not contain . or .. segments");
/** Directories an emptyDir must never hide: the OS, the already writable ones, our runtime mount. */
const SYSTEM_DIRS = [
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
const writablePath = absolutePath
    .refine(
        (p) => !SYSTEM_DIRS.includes(p) && !/^\/(proc|sys|dev)(\/|$)/.test(p),
        "must not be a system directory (an emptyDir there would hide the image's files)",
    )
    .refine((p) => p !== "/tmp" && !p.startsWith("/tmp/"), "/tmp is always writable already: leave it out")
    .refine(
        (p) => !PYTHON_RUNTIME_MOUNT.startsWith(p + "/") && !p.startsWith(PYTHON_RUNTIME_MOUNT),
        `must not hide the Python runtime mounted at ${PYTHON_RUNTIME_MOUNT}`,
    );
const runAs = z.strictObject({
    user: z.number().int().min(1, "0 is root: Pod Security restricted requires a non-root user").max(2147483647),
    group: z.number().int().min(1, "0 is root's group: pick a non-root group").max(2147483647),
});

/** Every config key the program reads, without the `stock:` prefix. */
export const KEYS = {
    role: {
        description: "What this stack deploys: `shared` (the Redis every tenant uses, once per cluster) or `tenant` (one customer).",
        roles: both,
        required: true,
        schema: z.enum(["shared", "tenant"]),
        example: "tenant",
    },
    kubeContext: {
        description: "The kubeconfig context to deploy to; every Kubernetes resource goes through a provider pinned to it.",
        roles: both,
        required: true,
        schema: z.string().min(1),
        example: "feng-k8s",
    },
    kubeconfig: {
        description: "Path to the kubeconfig file holding kubeContext; empty means $KUBECONFIG or ~/.kube/config.",
        roles: both,
        required: false,
        schema: z.string(),
        example: "~/.kube/config",
    },
    tenants: {
        description:
            "The customers allowed on the shared Redis, one per line: the tenant's name, deployed by the stack of that name, or `<tenant>@<stack>`; a tenant stack not listed for its tenant is refused.",
        roles: sharedOnly,
        required: true,
        schema: z.array(tenantEntry).min(1, "list at least one tenant"),
        example: '["client-a", "client-b"]',
        fix: (stack, file) =>
            `list each customer on its own line under stock:tenants in ${file} (- client-a), or pulumi config set --path 'stock:tenants[0]' client-a -s ${stack}`,
    },
    redis: {
        description:
            "The Bitnami Redis release: chart `oci://registry-1.docker.io/bitnamicharts/redis` and pinned version, namespace, release name; the image `imageRepository` / `imageTag` / `imageDigest` (default the official Debian-based `library/redis:8.2.10-bookworm` pinned by digest: Bitnami's free images stopped in 2025 and `bitnamilegacy/redis` is frozen at a vulnerable 8.2.1, see SECURITY.md \"The Redis image\"; the policy pack refuses a Redis older than 8.2.3); `revokeGraceSeconds` (600: after a tenant's password rotation, its connections opened with the old password are closed this much later); architecture, persistence, resources.",
        roles: sharedOnly,
        required: true,
        schema: redisSettings,
        example: "see Pulumi.yaml",
        fix: (_stack, file) =>
            `remove stock:redis from ${file} to use the value in Pulumi.yaml, or copy that value and change only what differs`,
    },
    redisPasswordSeed: {
        description:
            "Secret from which every Redis password (the default user's and one per tenant) is derived (HMAC-SHA256), so every value is known at preview; generate it once, e.g. with `openssl rand -hex 32`.",
        roles: sharedOnly,
        required: true,
        secret: true,
        schema: z.string().min(32, "must be at least 32 characters of randomness, e.g. openssl rand -hex 32"),
        example: "<openssl rand -hex 32>",
    },
    redisPasswordGenerations: {
        description:
            "Per Redis user (tenant name or `default`), a generation number; raising it rotates that user's password (see SECURITY.md).",
        roles: sharedOnly,
        required: false,
        schema: z.record(z.string(), z.number().int().min(0)),
        example: '{"client-a": 2}',
    },
    sharedStack: {
        description: "Fully qualified name of the shared stack this tenant reads Redis from; default <your organization>/stock/shared.",
        roles: tenantOnly,
        required: false,
        schema: z
            .string()
            .regex(/^([A-Za-z0-9_.-]+\/){0,2}[A-Za-z0-9_.-]+$/, "must be <org>/<project>/<stack>, e.g. organization/stock/shared"),
        example: "organization/stock/shared",
    },
    tenant: {
        description: "The customer's name: its namespace, Redis user and key prefix.",
        roles: tenantOnly,
        required: true,
        schema: dnsLabel("the tenant").refine(
            (t) => !RESERVED_NAMESPACES.includes(t),
            `must not be one of ${RESERVED_NAMESPACES.join(", ")}`,
        ),
        example: "client-a",
    },
    host: {
        description:
            "The customer's public host: the frontend is served at /, and the API at /api unless `stock:apiHost` moves it to a host of its own.",
        roles: tenantOnly,
        required: true,
        schema: dnsName,
        example: "app.client-a.feng.local",
    },
    apiHost: {
        description:
            "A separate public host for the API (the seed's `app.<customer>` layout): its own Ingress at `/api`, TLS, load-balancer block, and CORS from exactly the frontend's origin. Must be a DNS name other than `stock:host` and claimed by no other stack file. Default: the API at `/api` on `stock:host`.",
        roles: tenantOnly,
        required: false,
        schema: dnsName,
        example: "api.client-a.feng.local",
    },
    frontendEnv: {
        description:
            "More variables for the frontend's computed dotenv (`envs/<buildFor>`), written after `REACT_APP_HOST_URL`, which the program computes (setting it here is refused).",
        roles: tenantOnly,
        required: false,
        schema: z.record(envKey, dotenvValue),
        example: '{"REACT_APP_TITLE": "Stock"}',
    },
    npmTokenMode: {
        description:
            "How the frontend build gets `stock:npmToken`: `build-arg` (`ARG NPM_TOKEN`, as the real app's Dockerfile declares) or `secret` (the BuildKit secret `npm_token`, for `RUN --mount=type=secret,id=npm_token`; `app/frontend` and so client-a/client-b use it).",
        roles: tenantOnly,
        required: true,
        schema: z.enum(["build-arg", "secret"]),
        example: "secret",
    },
    buildCache: {
        description:
            "Import and export the BuildKit layer cache in Harbor (`<repository>:buildcache`, `:buildcache-<tenant>` for the frontend), so a fresh CI runner reuses the last build. Leave `buildcache*` out of Harbor tag-immutability rules; a refused cache push does not fail the build. With `npmTokenMode: build-arg` the frontend's cache holds only the final stage's layers (`mode=min`), never the builder's, which may hold the token.",
        roles: tenantOnly,
        required: true,
        schema: z.boolean(),
        example: "true",
    },
    buildFor: {
        description:
            "BUILD_FOR of the frontend build: the dotenv file `envs/<buildFor>` the program writes into the staged build context. Default: `stock:tenant`.",
        roles: tenantOnly,
        required: false,
        schema: z
            .string()
            .regex(/^[A-Za-z0-9._-]+$/, "must be a file name (no '/')")
            .refine((f) => f !== "." && f !== "..", "must be a file name, not . or .."),
        example: "client-a",
    },
    tls: {
        description:
            "TLS on the ingresses: `{secretName}` of an existing secret (plus `apiSecretName` for `stock:apiHost`; default the same secret, which then must cover both names) or `{clusterIssuer}` for cert-manager (one certificate per ingress). Switches the URLs to https.",
        roles: tenantOnly,
        required: false,
        schema: tls,
        example: '{"clusterIssuer": "letsencrypt"}',
    },
    deployType: {
        description: "DEPLOY_TYPE for the app: dev, test (SQLite, no MySQL) or prod.",
        roles: tenantOnly,
        required: true,
        schema: z.enum(["dev", "test", "prod"]),
        example: "prod",
    },
    debug: { description: "DJANGO_DEBUG: never true in prod.", roles: tenantOnly, required: true, schema: z.boolean(), example: "false" },
    podSecurity: {
        description: "Pod Security Standard enforced on the tenant namespace: restricted or baseline.",
        roles: tenantOnly,
        required: true,
        schema: z.enum(["restricted", "baseline"]),
        example: "restricted",
    },
    dbHost: {
        description: "The external MySQL host (DJANGO_DB_HOST).",
        roles: tenantOnly,
        required: true,
        schema: z.string().refine((h) => isDnsName(h) || IPV4.test(h), "must be a DNS name or IPv4 address"),
        example: "mysql.feng.local",
    },
    dbPort: { description: "The external MySQL port (DJANGO_DB_PORT).", roles: tenantOnly, required: true, schema: port, example: "3306" },
    dbCidr: {
        description: "Where the database lives, for the NetworkPolicy egress rule (CIDR).",
        roles: tenantOnly,
        required: true,
        schema: z.string().refine(isCidr, "must be an IPv4 CIDR such as 10.0.0.5/32"),
        example: "10.0.0.5/32",
    },
    dbName: {
        description: "The tenant's database (MYSQL_DATABASE).",
        roles: tenantOnly,
        required: true,
        schema: z.string().regex(/^[A-Za-z0-9_]{1,64}$/, "must be a MySQL database name: letters, digits, '_'"),
        example: "stock_client_a",
    },
    dbUser: {
        description: "The tenant's database user (DJANGO_DB_USER, kept in the Secret).",
        roles: tenantOnly,
        required: true,
        schema: z.string().regex(/^[A-Za-z0-9_.-]{1,32}$/, "must be a MySQL user name"),
        example: "stock_client_a",
    },
    dbPassword: {
        description: "The tenant's database password (DJANGO_DB_PWD).",
        roles: tenantOnly,
        required: true,
        secret: true,
        schema: z.string().min(1),
        example: "<password>",
    },
    harborServer: {
        description: "The Harbor registry host[:port] images are pushed to and pulled from.",
        roles: tenantOnly,
        required: true,
        schema: registryHost,
        example: "harbor.feng.local:9800",
    },
    harborProject: {
        description: "The Harbor project holding the images.",
        roles: tenantOnly,
        required: true,
        schema: z.string().regex(/^[a-z0-9]+([._-][a-z0-9]+)*$/, "must be a Harbor project name (lower case)"),
        example: "library",
    },
    harborUsername: {
        description: "The Harbor robot that pushes the images; pods pull with it only when no harborPullUsername is set.",
        roles: tenantOnly,
        required: true,
        schema: z.string().min(1),
        example: "robot$stock-deploy",
    },
    harborPassword: {
        description: "The Harbor robot account's token.",
        roles: tenantOnly,
        required: true,
        secret: true,
        schema: z.string().min(1),
        example: "<robot token>",
    },
    harborPullUsername: {
        description:
            "A pull-only Harbor robot for this tenant's image-pull Secret; without it the pods pull with the push robot (a warning says so).",
        roles: tenantOnly,
        required: false,
        schema: z.string().min(1),
        example: "robot$client-a-pull",
    },
    harborPullPassword: {
        description: "The pull-only robot's token (set with `--secret` together with `harborPullUsername`).",
        roles: tenantOnly,
        required: false,
        secret: true,
        schema: z.string().min(1),
        example: "<robot token>",
    },
    npmToken: {
        description:
            "Token for the private npm registry, passed to the frontend build as NPM_TOKEN (build argument) or as the BuildKit secret `npm_token`, per `stock:npmTokenMode`.",
        roles: tenantOnly,
        required: true,
        secret: true,
        schema: z.string().min(1),
        example: "<npm token>",
    },
    pullSecretName: {
        description: "Name of the image-pull Secret created in the tenant namespace.",
        roles: tenantOnly,
        required: true,
        schema: dnsLabel("the pull secret name"),
        example: "harbor",
    },
    backendSource: {
        description: "Build context of the backend image (Django API and Celery), relative to the repo or absolute.",
        roles: tenantOnly,
        required: true,
        schema: z.string().min(1),
        example: "app/backend",
    },
    frontendSource: {
        description:
            "Build context of the frontend image. The program builds from a staged copy (`.build/<stack>/frontend`, git-ignored) with `envs/<buildFor>` computed; an `envs/<buildFor>` found in the source keeps its other keys, and one whose computed keys disagree is refused.",
        roles: tenantOnly,
        required: true,
        schema: z.string().min(1),
        example: "app/frontend",
    },
    backendRepository: {
        description: "Harbor repository of the backend image.",
        roles: tenantOnly,
        required: true,
        schema: z.string().regex(/^[a-z0-9]+([._/-][a-z0-9]+)*$/, "must be a lower-case repository name"),
        example: "stock_backend",
    },
    frontendRepository: {
        description: "Harbor repository of the frontend images (one tag per tenant build).",
        roles: tenantOnly,
        required: true,
        schema: z.string().regex(/^[a-z0-9]+([._/-][a-z0-9]+)*$/, "must be a lower-case repository name"),
        example: "frontend_stock",
    },
    imagePlatform: {
        description: "Platform the images are built for.",
        roles: tenantOnly,
        required: true,
        schema: z.string().regex(/^[a-z0-9]+\/[a-z0-9]+(\/[a-z0-9]+)?$/, "must be os/arch such as linux/amd64"),
        example: "linux/amd64",
    },
    apiReplicas: {
        description: "Replicas of the Django API Deployment.",
        roles: tenantOnly,
        required: true,
        schema: replicas,
        example: "2",
    },
    frontendReplicas: {
        description: "Replicas of the frontend Deployment.",
        roles: tenantOnly,
        required: true,
        schema: replicas,
        example: "2",
    },
    gunicornWorkers: {
        description: "gunicorn worker processes per API pod.",
        roles: tenantOnly,
        required: true,
        schema: z.number().int().min(1),
        example: "3",
    },
    celeryQueues: {
        description: "Every queue the app defines; workers may only consume these.",
        roles: tenantOnly,
        required: true,
        schema: z.array(z.string().regex(/^[a-z][a-z0-9_.-]*$/, "must be a queue name")).min(1),
        example: '["summary", "stock", "statement", "price", "news"]',
    },
    celeryWorkers: {
        description:
            "Celery worker Deployments: name, queues (-Q), replicas, concurrency, logLevel, optional resources. Split a busy queue into its own worker (see `Pulumi.client-b.yaml`). Every queue must have a worker.",
        roles: tenantOnly,
        required: true,
        schema: z.array(celeryWorker).min(1, "at least one worker must consume the queues"),
        example: '[{"name": "default", "queues": ["summary", "stock", "statement", "price", "news"], "replicas": 2}]',
    },
    apiResources: {
        description: "CPU and memory requests and limits of each API container.",
        roles: tenantOnly,
        required: true,
        schema: resources,
        example: '{"requests": {"cpu": "250m", "memory": "384Mi"}, "limits": {"cpu": "1", "memory": "768Mi"}}',
    },
    frontendResources: {
        description: "CPU and memory requests and limits of each frontend container.",
        roles: tenantOnly,
        required: true,
        schema: resources,
        example: '{"requests": {"cpu": "10m", "memory": "32Mi"}, "limits": {"cpu": "250m", "memory": "128Mi"}}',
    },
    celeryResources: {
        description:
            "CPU and memory requests and limits of each Celery worker container (a worker's own `resources` in `celeryWorkers` replace them).",
        roles: tenantOnly,
        required: true,
        schema: resources,
        example: '{"requests": {"cpu": "250m", "memory": "512Mi"}, "limits": {"cpu": "1", "memory": "1Gi"}}',
    },
    celeryBeat: {
        description: "Run the Celery beat scheduler (exactly one replica).",
        roles: tenantOnly,
        required: true,
        schema: z.boolean(),
        example: "false",
    },
    // ---- the app profile: every point where the charts or the program touch the application ----
    celeryBeatSchedule: {
        description:
            "File celery beat keeps its schedule in (-s); its directory becomes a writable emptyDir, the root filesystem staying read-only.",
        roles: tenantOnly,
        required: true,
        schema: absolutePath.refine(
            (p) => path.posix.dirname(p) !== "/",
            "must be a file inside a directory, e.g. /tmp/celerybeat/schedule",
        ),
        example: "/tmp/celerybeat/schedule",
    },
    celeryApp: {
        description: "The Celery application passed to -A by workers, beat and the ping probe (the real app: fin.celery).",
        roles: tenantOnly,
        required: true,
        schema: pythonName,
        example: "fin.celery",
    },
    celeryCommand: {
        description:
            "The Celery executable and its leading arguments; the charts append -A <celeryApp> and worker, beat or inspect ping with their flags.",
        roles: tenantOnly,
        required: true,
        schema: commandLine.refine(
            (c) => c.every((a) => SHELL_SAFE.test(a)),
            "each element must be shell-safe (letters, digits and ._/:=@+-): the ping probe runs it through /bin/sh",
        ),
        example: '["celery"]',
    },
    celeryLiveness: {
        description:
            "Liveness of the Celery workers: ping (celery inspect ping, works with any app), heartbeat (the file the reference app's bootstep touches) or off.",
        roles: tenantOnly,
        required: true,
        schema: z.enum(["ping", "heartbeat", "off"]),
        example: "ping",
    },
    apiCommand: {
        description:
            "The API's executable and its leading arguments, a gunicorn command line; the charts append <wsgiModule> --bind 0.0.0.0:8080 --workers --timeout --worker-tmp-dir.",
        roles: tenantOnly,
        required: true,
        schema: commandLine,
        example: '["gunicorn"]',
    },
    wsgiModule: {
        description: "The WSGI application gunicorn serves (the real app: fin.wsgi).",
        roles: tenantOnly,
        required: true,
        schema: pythonName,
        example: "fin.wsgi",
    },
    apiStartupProbe: { description: PROBE_HELP("startup"), roles: tenantOnly, required: true, schema: probe, example: "http:/api/v1/" },
    apiLivenessProbe: { description: PROBE_HELP("liveness"), roles: tenantOnly, required: true, schema: probe, example: "http:/api/v1/" },
    apiReadinessProbe: { description: PROBE_HELP("readiness"), roles: tenantOnly, required: true, schema: probe, example: "http:/api/v1/" },
    migrations: {
        description: "Run the database migration Job (migrationCommand) once per backend image before the API rolls out.",
        roles: tenantOnly,
        required: true,
        schema: z.boolean(),
        example: "true",
    },
    migrationCommand: {
        description: "The migration Job's command, run in the backend image's working directory.",
        roles: tenantOnly,
        required: true,
        schema: commandLine,
        example: '["python", "manage.py", "migrate", "--noinput"]',
    },
    writablePaths: {
        description:
            "Directories the backend writes besides /tmp (HOME), gunicorn's worker dir and beat's schedule dir: each becomes an emptyDir in the API, worker, beat and migration pods.",
        roles: tenantOnly,
        required: false,
        schema: z.array(writablePath),
        example: '["/code/media"]',
    },
    backendRunAs: {
        description:
            "Numeric {user, group} the backend image runs as (non-root under Pod Security restricted; the real python:3.8 image defaults to root).",
        roles: tenantOnly,
        required: true,
        schema: runAs,
        example: '{"user": 1000, "group": 1000}',
    },
    frontendRunAs: {
        description: "Numeric {user, group} the frontend image runs as (101 is nginx in the official nginx images).",
        roles: tenantOnly,
        required: true,
        schema: runAs,
        example: '{"user": 101, "group": 101}',
    },
    redisKeyPrefixMode: {
        description:
            "How the tenant's Redis key prefix is applied: shim (our Python shim on PYTHONPATH prefixes every Celery/kombu key; the app needs nothing) or app (the app reads DJANGO_REDIS_KEY_PREFIX itself).",
        roles: tenantOnly,
        required: true,
        schema: z.enum(["shim", "app"]),
        example: "shim",
    },
    extraEnv: {
        description: "More non-secret environment for the backend, added to the ConfigMap.",
        roles: tenantOnly,
        required: false,
        schema: envMap,
        example: '{"FEATURE_X": "1"}',
    },
    extraSecretEnv: {
        description:
            "More secret environment for the backend, added to the Secret (`pulumi config set --secret --path 'stock:extraSecretEnv.SENTRY_DSN' …`).",
        roles: tenantOnly,
        required: false,
        secret: true,
        schema: envMap,
        example: '{"SENTRY_DSN": "<dsn>"}',
    },
    lbUpstream: {
        description: "Name of the upstream (the cluster's ingress nodes) in the external nginx load balancer.",
        roles: tenantOnly,
        required: true,
        schema: z.string().regex(/^[A-Za-z0-9_]+$/, "must be an nginx upstream name"),
        example: "k8s",
    },
    // Rollout across the fleet: read by the fleet runner (tools/lib/rollout.ts), never by a deployment.
    rolloutWave: {
        description:
            "The rollout wave that deploys this tenant: `0` = canary (deployed first), then waves 1, 2, ... in order; the fleet runner halts before the next wave when one fails.",
        roles: tenantOnly,
        required: true,
        schema: z
            .number({ error: "must be a whole number" })
            .int("must be a whole number")
            .min(0, "must be 0 (canary) or more")
            .max(99, "must be at most 99"),
        example: "1",
    },
    rolloutBatchSize: {
        description: "At most this many tenant stacks deploy in one batch; a larger wave is split into batches that run one after another.",
        roles: sharedOnly,
        required: true,
        schema: z.number({ error: "must be a whole number" }).int("must be a whole number").min(1, "must be 1 or more"),
        example: "25",
    },
    rolloutFailureBudget: {
        description:
            "How many failed tenant stacks (outside the canary wave) the rollout tolerates; once more fail, no further batch starts. Any canary failure halts.",
        roles: sharedOnly,
        required: true,
        schema: z.number({ error: "must be a whole number" }).int("must be a whole number").min(0, "must be 0 or more"),
        example: "0",
    },
} satisfies Record<string, KeySpec>;

export type KeyName = keyof typeof KEYS;
type ValueOf<K extends KeyName> = z.output<(typeof KEYS)[K]["schema"]>;

export type Resources = z.output<typeof resources>;
export interface CeleryWorker {
    name: string;
    queues: string[];
    replicas: number;
    concurrency: number;
    logLevel: string;
    resources?: Resources;
}
export type RedisSettings = z.output<typeof redisSettings>;

/** A numeric user and group; never root. */
export interface RunAs {
    user: number;
    group: number;
}

/**
 * The app profile: every point where the charts or the program touch the application. The project
 * defaults (Pulumi.yaml) run the real stock app's images unmodified; the reference app in app/
 * opts into its hardened endpoints (README, "Bring your own app").
 */
export interface AppProfile {
    api: {
        /** Executable and leading arguments; the chart appends the WSGI module and gunicorn's flags. */
        command: string[];
        wsgiModule: string;
        probes: { startup: ProbeSpec; liveness: ProbeSpec; readiness: ProbeSpec };
    };
    celery: {
        command: string[];
        app: string;
        liveness: "ping" | "heartbeat" | "off";
        beatSchedule: string;
    };
    migrations: { enabled: boolean; command: string[] };
    /** Extra emptyDirs of every backend container (besides /tmp, gunicorn's worker dir and beat's schedule dir). */
    writablePaths: string[];
    runAs: { backend: RunAs; frontend: RunAs };
    /** `shim`: our runtime applies the tenant's Redis key prefix; `app`: the app reads DJANGO_REDIS_KEY_PREFIX. */
    redisKeyPrefix: "shim" | "app";
}

interface Common {
    /** The Pulumi stack name, e.g. `client-a`. */
    stack: string;
    kubeContext: string;
    kubeconfig?: string;
    /** Accepted, but probably not what the user meant: the program logs them, the plan prints them. */
    warnings: string[];
}

export interface SharedConfig extends Common {
    role: "shared";
    tenants: string[];
    /** Which stack deploys each tenant (the tenant's own name unless its entry says otherwise). */
    tenantStacks: Record<string, string>;
    redis: RedisSettings;
    /** Per Redis user, the password generation (absent = 0). */
    redisPasswordGenerations: Record<string, number>;
    /** Secret values, in memory only. */
    secrets: { redisPasswordSeed: string };
    /** How the fleet runner rolls tenants out (tools/lib/rollout.ts). */
    rollout: RolloutPolicy;
}

export interface TenantConfig extends Common {
    role: "tenant";
    sharedStack: string;
    tenant: string;
    host: string;
    /** The API's own host; absent: the API is served at /api on `host`. */
    apiHost?: string;
    /** Extra dotenv variables for the frontend build, besides the computed REACT_APP_HOST_URL. */
    frontendEnv: Record<string, string>;
    npmTokenMode: "build-arg" | "secret";
    buildCache: boolean;
    buildFor: string;
    tls?: { secretName: string; apiSecretName?: string } | { clusterIssuer: string };
    deployType: "dev" | "test" | "prod";
    debug: boolean;
    podSecurity: "restricted" | "baseline";
    database: { host: string; port: number; cidr: string; name: string; user: string };
    harbor: { server: string; project: string; username: string; pullUsername?: string };
    pullSecretName: string;
    images: {
        backend: { source: string; repository: string };
        frontend: { source: string; repository: string };
        platform: string;
    };
    replicas: { api: number; frontend: number };
    resources: { api: Resources; frontend: Resources; celery: Resources };
    gunicornWorkers: number;
    celery: { queues: string[]; workers: CeleryWorker[]; beat: boolean };
    app: AppProfile;
    extraEnv: Record<string, string>;
    lbUpstream: string;
    /** The rollout wave of this tenant; 0 = canary. */
    rolloutWave: number;
    /** Secret values, in memory only: the program wraps each one with `pulumi.secret`. */
    secrets: {
        dbPassword: string;
        harborPassword: string;
        harborPullPassword?: string;
        npmToken: string;
        extraSecretEnv: Record<string, string>;
    };
}

/** Fleet rollout settings, from the shared stack. */
export interface RolloutPolicy {
    /** Most tenant stacks deployed in one batch. */
    batchSize: number;
    /** Failed tenant stacks outside the canary wave the rollout tolerates before it halts. */
    failureBudget: number;
}

export type StackConfig = SharedConfig | TenantConfig;

/** What Pulumi gives the program: every `stock:*` key as a string (JSON for objects), and which keys are secret. */
export interface RawConfig {
    stack: string;
    /** The Pulumi organization of the stack (`organization` on a self-managed backend). */
    organization: string;
    values: Record<string, string>;
    secretKeys: ReadonlySet<string>;
}

/** Every problem with a stack's configuration, reported together. */
export class ConfigError extends Error {
    constructor(
        readonly stack: string,
        readonly problems: string[],
    ) {
        super(
            `Stack '${stack}' has ${problems.length} configuration problem${problems.length === 1 ? "" : "s"} (Pulumi.${stack}.yaml):\n` +
                problems.map((p) => `  - ${p}`).join("\n"),
        );
        this.name = "ConfigError";
    }
}

export function stackFile(stack: string): string {
    return `Pulumi.${stack}.yaml`;
}

/** Examples of tenant keys are written for client-a: shown for the stack at hand. The shared stack's name is never a tenant's. */
function exampleFor(spec: KeySpec, stack: string): string {
    if (!spec.roles.includes("tenant")) return spec.example;
    return spec.example.replace(/client-a/g, stack).replace(/client_a/g, stack.replace(/-/g, "_"));
}

function setCommand(key: string, stack: string, spec: KeySpec): string {
    if (spec.fix) return spec.fix(stack, stackFile(stack));
    return spec.secret
        ? `pulumi config set --secret ${PROJECT}:${key} -s ${stack}`
        : `pulumi config set ${PROJECT}:${key} '${exampleFor(spec, stack)}' -s ${stack}`;
}

function formatPath(key: string, path: ReadonlyArray<PropertyKey>): string {
    return `${PROJECT}:${key}` + path.map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`)).join("");
}

export function editDistance(a: string, b: string): number {
    const row = Array.from({ length: b.length + 1 }, (_, j) => j);
    for (let i = 1; i <= a.length; i++) {
        let diagonal = row[0];
        row[0] = i;
        for (let j = 1; j <= b.length; j++) {
            const above = row[j];
            row[j] = Math.min(row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
            diagonal = above;
        }
    }
    return row[b.length];
}

/** The declared key a mistyped one most likely means, if any is close. */
function nearestKey(key: string): KeyName | undefined {
    return (Object.keys(KEYS) as KeyName[]).find((k) => k.toLowerCase() === key.toLowerCase() || editDistance(k, key) <= 2);
}

/** Raw strings become typed values: numbers, booleans, JSON objects and arrays. Strings stay strings. */
function decode(raw: string, schema: z.ZodType): unknown {
    const trimmed = raw.trim();
    if (schema instanceof z.ZodString) return raw;
    try {
        return JSON.parse(trimmed);
    } catch {
        return raw;
    }
}

function valueAt(value: unknown, path: ReadonlyArray<PropertyKey>): unknown {
    return path.reduce<unknown>(
        (v, p) => (v !== null && typeof v === "object" ? (v as Record<PropertyKey, unknown>)[p] : undefined),
        value,
    );
}

function shorten(text: string): string {
    return text.length > 80 ? text.slice(0, 77) + "..." : text;
}

/** Namespaces of stack config that something other than this program reads: the providers it uses. */
const PROVIDER_NAMESPACES = ["pulumi", "docker", "random"];
/** Read only by default providers, which the program never uses for Kubernetes. */
const IGNORED_NAMESPACES = ["kubernetes"];

interface Checked {
    problems: string[];
    warnings: string[];
}

/** Keys outside the declared set: typos of ours, keys of another namespace, keys the providers ignore. */
function foreignKeys(raw: RawConfig, file: string, checked: Checked): void {
    const prefix = `${PROJECT}:`;
    for (const full of Object.keys(raw.values)) {
        const colon = full.indexOf(":");
        const namespace = colon < 0 ? "" : full.slice(0, colon);
        const key = full.slice(colon + 1);
        if (namespace === PROJECT) {
            if (key in KEYS) continue;
            const near = nearestKey(key);
            checked.problems.push(
                `${full} in ${file} is not a stock-deploy setting${near ? ` (did you mean ${prefix}${near}?)` : ""}. Fix: pulumi config rm ${full} -s ${raw.stack}; the settings are listed in README.md`,
            );
        } else if (IGNORED_NAMESPACES.includes(namespace)) {
            checked.warnings.push(
                `${full} in ${file} is ignored: every Kubernetes resource goes through the provider pinned to ${prefix}kubeContext and ${prefix}kubeconfig. Fix: pulumi config rm ${full} -s ${raw.stack}, and set ${prefix}kubeContext instead`,
            );
        } else if (!PROVIDER_NAMESPACES.includes(namespace)) {
            const typo = namespace.toLowerCase() === PROJECT || editDistance(namespace.toLowerCase(), PROJECT) <= 2;
            const near = typo ? (key in KEYS ? (key as KeyName) : nearestKey(key)) : undefined;
            const hint = near ? ` (did you mean ${prefix}${near}?)` : "";
            const move = near ? ` and ${setCommand(near, raw.stack, { ...KEYS[near], example: shorten(raw.values[full]) })}` : "";
            checked.problems.push(
                `${full} in ${file} is in namespace '${namespace}', which neither this program nor its providers read, so it would be ignored${hint}. Fix: pulumi config rm ${full} -s ${raw.stack}${move}`,
            );
        }
    }
}

/** Parses every declared key of the role: required, secret, shape. */
function parseKeys(raw: RawConfig, role: Role, file: string, checked: Checked): Partial<Record<KeyName, unknown>> {
    const prefix = `${PROJECT}:`;
    const values: Partial<Record<KeyName, unknown>> = {};
    for (const [key, spec] of Object.entries(KEYS) as [KeyName, KeySpec][]) {
        const full = `${prefix}${key}`;
        const rawValue = raw.values[full];
        if (!spec.roles.includes(role)) {
            // Secrets have no project defaults: one here was set in this stack, where it does not belong.
            if (spec.secret && rawValue !== undefined) {
                checked.problems.push(
                    `${full} is set in ${file}, but only ${spec.roles.join(" and ")} stacks use it, and a secret must live only where it is needed. Fix: pulumi config rm ${full} -s ${raw.stack}`,
                );
            }
            continue;
        }
        if (rawValue === undefined || rawValue === "") {
            if (spec.required) {
                checked.problems.push(
                    `${full} is required for ${role} stacks but is not set in ${file}. Fix: ${setCommand(key, raw.stack, spec)}`,
                );
            }
            continue;
        }
        if (spec.secret && !raw.secretKeys.has(full)) {
            checked.problems.push(
                `${full} is stored in plaintext in ${file}, but it is a secret. Fix: remove it from ${file} and run ${setCommand(key, raw.stack, spec)}`,
            );
            continue;
        }
        const decoded = decode(rawValue, spec.schema);
        const result = spec.schema.safeParse(decoded);
        if (!result.success) {
            for (const issue of result.error.issues) checked.problems.push(schemaProblem(key, spec, issue, decoded, raw.stack, file));
            continue;
        }
        values[key] = result.data;
    }
    return values;
}

/** One schema problem: the path that is wrong, what was found there, and a fix for that path only. */
function schemaProblem(key: KeyName, spec: KeySpec, issue: z.core.$ZodIssue, decoded: unknown, stack: string, file: string): string {
    const where = formatPath(key, issue.path);
    const found = valueAt(decoded, issue.path);
    const shown = spec.secret
        ? "[secret]"
        : found === undefined
          ? "nothing"
          : shorten(typeof found === "string" ? JSON.stringify(found) : JSON.stringify(found));
    const secretFlag = spec.secret ? "--secret " : "";
    let fix: string;
    if (issue.code === "unrecognized_keys") {
        fix = `remove ${issue.keys.map((k) => `'${k}'`).join(", ")} from ${where} in ${file}; pulumi config rm --path '${formatPath(key, [...issue.path, issue.keys[0]])}' -s ${stack}`;
    } else if (issue.path.length > 0) {
        // A whole-key example would replace the rest of the value (and may not suit it): fix this path only.
        fix = `pulumi config set ${secretFlag}--path '${where}' <value> -s ${stack}`;
    } else {
        fix = setCommand(key, stack, spec);
    }
    return `${where} in ${file}: ${issue.message} (got ${shown}). Fix: ${fix}`;
}

/** Rules across the shared stack's keys; returns the tenants and which stack deploys each. */
function sharedRules(
    get: <K extends KeyName>(k: K) => ValueOf<K>,
    stack: string,
    file: string,
    checked: Checked,
): { tenants: string[]; tenantStacks: Record<string, string> } {
    const prefix = `${PROJECT}:`;
    const entries = get("tenants").map(parseTenantEntry);
    const tenants = entries.map((e) => e.tenant);
    const duplicates = [...new Set(tenants.filter((t, i) => tenants.indexOf(t) !== i))];
    if (duplicates.length)
        checked.problems.push(
            `${prefix}tenants in ${file} lists ${duplicates.join(", ")} more than once. Fix: delete the repeated line(s) from ${prefix}tenants in ${file}, keeping one entry per tenant`,
        );
    const reserved = tenants.filter((t) => RESERVED_NAMESPACES.includes(t));
    if (reserved.length)
        checked.problems.push(
            `${prefix}tenants in ${file} contains reserved name(s) ${reserved.join(", ")}. Fix: rename the entry in ${file} to the customer's name, which must not be one of ${RESERVED_NAMESPACES.join(", ")}`,
        );
    const unique = entries.filter((e, i) => tenants.indexOf(e.tenant) === i);
    const stacks = unique.map((e) => e.stack);
    for (const s of [...new Set(stacks.filter((x, i) => stacks.indexOf(x) !== i))]) {
        const owners = unique.filter((e) => e.stack === s).map((e) => e.tenant);
        checked.problems.push(
            `${prefix}tenants in ${file} has stack '${s}' deploy ${owners.join(" and ")}, but a stack deploys exactly one tenant. Fix: give each of them its own stack: write '${owners[1]}' (deployed by stack ${owners[1]}) or '${owners[1]}@<its stack>' in ${file}`,
        );
    }
    if (stacks.includes(stack))
        checked.problems.push(
            `${prefix}tenants in ${file} has this shared stack '${stack}' deploy a tenant. Fix: write the tenant's own stack after its name, '<tenant>@<its stack>', in ${file}`,
        );
    const generations = get("redisPasswordGenerations") ?? {};
    const strangers = Object.keys(generations).filter((u) => u !== "default" && !tenants.includes(u));
    if (strangers.length)
        checked.problems.push(
            `${prefix}redisPasswordGenerations in ${file} names ${strangers.join(", ")}, which is neither 'default' nor in ${prefix}tenants. Fix: remove it from ${prefix}redisPasswordGenerations in ${file}, or add the tenant to ${prefix}tenants`,
        );
    return { tenants, tenantStacks: Object.fromEntries(entries.map((e) => [e.tenant, e.stack])) };
}

/** Database egress wider than this is refused: more than a /8 of the internet is never "where the database lives". */
const NARROWEST_REFUSED_PREFIX = 7;
/** Wider than a /24 is accepted with a warning: a database is usually one address (/32). */
const WIDEST_QUIET_PREFIX = 24;

/** Rules across a tenant stack's keys. */
function tenantRules(get: <K extends KeyName>(k: K) => ValueOf<K>, stack: string, file: string, checked: Checked): void {
    const prefix = `${PROJECT}:`;
    const queues = get("celeryQueues");
    const workers = get("celeryWorkers");
    workers.forEach((w, i) => {
        for (const q of w.queues) {
            if (!queues.includes(q)) {
                checked.problems.push(
                    `${prefix}celeryWorkers[${i}].queues in ${file} names unknown Celery queue '${q}'. Fix: use one of ${queues.join(", ")} (the app's queues, ${prefix}celeryQueues)`,
                );
            }
        }
    });
    const names = workers.map((w) => w.name);
    names
        .filter((n, i) => names.indexOf(n) !== i)
        .forEach((n) =>
            checked.problems.push(`${prefix}celeryWorkers in ${file} has two workers named '${n}'. Fix: give each worker its own name`),
        );
    // A worker scaled to 0 runs no process: its queues have no consumer.
    const running = new Set(workers.filter((w) => w.replicas > 0).flatMap((w) => w.queues));
    const orphaned = queues.filter((q) => !running.has(q));
    const stopped = orphaned.filter((q) => workers.some((w) => w.queues.includes(q)));
    const unlisted = orphaned.filter((q) => !stopped.includes(q));
    if (unlisted.length)
        checked.problems.push(
            `${prefix}celeryWorkers in ${file} leaves queue(s) ${unlisted.join(", ")} without a worker, so their tasks would never run. Fix: add them to a worker's queues`,
        );
    for (const q of stopped) {
        const idle = workers.map((w, i) => ({ w, i })).filter(({ w }) => w.queues.includes(q));
        checked.problems.push(
            `${prefix}celeryWorkers in ${file}: queue '${q}' is consumed only by ${idle.map(({ w, i }) => `${w.name} (${prefix}celeryWorkers[${i}].replicas is 0)`).join(", ")}, so its tasks would never run. Fix: pulumi config set --path '${prefix}celeryWorkers[${idle[0].i}].replicas' 1 -s ${stack}, or add '${q}' to a worker with replicas`,
        );
    }
    if (!get("harborPullUsername") !== !get("harborPullPassword")) {
        checked.problems.push(
            `${prefix}harborPullUsername and ${prefix}harborPullPassword in ${file} go together: one is set, the other is not. Fix: pulumi config set ${prefix}harborPullUsername 'robot$stock-pull-${stack}' -s ${stack} and pulumi config set --secret ${prefix}harborPullPassword -s ${stack}`,
        );
    }
    const writablePaths = get("writablePaths") ?? [];
    writablePaths
        .filter((p, i) => writablePaths.indexOf(p) !== i)
        .forEach((p) => checked.problems.push(`${prefix}writablePaths in ${file} lists ${p} twice. Fix: list each directory once`));
    const scheduleDir = path.posix.dirname(get("celeryBeatSchedule"));
    if (writablePaths.includes(scheduleDir)) {
        checked.problems.push(
            `${prefix}writablePaths in ${file} lists ${scheduleDir}, the directory of ${prefix}celeryBeatSchedule, which beat already gets writable. Fix: remove ${scheduleDir} from ${prefix}writablePaths`,
        );
    }
    if (get("apiHost") && get("apiHost") === get("host")) {
        checked.problems.push(
            `${prefix}apiHost in ${file} is the same as ${prefix}host (${get("host")}): a separate API host must differ. Fix: pulumi config rm ${prefix}apiHost -s ${stack} (the API is then served at /api on ${get("host")}), or pulumi config set ${prefix}apiHost 'api.${get("host")}' -s ${stack}`,
        );
    }
    const computedFrontendKeys = Object.keys(get("frontendEnv") ?? {}).filter((k) => k === FRONTEND_API_URL_VARIABLE);
    computedFrontendKeys.forEach((k) =>
        checked.problems.push(
            `${prefix}frontendEnv.${k} in ${file}: the program computes ${k} from ${prefix}host, ${prefix}apiHost and ${prefix}tls. Fix: pulumi config rm --path '${prefix}frontendEnv.${k}' -s ${stack}`,
        ),
    );
    if (get("debug") && get("deployType") === "prod") {
        checked.problems.push(
            `${prefix}debug is true while ${prefix}deployType is prod in ${file}: Django would show stack traces to customers. Fix: pulumi config set ${prefix}debug false -s ${stack}`,
        );
    }
    const cidr = get("dbCidr");
    const bits = Number(cidr.split("/")[1]);
    const dbPort = get("dbPort");
    if (bits <= NARROWEST_REFUSED_PREFIX) {
        checked.problems.push(
            `${prefix}dbCidr in ${file} is ${cidr}: the database egress rule would let the tenant's pods reach port ${dbPort} on ${bits === 0 ? "every address on the internet" : `2^${32 - bits} addresses`}. Fix: pulumi config set ${prefix}dbCidr '<the database's address>/32' -s ${stack}`,
        );
    } else if (bits < WIDEST_QUIET_PREFIX) {
        checked.warnings.push(
            `${prefix}dbCidr in ${file} is ${cidr}: the tenant's pods may reach port ${dbPort} on ${2 ** (32 - bits)} addresses, while a database is usually one (/32). Fix, unless the database really moves within that network: pulumi config set ${prefix}dbCidr '<the database's address>/32' -s ${stack}`,
        );
    }
    // Explicit `env` in the charts wins over `envFrom`; the ConfigMap and Secret are the program's.
    const reserved = reservedEnvKeys();
    const extraSecretEnv = get("extraSecretEnv") ?? {};
    const extraEnv = get("extraEnv") ?? {};
    for (const [key, map] of [
        ["extraEnv", extraEnv],
        ["extraSecretEnv", extraSecretEnv],
    ] as const) {
        for (const name of Object.keys(map).filter((n) => reserved.includes(n))) {
            checked.problems.push(
                `${prefix}${key}.${name} in ${file} would override a variable the program or its charts set. Fix: pulumi config rm --path '${prefix}${key}.${name}' -s ${stack}; ${name} is computed from the other settings`,
            );
        }
    }
    Object.keys(extraEnv)
        .filter((n) => n in extraSecretEnv)
        .forEach((n) =>
            checked.problems.push(
                `${n} is in both ${prefix}extraEnv and ${prefix}extraSecretEnv in ${file}. Fix: keep it in one of them (pulumi config rm --path '${prefix}extraEnv.${n}' -s ${stack})`,
            ),
        );
}

/**
 * Validates a stack's raw configuration. Returns the typed model, or throws one {@link ConfigError}
 * listing every problem (unknown keys, missing keys, wrong shapes, plaintext secrets, cross-key rules).
 * Three steps: the keys one by one, then the rules of the stack's role across keys.
 */
export function parseStackConfig(raw: RawConfig): StackConfig {
    const checked: Checked = { problems: [], warnings: [] };
    const { problems } = checked;
    const file = stackFile(raw.stack);
    const prefix = `${PROJECT}:`;

    const roleRaw = raw.values[`${prefix}role`];
    const role: Role | undefined = roleRaw === "shared" || roleRaw === "tenant" ? roleRaw : undefined;
    if (!role) {
        const likely = raw.stack.includes("shared") ? "shared" : "tenant";
        problems.push(
            roleRaw === undefined
                ? `${prefix}role is missing: set it in Pulumi.yaml or ${file} (shared or tenant). Fix: pulumi config set ${prefix}role ${likely} -s ${raw.stack}`
                : `${prefix}role is '${roleRaw}' in ${file}: must be 'shared' or 'tenant'. Fix: pulumi config set ${prefix}role ${likely} -s ${raw.stack}`,
        );
        throw new ConfigError(raw.stack, problems);
    }

    foreignKeys(raw, file, checked);
    const values = parseKeys(raw, role, file, checked);
    if (problems.length > 0) throw new ConfigError(raw.stack, problems);
    const get = <K extends KeyName>(k: K) => values[k] as ValueOf<K>;
    const common: Common = {
        stack: raw.stack,
        kubeContext: get("kubeContext"),
        kubeconfig: get("kubeconfig") || undefined,
        warnings: checked.warnings,
    };

    if (role === "shared") {
        const { tenants, tenantStacks } = sharedRules(get, raw.stack, file, checked);
        if (problems.length > 0) throw new ConfigError(raw.stack, problems);
        return {
            ...common,
            role,
            tenants,
            tenantStacks,
            redis: get("redis"),
            redisPasswordGenerations: get("redisPasswordGenerations") ?? {},
            secrets: { redisPasswordSeed: get("redisPasswordSeed") },
            rollout: { batchSize: get("rolloutBatchSize"), failureBudget: get("rolloutFailureBudget") },
        };
    }

    tenantRules(get, raw.stack, file, checked);
    if (problems.length > 0) throw new ConfigError(raw.stack, problems);
    const queues = get("celeryQueues");
    const workers = get("celeryWorkers");

    return {
        ...common,
        role,
        sharedStack: get("sharedStack") || `${raw.organization}/${PROJECT}/shared`,
        tenant: get("tenant"),
        host: get("host"),
        apiHost: get("apiHost") || undefined,
        frontendEnv: get("frontendEnv") ?? {},
        npmTokenMode: get("npmTokenMode"),
        buildCache: get("buildCache"),
        buildFor: get("buildFor") || get("tenant"),
        tls: get("tls"),
        deployType: get("deployType"),
        debug: get("debug"),
        podSecurity: get("podSecurity"),
        database: { host: get("dbHost"), port: get("dbPort"), cidr: get("dbCidr"), name: get("dbName"), user: get("dbUser") },
        harbor: {
            server: get("harborServer"),
            project: get("harborProject"),
            username: get("harborUsername"),
            pullUsername: get("harborPullUsername"),
        },
        pullSecretName: get("pullSecretName"),
        images: {
            backend: { source: get("backendSource"), repository: get("backendRepository") },
            frontend: { source: get("frontendSource"), repository: get("frontendRepository") },
            platform: get("imagePlatform"),
        },
        replicas: { api: get("apiReplicas"), frontend: get("frontendReplicas") },
        resources: { api: get("apiResources"), frontend: get("frontendResources"), celery: get("celeryResources") },
        gunicornWorkers: get("gunicornWorkers"),
        celery: { queues, workers, beat: get("celeryBeat") },
        app: {
            api: {
                command: get("apiCommand"),
                wsgiModule: get("wsgiModule"),
                probes: {
                    startup: probeOf(get("apiStartupProbe")),
                    liveness: probeOf(get("apiLivenessProbe")),
                    readiness: probeOf(get("apiReadinessProbe")),
                },
            },
            celery: {
                command: get("celeryCommand"),
                app: get("celeryApp"),
                liveness: get("celeryLiveness"),
                beatSchedule: get("celeryBeatSchedule"),
            },
            migrations: { enabled: get("migrations"), command: get("migrationCommand") },
            writablePaths: get("writablePaths") ?? [],
            runAs: { backend: get("backendRunAs"), frontend: get("frontendRunAs") },
            redisKeyPrefix: get("redisKeyPrefixMode"),
        },
        extraEnv: get("extraEnv") ?? {},
        lbUpstream: get("lbUpstream"),
        rolloutWave: get("rolloutWave"),
        secrets: {
            dbPassword: get("dbPassword"),
            harborPassword: get("harborPassword"),
            harborPullPassword: get("harborPullPassword"),
            npmToken: get("npmToken"),
            extraSecretEnv: get("extraSecretEnv") ?? {},
        },
    };
}
