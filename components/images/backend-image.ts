/**
 * The backend image's reference, computed the same way by the images stack (which builds and
 * pushes it) and by every tenant stack (which deploys it): a pure function of the registry
 * settings and the build context's content, so a preview of either shows the exact tag and a
 * tenant never needs the images stack's state to know what it deploys.
 */
import * as path from "path";
import { contextSlug } from "../config/shapes";
import { contentTag } from "../content-hash";

/** What the charts deploy: repository and tag, both known before anything is built. */
export interface ImageRef {
    /** `<harbor>/<project>/<repository>`, without tag. */
    repository: string;
    /** Immutable, content-derived. */
    tag: string;
}

/** Where the backend image lives in Harbor. */
export interface BackendRegistry {
    /** Registry host[:port], `stock:harborServer`. */
    server: string;
    /** Harbor project, `stock:harborProject`. */
    project: string;
    /** Repository inside the project, `stock:backendRepository`. */
    repository: string;
}

/** The backend image built from `contextDir` (absolute): `<server>/<project>/<repository>:ctx-<content hash>`. */
export function backendImageRef(registry: BackendRegistry, contextDir: string): ImageRef {
    return { repository: `${registry.server}/${registry.project}/${registry.repository}`, tag: contentTag(contextDir) };
}

/** `repository:tag`. */
export function imageName(ref: ImageRef): string {
    return `${ref.repository}:${ref.tag}`;
}

/** One backend image of the fleet: a tag, and the build contexts (as written in config) that hash to it. */
export interface BackendTarget {
    /** Stable for the build context: the image resource's name suffix and its cache tag's. */
    name: string;
    /** `stock:backendSources` entries with this content; usually one. */
    sources: string[];
    /** Absolute build context of the first of them. */
    context: string;
    ref: ImageRef;
    /** `buildcache-<name>`: each backend its own layer cache, so two never overwrite each other's. */
    cacheTag: string;
}

/**
 * The images to build for `sources` (relative to `root`, or absolute), one per content tag: two
 * contexts with the same content make one image, pushed once.
 */
export function backendTargets(sources: readonly string[], registry: BackendRegistry, root: string): BackendTarget[] {
    const targets: BackendTarget[] = [];
    for (const source of sources) {
        const context = path.resolve(root, source);
        const ref = backendImageRef(registry, context);
        const same = targets.find((t) => t.ref.tag === ref.tag);
        if (same) {
            same.sources.push(source);
            continue;
        }
        const name = contextSlug(source);
        targets.push({ name, sources: [source], context, ref, cacheTag: `buildcache-${name}` });
    }
    return targets;
}
