import { containersOf, describe, podSpecOf, ResourceView } from "../lib/resources";
import { parseImageRef } from "../lib/images";
import { resourcePolicy } from "../lib/resource-policy";

/** A Redis server vulnerability every tenant could reach (they all may run EVAL), and the release that fixed it. */
export interface RedisCve {
    id: string;
    fixedIn: string;
    what: string;
}

/** What a Redis older than REDIS_MIN_PATCHED_VERSION carries (at least one of). */
export const REDIS_CVES: readonly RedisCve[] = [
    { id: "CVE-2025-49844", fixedIn: "8.2.2", what: "Lua use-after-free, remote code execution by any user who may run scripts (CVSS 10)" },
    { id: "CVE-2025-46818", fixedIn: "8.2.2", what: "a Lua script can run in the context of another user" },
    { id: "CVE-2025-62507", fixedIn: "8.2.3", what: "XACKDEL stack overflow (XACKDEL exists from 8.2)" },
];

/** The oldest Redis release with every fix of REDIS_CVES. */
export const REDIS_MIN_PATCHED_VERSION = "8.2.3";

/** Repositories that run a Redis server: `redis`, `library/redis`, `bitnami/redis`, `bitnamilegacy/redis`, a mirror's `.../redis`. */
export function isRedisServerImage(ref: string): boolean {
    return parseImageRef(ref).name.split("/").pop() === "redis";
}

type Version = [number, number, number];

/** The release a tag names (`8.2.10-bookworm`, `8.2.1-debian-12-r0`, `v7.0.15`), or undefined for `8.2`, `bookworm`, `latest`. */
export function redisVersionOfTag(tag: string | undefined): Version | undefined {
    const match = /^v?(\d+)\.(\d+)\.(\d+)(?:$|[-_+.])/.exec(tag ?? "");
    return match ? [Number(match[1]), Number(match[2]), Number(match[3])] : undefined;
}

const parseVersion = (v: string) => v.split(".").map(Number) as Version;
function older(a: Version, b: Version): boolean {
    for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i] < b[i];
    return false;
}

/** Every container running a Redis server image names a release at least REDIS_MIN_PATCHED_VERSION in its tag. */
export function checkRedisImagePatched(r: ResourceView): string[] {
    const pod = podSpecOf(r);
    if (!pod) return [];
    const out: string[] = [];
    for (const c of containersOf(pod)) {
        const ref = typeof c.spec.image === "string" ? c.spec.image : "";
        if (!isRedisServerImage(ref)) continue;
        const version = redisVersionOfTag(parseImageRef(ref).tag);
        const fix =
            "Fix: set stock:redis imageTag (an exact release, e.g. 8.2.10-bookworm) and its imageDigest to a patched image (SECURITY.md, the Redis image).";
        if (!version) {
            out.push(
                `${describe(r)}: ${c.label} runs the Redis image "${ref}", whose tag names no exact release, so it cannot be shown to be ${REDIS_MIN_PATCHED_VERSION} or newer (${REDIS_CVES.map((v) => v.id).join(", ")}). ${fix}`,
            );
            continue;
        }
        if (!older(version, parseVersion(REDIS_MIN_PATCHED_VERSION))) continue;
        const open = REDIS_CVES.filter((v) => older(version, parseVersion(v.fixedIn)));
        out.push(
            `${describe(r)}: ${c.label} runs Redis ${version.join(".")} ("${ref}"), older than ${REDIS_MIN_PATCHED_VERSION}: ` +
                `${open.map((v) => `${v.id} (${v.what}; fixed in ${v.fixedIn})`).join(", ")}. ${fix}`,
        );
    }
    return out;
}

export const redisImagePatched = resourcePolicy(
    "redis-image-patched",
    `Every container running a Redis server image runs Redis ${REDIS_MIN_PATCHED_VERSION} or newer, named by an exact release in its tag (${REDIS_CVES.map((v) => v.id).join(", ")}).`,
    { properties: {} },
    (r) => checkRedisImagePatched(r),
);
