/**
 * Values for the Bitnami Redis chart the shared stack installs. Passwords never appear here, only
 * the names of the Secrets that hold them and a checksum of the ACL file, so every value is known
 * at preview time.
 *
 * Tenant ACL users come from an ACL file we render ourselves (Secret `redis-acl`, loaded with
 * `--aclfile`), not from the chart's `auth.acl` values: the chart reads passwords for those with
 * Helm `lookup`, which is empty when helm.v4.Chart renders client side, and then writes `nopass`
 * (any password accepted) for tenant users and a random password for `default`.
 */
import * as crypto from "crypto";
import { RedisSettings } from "./config";
import { aclFileLines } from "./redis-acl";
import { RedisPasswords } from "./redis-passwords";

export const REDIS_PORT = 6379;
/** Secret holding the `default` user's password (`auth.existingSecret`): what the chart's probes use. */
export const REDIS_AUTH_SECRET = "redis-auth";
export const REDIS_AUTH_SECRET_KEY = "redis-password";
/** Secret holding the ACL file: `default` plus one user per tenant. */
export const REDIS_ACL_SECRET = "redis-acl";
export const REDIS_ACL_FILE = "users.acl";
export const REDIS_ACL_DIR = "/opt/bitnami/redis/acl";
/** Namespaces carrying this label may open connections to Redis (the chart's NetworkPolicy). */
export const REDIS_CLIENT_LABEL = "stock-deploy/redis-client";

/** In-cluster address of the Redis master (write access: Celery needs it, not a replica). */
export function redisMasterHost(settings: Pick<RedisSettings, "releaseName" | "namespace">): string {
    return `${settings.releaseName}-master.${settings.namespace}.svc.cluster.local`;
}

/** The ACL file: the same `default` password as `auth.existingSecret`, and each tenant's own user. */
export function redisAclFile(tenants: string[], passwords: RedisPasswords): string {
    return aclFileLines(tenants, passwords.tenants, passwords.defaultPassword).join("\n") + "\n";
}

/** Changes whenever the ACL file does, so Redis restarts and loads it. Derived from 256-bit passwords, it reveals nothing. */
export function aclChecksum(aclFile: string): string {
    return crypto.createHash("sha256").update(aclFile).digest("hex").slice(0, 16);
}

const UNITS: Record<string, number> = { "": 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40 };

/** Bytes of a Kubernetes memory quantity (the forms components/config.ts accepts). */
export function memoryBytes(quantity: string): number {
    const match = /^(\d+(?:\.\d+)?)([kMGT]i?)?$/.exec(quantity);
    if (!match) throw new Error(`not a memory quantity: ${quantity}`);
    return Math.floor(Number(match[1]) * UNITS[match[2] ?? ""]);
}

/**
 * Redis's own memory ceiling: three quarters of the container's memory limit, leaving room for
 * fork-time copy-on-write and buffers. Without it, noeviction never triggers and the kernel
 * OOM-kills Redis instead, taking every tenant's queues down.
 */
export function redisMaxMemory(settings: Pick<RedisSettings, "resources">): number {
    return Math.floor(memoryBytes(settings.resources.limits.memory) * 0.75);
}

export function redisChartValues(settings: RedisSettings, checksum: string): Record<string, unknown> {
    const aclNode = {
        extraFlags: ["--aclfile", `${REDIS_ACL_DIR}/${REDIS_ACL_FILE}`],
        extraVolumes: [{ name: "acl", secret: { secretName: REDIS_ACL_SECRET } }],
        extraVolumeMounts: [{ name: "acl", mountPath: REDIS_ACL_DIR, readOnly: true }],
        podAnnotations: { "checksum/acl": checksum },
        persistence: settings.persistence,
        resources: settings.resources,
    };
    return {
        architecture: settings.architecture,
        image: { registry: "docker.io", repository: settings.imageRepository, tag: settings.imageTag },
        // The bitnami/ Debian images are gone; the chart refuses other repositories without this.
        global: { security: { allowInsecureImages: true } },
        auth: {
            enabled: true,
            existingSecret: REDIS_AUTH_SECRET,
            existingSecretPasswordKey: REDIS_AUTH_SECRET_KEY,
            acl: { enabled: false },
        },
        // A broker must never drop queued tasks to make room: at the ceiling, writes fail instead.
        commonConfiguration: ["appendonly yes", 'save ""', `maxmemory ${redisMaxMemory(settings)}`, "maxmemory-policy noeviction"].join("\n"),
        master: aclNode,
        replica: settings.architecture === "standalone" ? { replicaCount: 0 } : aclNode,
        networkPolicy: {
            enabled: true,
            allowExternal: false,
            ingressNSMatchLabels: { [REDIS_CLIENT_LABEL]: "true" },
        },
    };
}
