/**
 * Every config key the program reads: its description, roles, need, secrecy, shape and example.
 * `README.md` (generated) and `Pulumi.yaml` (a test) follow this table.
 */
import * as path from "path";
import { z } from "zod";
import {
    RESERVED_NAMESPACES,
    IPV4,
    PROBE_HELP,
    SHELL_SAFE,
    absolutePath,
    celeryWorker,
    contextSlug,
    commandLine,
    dnsLabel,
    dnsName,
    dotenvValue,
    envKey,
    envMap,
    isCidr,
    isDnsName,
    port,
    probe,
    pythonName,
    redisSettings,
    registryHost,
    replicas,
    resources,
    runAs,
    tenantEntry,
    tls,
    writablePath,
} from "./shapes";

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
    /**
     * Set in a stack of another role, the key is refused rather than ignored. Only for keys without
     * a project default in `Pulumi.yaml` (a test checks it), so such a value was written into that
     * stack's file by hand, and it would do nothing there.
     */
    refusedInOtherRoles?: boolean;
}

/** What a stack deploys: the backend image (`images`, once per fleet), the shared Redis (`shared`, once per cluster) or one customer (`tenant`). */
export const ROLES = ["images", "shared", "tenant"] as const;
export type Role = (typeof ROLES)[number];
/** The stacks that deploy to a cluster. */
const clusterStacks: Role[] = ["shared", "tenant"];
/** The stacks that build and push images (the images stack the backend, each tenant its frontend). */
const buildingStacks: Role[] = ["images", "tenant"];
const tenantOnly: Role[] = ["tenant"];
const sharedOnly: Role[] = ["shared"];
const imagesOnly: Role[] = ["images"];

/**
 * The fix of a missing or unusable build context: the real app's checkout next to this repository
 * (its repository has backend/ and frontend/), or the reference app here. An example of where, not a
 * default: which app a stack builds is the stack's to say.
 */
export function sourceFix(key: "backendSource" | "frontendSource", stack: string): string {
    const part = key === "backendSource" ? "backend" : "frontend";
    return `pulumi config set stock:${key} '../stock/${part}' -s ${stack}, the ${part}/ of your checkout of the app (e.g. git clone -b dev https://github.com/fengxia41103/stock ../stock), relative to this repository or absolute; app/${part} is the reference app in this repository`;
}

