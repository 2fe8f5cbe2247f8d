/**
 * The images stack's one job: build and push each backend image of the fleet once, with BuildKit
 * (`@pulumi/docker-build`), under its content-derived tag. Tenant stacks never build the backend;
 * they compute the same tag (backend-image.ts) and check that Harbor has it before deploying.
 */
import * as dockerBuild from "@pulumi/docker-build";
import * as pulumi from "@pulumi/pulumi";
import { ImageRef } from "./backend-image";
import { KEEP_PUSHED_IMAGE, imageBuildArgs } from "../image-build";

/** One backend image to build now. */
export interface BackendBuild {
    /** Suffix of the image resource's name, stable for a build context (`app-backend`). */
    name: string;
    /** Absolute build context (holds the Dockerfile). */
    context: string;
    /** Where it is pushed; the tag is the context's content hash. */
    ref: ImageRef;
    /** Tag of the registry layer cache in the same repository, e.g. `buildcache-app-backend`. */
    cacheTag: string;
}

export interface BackendImagesArgs {
    /** Registry host[:port] the builds push to (`stock:harborServer`). */
    server: string;
    /** The Harbor robot allowed to push (`stock:harborUsername`). */
    username: string;
    /** Its token (`stock:harborPassword`, secret). */
    password: pulumi.Input<string>;
    /** `os/arch` the images are built for. Default: `linux/amd64`. */
    platform?: string;
    /** Import and export the layer cache at `<repository>:<cacheTag>` in Harbor. Default: `true`. */
    cache?: boolean;
    /** The images to build: only tags Harbor does not have yet (the program asks it first). Default: none. */
    builds?: BackendBuild[];
}

export class BackendImages extends pulumi.ComponentResource {
    /** `repo@sha256:...` of each build, by the build's `name`; known only after `up`. */
    public readonly digests: Record<string, pulumi.Output<string>>;

    constructor(name: string, args: BackendImagesArgs, opts?: pulumi.ComponentResourceOptions) {
        super("stock:index:BackendImages", name, {}, opts);
        const common = {
            platform: args.platform ?? "linux/amd64",
            cache: args.cache ?? true,
            cacheMode: dockerBuild.CacheMode.Max,
            registry: { server: args.server, username: args.username, password: args.password },
        };
        this.digests = {};
        for (const build of args.builds ?? []) {
            const image = new dockerBuild.Image(
                `${name}-${build.name}`,
                imageBuildArgs({ ...common, ref: build.ref, context: build.context, cacheTag: build.cacheTag }),
                { parent: this, ...KEEP_PUSHED_IMAGE },
            );
            this.digests[build.name] = pulumi.interpolate`${build.ref.repository}@${image.digest}`;
        }
        this.registerOutputs({ digests: this.digests });
    }
}
