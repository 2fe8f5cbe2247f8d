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
import * as fs from "fs";
import * as path from "path";
import { RedisSettings } from "../config";
import { aclFileLines } from "./acl";
import { RedisPasswords } from "./passwords";

export const REDIS_PORT = 6379;
/** Secret holding the `default` user's password (`auth.existingSecret`): what the chart's probes use. */
export const REDIS_AUTH_SECRET = "redis-auth";
export const REDIS_AUTH_SECRET_KEY = "redis-password";
/** Secret holding the ACL file: `default` plus one user per tenant. */
export const REDIS_ACL_SECRET = "redis-acl";
export const REDIS_ACL_FILE = "users.acl";
export const REDIS_ACL_DIR = "/opt/bitnami/redis/acl";
/** Namespaces carrying this label may open connections to Redis (the chart's NetworkPolicy). */
import { REDIS_CLIENT_LABEL } from "../names";

export { REDIS_CLIENT_LABEL };

/** In-cluster address of the Redis master (write access: Celery needs it, not a replica). */
export function redisMasterHost(settings: Pick<RedisSettings, "releaseName" | "namespace">): string {
    return `${settings.releaseName}-master.${settings.namespace}.svc.cluster.local`;
}

/** The ACL file: the same `default` password as `auth.existingSecret`, and each tenant's own user. */
export function redisAclFile(tenants: string[], passwords: RedisPasswords): string {
    return aclFileLines(tenants, passwords.tenants, passwords.defaultPassword).join("\n") + "\n";
}

/** A short digest for a pod annotation. Of values holding 256-bit passwords, it reveals nothing. */
export function shortDigest(text: string): string {
    return crypto.createHash("sha256").update(text).digest("hex").slice(0, 16);
}

/** Seconds between two looks of the reload sidecar at the mounted ACL file. */
export const ACL_RELOAD_INTERVAL_SECONDS = 5;

/** The reload sidecar's script (a file of its own, linted with bash -n and shellcheck by the tests). */
export const ACL_RELOAD_SCRIPT_PATH = path.join(__dirname, "acl-reload.sh");

/**
 * The reload sidecar's script: applies a changed ACL file to the running Redis (`ACL SETUSER` per
 * user, no restart, no dropped connections) and closes a rotated user's old sessions after the grace
 * period. Its settings come from the environment (see the script's header and aclReloadEnv()).
 */
export function aclReloadScript(): string {
    return fs.readFileSync(ACL_RELOAD_SCRIPT_PATH, "utf8");
}

/** The sidecar's settings (everything but REDIS_PASSWORD, which comes from the auth Secret). */
export function aclReloadEnv(
    settings: Pick<RedisSettings, "revokeGraceSeconds">,
    aclPath = `${REDIS_ACL_DIR}/${REDIS_ACL_FILE}`,
    port = REDIS_PORT,
): Record<string, string> {
    return {
        ACL_FILE: aclPath,
        REDIS_PORT: String(port),
        ACL_RELOAD_INTERVAL: String(ACL_RELOAD_INTERVAL_SECONDS),
        ACL_REVOKE_GRACE: String(settings.revokeGraceSeconds),
    };
}

/**
 * The Redis image's tag with its digest (`8.2.10-bookworm@sha256:...`), as the chart's `image.tag`:
 * the chart's own `image.digest` replaces the tag, and with it the version a reviewer and the
 * policy pack read from the rendered StatefulSet.
 */
export function redisImageTag(settings: Pick<RedisSettings, "imageTag" | "imageDigest">): string {
    return `${settings.imageTag}@${settings.imageDigest}`;
}

/** The full image reference, as the chart renders it for the Redis container. */
export function redisImage(settings: Pick<RedisSettings, "imageRepository" | "imageTag" | "imageDigest">): string {
    return `docker.io/${settings.imageRepository}:${redisImageTag(settings)}`;
}

const UNITS: Record<string, number> = { "": 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40 };

/** Bytes of a Kubernetes memory quantity (the forms components/config/shapes.ts accepts). */
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

function aclReloadSidecar(settings: RedisSettings): Record<string, unknown> {
    return {
        name: "acl-reload",
        image: redisImage(settings),
        command: ["/bin/bash", "-c", aclReloadScript()],
        env: [
            ...Object.entries(aclReloadEnv(settings)).map(([name, value]) => ({ name, value })),
            { name: "REDIS_PASSWORD", valueFrom: { secretKeyRef: { name: REDIS_AUTH_SECRET, key: REDIS_AUTH_SECRET_KEY } } },
        ],
        volumeMounts: [{ name: "acl", mountPath: REDIS_ACL_DIR, readOnly: true }],
        resources: { requests: { cpu: "5m", memory: "16Mi" }, limits: { cpu: "50m", memory: "32Mi" } },
        securityContext: {
            runAsNonRoot: true,
            runAsUser: 1001,
            allowPrivilegeEscalation: false,
            readOnlyRootFilesystem: true,
            capabilities: { drop: ["ALL"] },
            seccompProfile: { type: "RuntimeDefault" },
        },
    };
}

/**
 * @param defaultPasswordDigest shortDigest of the `default` user's password: Redis and its probes read
 *   that password at start-up, so only its rotation restarts the pods; tenant users reload live.
 */
export function redisChartValues(settings: RedisSettings, defaultPasswordDigest: string): Record<string, unknown> {
    const aclNode = {
        extraFlags: ["--aclfile", `${REDIS_ACL_DIR}/${REDIS_ACL_FILE}`],
        extraVolumes: [{ name: "acl", secret: { secretName: REDIS_ACL_SECRET } }],
        extraVolumeMounts: [{ name: "acl", mountPath: REDIS_ACL_DIR, readOnly: true }],
        sidecars: [aclReloadSidecar(settings)],
        podAnnotations: { "checksum/default-password": defaultPasswordDigest },
        persistence: settings.persistence,
        resources: settings.resources,
    };
    return {
        architecture: settings.architecture,
        image: { registry: "docker.io", repository: settings.imageRepository, tag: redisImageTag(settings) },
        // The chart refuses an image it does not ship (ours is the official Debian-based one, see
        // SECURITY.md) unless this is set; it gates nothing else.
        global: { security: { allowInsecureImages: true } },
        auth: {
            enabled: true,
            existingSecret: REDIS_AUTH_SECRET,
            existingSecretPasswordKey: REDIS_AUTH_SECRET_KEY,
            acl: { enabled: false },
        },
        // A broker must never drop queued tasks to make room: at the ceiling, writes fail instead.
        commonConfiguration: ["appendonly yes", 'save ""', `maxmemory ${redisMaxMemory(settings)}`, "maxmemory-policy noeviction"].join(
            "\n",
        ),
        master: aclNode,
        replica: settings.architecture === "standalone" ? { replicaCount: 0 } : aclNode,
        networkPolicy: {
            enabled: true,
            allowExternal: false,
            ingressNSMatchLabels: { [REDIS_CLIENT_LABEL]: "true" },
        },
    };
}