/** Every config key the program reads, without the `stock:` prefix. */
export const KEYS = {
    role: {
        description:
            "What this stack deploys: `images` (builds and pushes the backend image every tenant deploys, once per content tag, before any tenant), `shared` (the Redis every tenant uses, once per cluster) or `tenant` (one customer).",
        roles: ROLES,
        required: true,
        schema: z.enum(ROLES),
        example: "tenant",
    },
    kubeContext: {
        description: "The kubeconfig context to deploy to; every Kubernetes resource goes through a provider pinned to it.",
        roles: clusterStacks,
        required: true,
        schema: z.string().min(1),
        example: "feng-k8s",
    },
    kubeconfig: {
        description: "Path to the kubeconfig file holding kubeContext; empty means $KUBECONFIG or ~/.kube/config.",
        roles: clusterStacks,
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
            "Import and export the BuildKit layer cache in Harbor (the images stack: `<backendRepository>:buildcache-<backend source>` for each backend; a tenant: `<frontendRepository>:buildcache-<tenant>`), so a fresh CI runner reuses the last build. Leave `buildcache*` out of Harbor tag-immutability rules; a refused cache push does not fail the build. With `npmTokenMode: build-arg` the frontend's cache holds only the final stage's layers (`mode=min`), never the builder's, which may hold the token.",
        roles: buildingStacks,
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
        description:
            "The Harbor registry host[:port] images are pushed to and pulled from; a tenant's must be the images stack's, which pushes its backend image.",
        roles: buildingStacks,
        required: true,
        schema: registryHost,
        example: "harbor.feng.local:9800",
    },
    harborPlainHttp: {
        description:
            "Talk to `stock:harborServer` over plain HTTP, as Docker's `insecure-registries` do (the e2e job's kind registry): the program's tag lookups then send the robot's credentials unencrypted, and every run warns. Default false: HTTPS only, and a registry that answers plain HTTP is refused, never retried without TLS.",
        roles: buildingStacks,
        required: true,
        schema: z.boolean(),
        example: "false",
    },
    harborProject: {
        description: "The Harbor project holding the images; a tenant's must be the images stack's.",
        roles: buildingStacks,
        required: true,
        schema: z.string().regex(/^[a-z0-9]+([._-][a-z0-9]+)*$/, "must be a Harbor project name (lower case)"),
        example: "library",
    },
    harborUsername: {
        description:
            "The Harbor robot that pushes: the backend images (images stack) or the tenant's frontend image; pods pull with it only when no harborPullUsername is set.",
        roles: buildingStacks,
        required: true,
        schema: z.string().min(1),
        example: "robot$stock-deploy",
    },
    harborPassword: {
        description: "The push robot's token (`stock:harborUsername`).",
        roles: buildingStacks,
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
        description:
            "Build context of the backend image this tenant deploys (Django API and Celery): a directory with its Dockerfile at the top, relative to the repository or absolute. No default: every tenant stack names the app it builds (the real app's checkout: `<checkout>/backend`; the reference app: `app/backend`). The tenant never builds it: it computes the image's content tag, which the images stack (listing the same context in `stock:backendSources`) must have pushed before `pulumi up`.",
        roles: tenantOnly,
        required: true,
        schema: z.string().min(1),
        example: "../stock/backend",
        fix: (stack) => sourceFix("backendSource", stack),
    },
    frontendSource: {
        description:
            "Build context of the frontend image: a directory whose Dockerfile declares `ARG BUILD_FOR`, relative to the repository or absolute; no default (the real app's checkout: `<checkout>/frontend`; the reference app: `app/frontend`). The program builds from a staged copy (`.build/<stack>/frontend`, git-ignored) with `envs/<buildFor>` computed; an `envs/<buildFor>` found in the source keeps its other keys, and one whose computed keys disagree is refused.",
        roles: tenantOnly,
        required: true,
        schema: z.string().min(1),
        example: "../stock/frontend",
        fix: (stack) => sourceFix("frontendSource", stack),
    },
    backendRepository: {
        description: "Harbor repository of the backend images; a tenant's must be the images stack's.",
        roles: buildingStacks,
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
        description: "Platform the images are built for; a tenant's must be the images stack's (the content tag does not cover it).",
        roles: buildingStacks,
        required: true,
        schema: z.string().regex(/^[a-z0-9]+\/[a-z0-9]+(\/[a-z0-9]+)?$/, "must be os/arch such as linux/amd64"),
        example: "linux/amd64",
    },
    backendSources: {
        description:
            "The images stack's backend build contexts (relative to the repo or absolute), one line each: every `stock:backendSource` a tenant deploys. Each distinct content is built and pushed once, as `<backendRepository>:ctx-<content hash>`; a tag Harbor already has is never built again.",
        roles: imagesOnly,
        required: true,
        refusedInOtherRoles: true,
        schema: z
            .array(z.string().min(1, "a build context must not be empty"))
            .min(1, "list at least one backend build context")
            .refine((l) => new Set(l).size === l.length, "lists a build context twice")
            .refine(
                (l) => new Set(l.map(contextSlug)).size === l.length,
                "lists two build contexts whose names differ only in punctuation (e.g. app/backend and app-backend): their image resources would have one name",
            ),
        example: '["app/backend"]',
        fix: (stack, file) =>
            `list each backend build context on its own line under stock:backendSources in ${file} (- app/backend), or pulumi config set --path 'stock:backendSources[0]' app/backend -s ${stack}`,
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
            "Celery worker Deployments: name, queues (-Q), replicas, concurrency, logLevel, optional resources, optional keda (`{minReplicas, maxReplicas, listLength, activationListLength}`, used with `stock:celeryKeda`). Split a busy queue into its own worker (see `Pulumi.client-b.yaml`). Every queue must have a worker.",
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
    celeryKeda: {
        description:
            "Scale every worker group of `stock:celeryWorkers` that has a `keda` block with a KEDA ScaledObject on the length of its queues (the tenant's own prefixed Redis lists, read as the tenant's Redis user) instead of its fixed `replicas`; needs KEDA >= 2.10 in the cluster. false: every group runs its `replicas` (its `keda` block is ignored, with a warning).",
        roles: tenantOnly,
        required: true,
        schema: z.boolean(),
        // false: true also needs a keda block in stock:celeryWorkers, which one `config set` cannot add.
        example: "false",
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
export type KeyValue<K extends KeyName> = z.output<(typeof KEYS)[K]["schema"]>;
