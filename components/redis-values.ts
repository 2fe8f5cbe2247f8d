/**
 * Values for the Bitnami Redis chart the shared stack installs. Pure: passwords never appear here,
 * only the names of the Secrets that hold them (`auth.existingSecret`, `auth.acl.userSecret`), so
 * every value is known at preview time.
 */
import { RedisSettings } from "./config";
import { redisAclValues } from "./redis-acl";

export const REDIS_PORT = 6379;
/** Secret holding the `default` user's password: the chart's own probes and admin use it; tenants never get it. */
export const REDIS_AUTH_SECRET = "redis-auth";
export const REDIS_AUTH_SECRET_KEY = "redis-password";
/** Secret holding one password per tenant ACL user (key = user name). */
export const REDIS_ACL_SECRET = "redis-acl-users";
/** Namespaces carrying this label may open connections to Redis (the chart's NetworkPolicy). */
export const REDIS_CLIENT_LABEL = "stock-deploy/redis-client";

/** In-cluster address of the Redis master (write access: Celery needs it, not a replica). */
export function redisMasterHost(settings: Pick<RedisSettings, "releaseName" | "namespace">): string {
    return `${settings.releaseName}-master.${settings.namespace}.svc.cluster.local`;
}

export function redisChartValues(settings: RedisSettings, tenants: string[]): Record<string, unknown> {
    return {
        architecture: settings.architecture,
        image: { registry: "docker.io", repository: settings.imageRepository, tag: settings.imageTag },
        // The bitnami/ Debian images are gone; the chart refuses other repositories without this.
        global: { security: { allowInsecureImages: true } },
        auth: {
            enabled: true,
            existingSecret: REDIS_AUTH_SECRET,
            existingSecretPasswordKey: REDIS_AUTH_SECRET_KEY,
            acl: redisAclValues(tenants, REDIS_ACL_SECRET),
        },
        // A broker must never drop queued tasks to make room: fail writes instead.
        commonConfiguration: ["appendonly yes", 'save ""', "maxmemory-policy noeviction"].join("\n"),
        master: {
            persistence: settings.persistence,
            resources: settings.resources,
        },
        replica: settings.architecture === "standalone" ? { replicaCount: 0 } : { persistence: settings.persistence, resources: settings.resources },
        networkPolicy: {
            enabled: true,
            allowExternal: false,
            ingressNSMatchLabels: { [REDIS_CLIENT_LABEL]: "true" },
        },
    };
}
