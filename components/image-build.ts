/**
 * What every image build of ours shares, the images stack's backends and each tenant's frontend:
 * pushed under its content-derived tag at `up` and never built at preview, the BuildKit layer cache
 * in Harbor, paths that read the same on every machine, and the pushed image kept in Harbor.
 */
import * as path from "path";
import * as dockerBuild from "@pulumi/docker-build";
import * as pulumi from "@pulumi/pulumi";
import { ImageRef, imageName } from "./images/backend-image";

export interface ImageBuildSpec {
    /** Where the image is pushed; the tag is the build context's content hash. */
    ref: ImageRef;
    /** Absolute build context (holds the Dockerfile). */
    context: string;
    /** Tag of the registry layer cache in the same repository, e.g. `buildcache-client-a`. */
    cacheTag: string;
    /** `os/arch` the image is built for. */
    platform: string;
    /** Import and export the layer cache in Harbor. */
    cache: boolean;
    /** What the cache export keeps: `max` (every stage) or `min` (the final image's layers). */
    cacheMode: dockerBuild.CacheMode;
    /** Harbor and the robot that pushes. */
    registry: { server: string; username: string; password: pulumi.Input<string> };
}

/**
 * docker-build's delete removes the pushed manifest from the registry by digest. A replaced or
 * removed build must leave the image that running pods, later waves and a rollback still pull.
 */
export const KEEP_PUSHED_IMAGE = { retainOnDelete: true } as const;

/** Relative to where Pulumi runs the program: an absolute path would differ on every machine and show as a change in every preview. */
function portable(dir: string, file = ""): string {
    return path.join(path.relative(process.cwd(), dir) || ".", file);
}

/** The inputs of one image build; the caller adds what is its own (build arguments, secrets). */
export function imageBuildArgs(spec: ImageBuildSpec): dockerBuild.ImageArgs {
    const cacheRef = `${spec.ref.repository}:${spec.cacheTag}`;
    return {
        tags: [imageName(spec.ref)],
        context: { location: portable(spec.context) },
        dockerfile: { location: portable(spec.context, "Dockerfile") },
        platforms: [spec.platform as dockerBuild.Platform],
        registries: [{ address: spec.registry.server, username: spec.registry.username, password: pulumi.secret(spec.registry.password) }],
        push: true,
        // A preview must never build or push: the tag is already known from the content.
        buildOnPreview: false,
        // The cache tag is overwritten by every build: a Harbor immutability rule must leave
        // buildcache* out, and a refused cache push must not fail the build.
        cacheFrom: spec.cache ? [{ registry: { ref: cacheRef } }] : undefined,
        cacheTo: spec.cache
            ? [{ registry: { ref: cacheRef, mode: spec.cacheMode, imageManifest: true, ociMediaTypes: true, ignoreError: true } }]
            : undefined,
    };
}
