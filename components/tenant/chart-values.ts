/**
 * Values for the three charts we own, computed from the tenant's config. Pure and exported so the
 * chart tests render exactly what the program deploys. Every value is known before `pulumi up`
 * (content-derived tags, names, config): helm.v4.Chart can then render at preview time and the
 * preview lists each Deployment, Service and Ingress that changes.
 */
import { PYTHON_RUNTIME_MOUNT, ProbeSpec, RunAs, TenantConfig } from "../config";
import { API_PATH, tenantUrls } from "./urls";
import { ENV_CONFIGMAP, ENV_SECRET } from "./app-env";
import { CELERY_BEAT_RESOURCES } from "./quota";
import type { ImageRef } from "../images/backend-image";
import { KEDA_SECRET_ENV, kedaScaledWorkers } from "./keda";
import { TENANT_REDIS_DB } from "../redis/acl";

export { CHARTS_DIR } from "../names";

/** The seed's release names (`helm install stock-backend-api ...`). */
export const RELEASES = {
    "backend-api": "stock-backend-api",
    celery: "stock-backend-celery",
    frontend: "stock-frontend",
} as const;

export type ChartName = keyof typeof RELEASES;

export type { ImageRef };

export interface ChartInputs {
    tenant: TenantConfig;
    images: { backend: ImageRef; frontend: ImageRef };
    /** The `checksum/env` pod annotation: changes whenever the ConfigMap or Secret does. */
    envChecksum: string;
    /** Where the tenant's Redis is, and its key prefix (the KEDA triggers' list names start with it). */
    redis: { namespace: string; port: number; keyPrefix: string };
    /** Our Python runtime's ConfigMap and checksum, when stock:redisKeyPrefixMode is shim. */
    pythonRuntime?: { configMap: string; checksum: string };
}

export type ChartValues = Record<ChartName, Record<string, unknown>>;

/** One Ingress's values: a host, a path, its TLS entry and, for a cross-origin API, CORS from the frontend's origin. */
function ingress(tenant: TenantConfig, host: string, pathPrefix: string, options: { secretName?: string; corsOrigin?: string } = {}) {
    const tls = options.secretName ? [{ secretName: options.secretName, hosts: [host] }] : [];
    return {
        enabled: true,
        className: "nginx",
        annotations: {},
        hosts: [{ host, paths: [{ path: pathPrefix, pathType: "Prefix" }] }],
        tls,
        certManager: { clusterIssuer: tenant.tls && "clusterIssuer" in tenant.tls ? tenant.tls.clusterIssuer : "" },
        ...(options.corsOrigin ? { cors: { enabled: true, allowOrigin: options.corsOrigin } } : {}),
    };
}

/** An API probe from config, in the backend-api chart's terms (timings stay the chart's). */
export function probeValues(probe: ProbeSpec): Record<string, unknown> {
    switch (probe.kind) {
        case "off":
            return { enabled: false };
        case "tcp":
            return { enabled: true, kind: "tcp" };
        case "http":
            return { enabled: true, kind: "http", path: probe.path };
        case "exec":
            return { enabled: true, kind: "exec", command: ["/bin/sh", "-c", probe.command] };
    }
}

/** The numeric user and group of a chart's pods; helm merges these into the chart's restricted security contexts. */
function runAsValues(runAs: RunAs) {
    return {
        podSecurityContext: { runAsUser: runAs.user, runAsGroup: runAs.group, fsGroup: runAs.group },
        containerSecurityContext: { runAsUser: runAs.user, runAsGroup: runAs.group },
    };
}

/** The API's Ingress: on the frontend's host, or on stock:apiHost with its TLS secret and CORS for the frontend. */
function apiIngress(tenant: TenantConfig) {
    const urls = tenantUrls(tenant);
    const secret = tenant.tls && "secretName" in tenant.tls ? tenant.tls : undefined;
    return ingress(tenant, urls.apiHost, API_PATH, {
        secretName: secret && (urls.separateApiHost ? (secret.apiSecretName ?? secret.secretName) : secret.secretName),
        corsOrigin: urls.separateApiHost ? urls.origin : undefined,
    });
}

