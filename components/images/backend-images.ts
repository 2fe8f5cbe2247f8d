/**
 * The images stack's one job: build and push each backend image of the fleet once, with BuildKit
 * (`@pulumi/docker-build`), under its content-derived tag. Tenant stacks never build the backend;
 * they compute the same tag (backend-image.ts) and check that Harbor has it before deploying.
 */
import * as path from "path";
import * as dockerBuild from "@pulumi/docker-build";
import * as pulumi from "@pulumi/pulumi";
import { ImageRef, imageName } from "./backend-image";

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
        const platform = (args.platform ?? "linux/amd64") as dockerBuild.Platform;
        const cache = args.cache ?? true;
        const registries = [{ address: args.server, username: args.username, password: pulumi.secret(args.password) }];
        // Relative to where Pulumi runs the program: an absolute path would differ on every machine
        // (a laptop, each CI runner) and show as a change to the image in every preview.
        const portable = (dir: string, file = "") => path.join(path.relative(process.cwd(), dir) || ".", file);
        this.digests = {};
        for (const build of args.builds ?? []) {
            const cacheRef = `${build.ref.repository}:${build.cacheTag}`;
            const image = new dockerBuild.Image(
                `${name}-${build.name}`,
                {
                    tags: [imageName(build.ref)],
                    context: { location: portable(build.context) },
                    dockerfile: { location: portable(build.context, "Dockerfile") },
                    platforms: [platform],
                    registries,
                    push: true,
                    // A preview must never build or push: the tag is already known from the content.
                    buildOnPreview: false,
                    // The cache tag is overwritten by every build: a Harbor immutability rule must leave
                    // buildcache* out, and a refused cache push must not fail the build.
                    cacheFrom: cache ? [{ registry: { ref: cacheRef } }] : undefined,
                    cacheTo: cache
                        ? [
                              {
                                  registry: {
                                      ref: cacheRef,
                                      mode: dockerBuild.CacheMode.Max,
                                      imageManifest: true,
                                      ociMediaTypes: true,
                                      ignoreError: true,
                                  },
                              },
                          ]
                        : undefined,
                },
                // docker-build's delete also deletes the pushed manifest from the registry. The tag
                // must outlive this resource: tenants of later waves still run it, and the next run
                // drops the resource once Harbor has the tag (the program builds only missing tags).
                { parent: this, retainOnDelete: true },
            );
            this.digests[build.name] = pulumi.interpolate`${build.ref.repository}@${image.digest}`;
        }
        this.registerOutputs({ digests: this.digests });
    }
}
