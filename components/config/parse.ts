/**
 * The one entry point of the config model. Pure: it turns the raw key/value map Pulumi hands the
 * program (plus the list of keys that are secret) into a validated {@link StackConfig}, or a
 * {@link ConfigError} that lists every problem at once. No Pulumi resources, no I/O.
 */
import { PROJECT, probeOf } from "./shapes";
import { KeyName, KeyValue, ROLES, Role } from "./keys";
import { Common, RawConfig, StackConfig } from "./model";
import { ConfigError, stackFile } from "./errors";
import { Checked, foreignKeys, parseKeys } from "./parse-keys";
import { sharedRules } from "./shared-rules";
import { tenantRules } from "./tenant-rules";
import { harborRules } from "./harbor-rules";

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
    const role: Role | undefined = (ROLES as readonly string[]).includes(roleRaw) ? (roleRaw as Role) : undefined;
    if (!role) {
        const likely = raw.stack.includes("shared") ? "shared" : raw.stack.includes("images") ? "images" : "tenant";
        problems.push(
            roleRaw === undefined
                ? `${prefix}role is missing: set it in Pulumi.yaml or ${file} (images, shared or tenant). Fix: pulumi config set ${prefix}role ${likely} -s ${raw.stack}`
                : `${prefix}role is '${roleRaw}' in ${file}: must be 'images', 'shared' or 'tenant'. Fix: pulumi config set ${prefix}role ${likely} -s ${raw.stack}`,
        );
        throw new ConfigError(raw.stack, problems);
    }

    foreignKeys(raw, file, checked);
    const values = parseKeys(raw, role, file, checked);
    if (problems.length > 0) throw new ConfigError(raw.stack, problems);
    const get = <K extends KeyName>(k: K) => values[k] as KeyValue<K>;

    if (role !== "shared") harborRules(get, raw.stack, file, checked);
    if (role === "images") {
        return {
            stack: raw.stack,
            warnings: checked.warnings,
            role,
            harbor: {
                server: get("harborServer"),
                plainHttp: get("harborPlainHttp"),
                project: get("harborProject"),
                username: get("harborUsername"),
            },
            backend: { sources: get("backendSources"), repository: get("backendRepository") },
            platform: get("imagePlatform"),
            buildCache: get("buildCache"),
            secrets: { harborPassword: get("harborPassword") },
        };
    }
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
            plainHttp: get("harborPlainHttp"),
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
        celery: { queues, workers, beat: get("celeryBeat"), keda: get("celeryKeda") },
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