export function chartValues({ tenant, images, envChecksum, redis, pythonRuntime }: ChartInputs): ChartValues {
    const image = (ref: ImageRef) => ({ repository: ref.repository, tag: ref.tag, pullPolicy: "IfNotPresent" });
    const imagePullSecrets = [{ name: tenant.pullSecretName }];
    const app = tenant.app;
    const podAnnotations = { "checksum/env": envChecksum, ...(pythonRuntime ? { "checksum/runtime": pythonRuntime.checksum } : {}) };
    const backendApp = {
        ...runAsValues(app.runAs.backend),
        writablePaths: app.writablePaths,
        pythonRuntime: { configMap: pythonRuntime?.configMap ?? "", mountPath: PYTHON_RUNTIME_MOUNT },
    };
    const backendNetworkPolicy = {
        enabled: true,
        redis: { namespace: redis.namespace, port: redis.port },
        database: { cidr: tenant.database.cidr, port: tenant.database.port },
    };
    const env = { configmap: ENV_CONFIGMAP, secret: ENV_SECRET };
    const scaledByKeda = new Set(kedaScaledWorkers(tenant.celery).map((w) => w.name));

    return {
        "backend-api": {
            image: image(images.backend),
            imagePullSecrets,
            env,
            podAnnotations,
            replicaCount: tenant.replicas.api,
            resources: tenant.resources.api,
            ...backendApp,
            gunicorn: { command: app.api.command, wsgiModule: app.api.wsgiModule, workers: tenant.gunicornWorkers, timeout: 60 },
            startupProbe: probeValues(app.api.probes.startup),
            livenessProbe: probeValues(app.api.probes.liveness),
            readinessProbe: probeValues(app.api.probes.readiness),
            migrations: { enabled: app.migrations.enabled, command: app.migrations.command },
            ingress: apiIngress(tenant),
            networkPolicy: backendNetworkPolicy,
        },
        celery: {
            image: image(images.backend),
            imagePullSecrets,
            env,
            podAnnotations,
            workers: tenant.celery.workers.map((w) => ({
                name: w.name,
                queues: w.queues,
                replicaCount: w.replicas,
                concurrency: w.concurrency,
                logLevel: w.logLevel,
                ...(w.resources ? { resources: w.resources } : {}),
                ...(scaledByKeda.has(w.name) && w.keda
                    ? {
                          keda: {
                              enabled: true,
                              minReplicaCount: w.keda.minReplicas,
                              maxReplicaCount: w.keda.maxReplicas,
                              listLength: w.keda.listLength,
                              activationListLength: w.keda.activationListLength,
                          },
                      }
                    : {}),
            })),
            // Off unless a worker turns it on above; the list names are <keyPrefix><queue>, the
            // credential comes from the tenant's Secret (components/tenant/keda.ts).
            keda: {
                enabled: false,
                keyPrefix: redis.keyPrefix,
                databaseIndex: TENANT_REDIS_DB,
                auth: {
                    secretName: ENV_SECRET,
                    addressKey: KEDA_SECRET_ENV.address,
                    usernameKey: KEDA_SECRET_ENV.username,
                    passwordKey: KEDA_SECRET_ENV.password,
                },
            },
            resources: tenant.resources.celery,
            ...backendApp,
            celeryCommand: app.celery.command,
            celeryApp: app.celery.app,
            livenessProbe: app.celery.liveness === "off" ? { enabled: false } : { enabled: true, mode: app.celery.liveness },
            // beat's resources set here (the chart's default values) so that the namespace's quota knows them.
            beat: { enabled: tenant.celery.beat, schedulePath: app.celery.beatSchedule, resources: CELERY_BEAT_RESOURCES },
            networkPolicy: backendNetworkPolicy,
        },
        frontend: {
            image: image(images.frontend),
            imagePullSecrets,
            ...runAsValues(app.runAs.frontend),
            replicaCount: tenant.replicas.frontend,
            resources: tenant.resources.frontend,
            ingress: ingress(tenant, tenant.host, "/", {
                secretName: tenant.tls && "secretName" in tenant.tls ? tenant.tls.secretName : undefined,
            }),
            networkPolicy: { enabled: true },
        },
    };
}
