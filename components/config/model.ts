/** The validated configuration the program, the tools and the tests read: one shape per stack role. */
import { z } from "zod";
import { ProbeSpec, celeryWorker, kedaScaling, redisSettings, resources, runAs } from "./shapes";
import { KeyValue } from "./keys";

export type Resources = z.output<typeof resources>;
/** One Celery worker group, as `stock:celeryWorkers` holds it (defaults applied). */
export type CeleryWorker = z.output<typeof celeryWorker>;
/** A worker group's KEDA bounds and target (`stock:celeryWorkers[i].keda`). */
export type KedaScaling = z.output<typeof kedaScaling>;
export type RedisSettings = z.output<typeof redisSettings>;

/** A numeric user and group; never root. */
export type RunAs = z.output<typeof runAs>;

/**
 * The app profile: every point where the charts or the program touch the application. The project
 * defaults (Pulumi.yaml) run the real stock app's images unmodified; the reference app in app/
 * opts into its hardened endpoints (README, "Bring your own app").
 */
export interface AppProfile {
    api: {
        /** Executable and leading arguments; the chart appends the WSGI module and gunicorn's flags. */
        command: KeyValue<"apiCommand">;
        wsgiModule: KeyValue<"wsgiModule">;
        probes: { startup: ProbeSpec; liveness: ProbeSpec; readiness: ProbeSpec };
    };
    celery: {
        command: KeyValue<"celeryCommand">;
        app: KeyValue<"celeryApp">;
        liveness: KeyValue<"celeryLiveness">;
        beatSchedule: KeyValue<"celeryBeatSchedule">;
    };
    migrations: { enabled: boolean; command: string[] };
    /** Extra emptyDirs of every backend container (besides /tmp, gunicorn's worker dir and beat's schedule dir). */
    writablePaths: string[];
    runAs: { backend: RunAs; frontend: RunAs };
    /** `shim`: our runtime applies the tenant's Redis key prefix; `app`: the app reads DJANGO_REDIS_KEY_PREFIX. */
    redisKeyPrefix: KeyValue<"redisKeyPrefixMode">;
}

/** What every stack's configuration has. */
export interface StackBase {
    /** The Pulumi stack name, e.g. `client-a`. */
    stack: string;
    /** Accepted, but probably not what the user meant: the program logs them, the plan prints them. */
    warnings: string[];
}

/** What the stacks that deploy to a cluster (shared, tenant) have. */
export interface Common extends StackBase {
    kubeContext: string;
    kubeconfig?: string;
}

/** Where the images are pushed and with which robot (the images and tenant stacks). */
export interface HarborAccess {
    /** `stock:harborServer`, host[:port]. */
    server: string;
    /** `stock:harborPlainHttp`: the registry is asked over plain HTTP instead of HTTPS. */
    plainHttp: boolean;
    project: string;
    /** The push robot. */
    username: string;
}

/** The images stack: builds and pushes each backend image of the fleet once per content tag; no cluster. */
export interface ImagesConfig extends StackBase {
    role: "images";
    /** Where the backend images are pushed, and the robot that pushes them. */
    harbor: HarborAccess;
    backend: {
        /** `stock:backendSources` as written: relative to the repository, or absolute. */
        sources: string[];
        repository: string;
    };
    platform: string;
    buildCache: boolean;
    /** Secret values, in memory only. */
    secrets: { harborPassword: string };
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
    frontendEnv: NonNullable<KeyValue<"frontendEnv">>;
    npmTokenMode: KeyValue<"npmTokenMode">;
    buildCache: boolean;
    buildFor: string;
    tls?: KeyValue<"tls">;
    deployType: KeyValue<"deployType">;
    debug: boolean;
    podSecurity: KeyValue<"podSecurity">;
    database: { host: string; port: number; cidr: string; name: string; user: string };
    harbor: HarborAccess & { pullUsername?: string };
    pullSecretName: string;
    images: {
        backend: { source: string; repository: string };
        frontend: { source: string; repository: string };
        platform: string;
    };
    replicas: { api: KeyValue<"apiReplicas">; frontend: KeyValue<"frontendReplicas"> };
    resources: { api: Resources; frontend: Resources; celery: Resources };
    gunicornWorkers: number;
    /** `keda`: stock:celeryKeda; the groups it scales are those with a `keda` block (kedaScaledWorkers in components/tenant/keda.ts). */
    celery: { queues: string[]; workers: CeleryWorker[]; beat: boolean; keda: boolean };
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

export type StackConfig = ImagesConfig | SharedConfig | TenantConfig;

/** What Pulumi gives the program: every `stock:*` key as a string (JSON for objects), and which keys are secret. */
export interface RawConfig {
    stack: string;
    /** The Pulumi organization of the stack (`organization` on a self-managed backend). */
    organization: string;
    values: Record<string, string>;
    secretKeys: ReadonlySet<string>;
}
