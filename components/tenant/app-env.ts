/**
 * The environment the backend (API and Celery) reads, split the way the seed splits it: plain
 * settings in a ConfigMap, sensitive ones in a Secret, both consumed with `envFrom`.
 * docs/app-contract.md documents every variable.
 */
import { RedisConnection } from "../redis/credential";
import * as crypto from "crypto";
import { TenantConfig } from "../config";
import { KEDA_SECRET_ENV, kedaScaledWorkers } from "./keda";
import { tenantUrls } from "./urls";

export { ENV_CONFIGMAP, ENV_SECRET } from "../names";

/** Keys the program sets in the ConfigMap. */
export const CONFIG_ENV_KEYS = [
    "DJANGO_DEBUG",
    "MYSQL_DATABASE",
    "DEPLOY_TYPE",
    "DJANGO_DB_HOST",
    "DJANGO_DB_PORT",
    "DJANGO_ALLOWED_HOSTS",
    "DJANGO_REDIS_PORT",
    "DJANGO_REDIS_KEY_PREFIX",
] as const;
/** Keys only our Python runtime reads (components/tenant/python-runtime.ts), set when stock:redisKeyPrefixMode is shim. */
export const RUNTIME_ENV_KEYS = ["STOCK_REDIS_KEY_PREFIX"] as const;
/** Keys the program sets in the Secret. DJANGO_SECRET_KEY is generated per tenant and added by the Tenant component. */
export const SECRET_ENV_KEYS = ["DJANGO_DB_USER", "DJANGO_DB_PWD", "DJANGO_REDIS_HOST", "DJANGO_SECRET_KEY"] as const;
/** Keys the program adds to the Secret for KEDA's TriggerAuthentication (components/tenant/keda.ts), when KEDA scales a worker group. */
export const KEDA_SECRET_ENV_KEYS = Object.values(KEDA_SECRET_ENV);

export interface BackendEnv {
    config: Record<string, string>;
    secret: Record<string, string>;
}

/**
 * Variables the charts set in the containers' own `env` (the _helpers.tpl of charts/backend-api and charts/celery, and celery workers.yaml),
 * which wins over `envFrom`: the same name in the ConfigMap or Secret would be silently ignored.
 */
export const CHART_ENV_KEYS = ["HOME", "PYTHONUNBUFFERED", "PYTHONDONTWRITEBYTECODE", "PYTHONPATH", "CELERY_HEARTBEAT_FILE"] as const;

/** Names that `stock:extraEnv` / `stock:extraSecretEnv` may not reuse: the program or its charts own them. */
export function reservedEnvKeys(): string[] {
    return [...CONFIG_ENV_KEYS, ...RUNTIME_ENV_KEYS, ...SECRET_ENV_KEYS, ...KEDA_SECRET_ENV_KEYS, ...CHART_ENV_KEYS];
}

/** The backend's environment for a tenant. Every value is a plain string; the caller marks the Secret part secret. */
export function backendEnv(tenant: TenantConfig, redis: RedisConnection): BackendEnv {
    const config: Record<string, string> = {
        ...tenant.extraEnv,
        DJANGO_DEBUG: tenant.debug ? "1" : "0",
        MYSQL_DATABASE: tenant.database.name,
        DEPLOY_TYPE: tenant.deployType,
        DJANGO_DB_HOST: tenant.database.host,
        DJANGO_DB_PORT: String(tenant.database.port),
        // The host the API is served on: its own with stock:apiHost, else the frontend's.
        DJANGO_ALLOWED_HOSTS: tenantUrls(tenant).apiHost,
        DJANGO_REDIS_PORT: String(redis.port),
        // One prefix, applied once: by our shim for an app that knows nothing of it, or by the app itself.
        ...(tenant.app.redisKeyPrefix === "shim"
            ? { STOCK_REDIS_KEY_PREFIX: redis.keyPrefix }
            : { DJANGO_REDIS_KEY_PREFIX: redis.keyPrefix }),
    };
    const secret: Record<string, string> = {
        ...tenant.secrets.extraSecretEnv,
        DJANGO_DB_USER: tenant.database.user,
        DJANGO_DB_PWD: tenant.secrets.dbPassword,
        // The seed's `<user>:<pwd>@<server>` form; the app builds redis://%s:<port>/0 from it.
        DJANGO_REDIS_HOST: `${redis.username}:${redis.password}@${redis.host}`,
        // Only when KEDA scales a worker group: added earlier, these keys would roll every tenant's pods (checksum/env) for nothing.
        ...(kedaScaledWorkers(tenant.celery).length > 0
            ? {
                  [KEDA_SECRET_ENV.address]: redisAddress(redis),
                  [KEDA_SECRET_ENV.username]: redis.username,
                  [KEDA_SECRET_ENV.password]: redis.password,
              }
            : {}),
    };
    return { config, secret };
}

/** `host:port` as KEDA's redis scaler dials it (an IPv6 address in brackets). */
function redisAddress(redis: RedisConnection): string {
    return redis.host.includes(":") ? `[${redis.host}]:${redis.port}` : `${redis.host}:${redis.port}`;
}

/**
 * A short digest of the whole environment for the pods' `checksum/env` annotation, so a changed
 * ConfigMap or Secret rolls the pods. A truncated SHA-256 of values that include long generated
 * passwords reveals nothing usable; it is still computed only from values known at preview time.
 */
export function envChecksum(env: BackendEnv): string {
    const canonical = JSON.stringify([sorted(env.config), sorted(env.secret)]);
    return crypto.createHash("sha256").update(canonical).digest("hex").slice(0, 16);
}

function sorted(map: Record<string, string>): [string, string][] {
    return Object.keys(map)
        .sort()
        .map((k) => [k, map[k]]);
}
