/** Image references: parsing, pinning, registries. */

export interface ImageRef {
    /** Everything before the tag/digest: `harbor.feng.local:9800/library/stock_backend`. */
    name: string;
    tag?: string;
    digest?: string;
}

/** Splits `host[:port]/path[:tag][@digest]`; a `:` before the last `/` is a port, not a tag. */
export function parseImageRef(ref: string): ImageRef {
    const at = ref.indexOf("@");
    const digest = at >= 0 ? ref.slice(at + 1) : undefined;
    const rest = at >= 0 ? ref.slice(0, at) : ref;
    const colon = rest.lastIndexOf(":");
    const tag = colon > rest.lastIndexOf("/") ? rest.slice(colon + 1) : undefined;
    return { name: tag === undefined ? rest : rest.slice(0, colon), tag, digest };
}

const DIGEST = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[0-9a-f]{32,}$/;

/** Why an image reference is not pinned, or undefined when it is (a digest, or a tag other than latest). */
export function unpinnedReason(ref: string): string | undefined {
    if (ref.trim() === "") return "has no image";
    const { tag, digest } = parseImageRef(ref);
    if (digest !== undefined) return DIGEST.test(digest) ? undefined : `has a malformed digest "@${digest}"`;
    if (tag === undefined || tag === "") return "has no tag, which means :latest";
    if (tag === "latest") return "uses the mutable tag :latest";
    return undefined;
}

/** `nginx` → `docker.io/library/nginx`: what the runtime pulls for a reference without a registry host. */
export function fullyQualified(ref: string): string {
    const first = ref.split("/")[0];
    const hasHost = ref.includes("/") && (first.includes(".") || first.includes(":") || first === "localhost");
    if (hasHost) return ref;
    return ref.includes("/") ? `docker.io/${ref}` : `docker.io/library/${ref}`;
}

export function normalisePrefix(prefix: string): string {
    return prefix.endsWith("/") ? prefix : `${prefix}/`;
}

export function fromAllowedRegistry(ref: string, allowed: readonly string[]): boolean {
    return allowed.map(normalisePrefix).some((p) => ref.startsWith(p) || fullyQualified(ref).startsWith(p));
}
