/**
 * Builds the tenant's frontend image with BuildKit (`@pulumi/docker-build`) and pushes it to Harbor
 * under its content-derived tag. The backend image (the API and Celery run it) is not built here:
 * the images stack builds it once for the whole fleet (components/images/).
 */
import * as dockerBuild from "@pulumi/docker-build";
import * as pulumi from "@pulumi/pulumi";
import { ImageRef } from "./chart-values";
import { KEEP_PUSHED_IMAGE, imageBuildArgs } from "../image-build";

/** Build arguments that carry credentials: passed as secrets, never hashed into tags or printed. */
export const SECRET_BUILD_ARGS = ["NPM_TOKEN"];

/** The BuildKit secret id a Dockerfile mounts the npm token with: `RUN --mount=type=secret,id=npm_token`. */
export const NPM_TOKEN_SECRET_ID = "npm_token";

export type NpmTokenMode = "build-arg" | "secret";

export interface ImageBuild {
    /** Build context directory. */
    context: string;
    /** Harbor repository name inside the project, e.g. `stock_backend`. */
    repository: string;
    /** Immutable tag computed by `contentTag` from the context and the non-secret build args. */
    tag: string;
    /** Tag of the registry cache in the same repository, e.g. `buildcache` or `buildcache-client-a`. */
    cacheTag: string;
}

export interface TenantImagesArgs {
    /** Registry host[:port], e.g. `harbor.feng.local:9800`. */
    server: string;
    /** Harbor project, e.g. `library`. */
    project: string;
    /** Robot account allowed to push. */
    username: string;
    /** The robot account's token (secret). */
    password: pulumi.Input<string>;
    /** `os/arch` the image is built for. Default: `linux/amd64`. */
    platform?: string;
    /** Import and export the layer cache at `<repository>:<cacheTag>` in Harbor. Default: `true`. */
    cache?: boolean;
    frontend: ImageBuild & {
        /** BUILD_FOR: which `envs/<file>` the frontend build bakes in. */
        buildFor: string;
        /** The private npm registry's token (secret). */
        npmToken: pulumi.Input<string>;
        /**
         * How the build gets the token: `build-arg` (build argument NPM_TOKEN, for `ARG NPM_TOKEN`) or
         * `secret` (BuildKit secret {@link NPM_TOKEN_SECRET_ID}, never in a build argument or layer history).
         * Default: `build-arg`.
         */
        npmTokenMode?: NpmTokenMode;
    };
}

/** What the frontend build receives besides its context: build arguments and BuildKit secrets. */
export function frontendBuildInputs(
    buildFor: string,
    npmToken: pulumi.Input<string>,
    mode: NpmTokenMode,
): { buildArgs: Record<string, pulumi.Input<string>>; secrets?: Record<string, pulumi.Input<string>> } {
    const token = pulumi.secret(npmToken);
    return mode === "secret"
        ? { buildArgs: { BUILD_FOR: buildFor }, secrets: { [NPM_TOKEN_SECRET_ID]: token } }
        : { buildArgs: { BUILD_FOR: buildFor, NPM_TOKEN: token } };
}

export class TenantImages extends pulumi.ComponentResource {
    /** What the frontend chart deploys: repository and tag, both known before the build runs. */
    public readonly frontendRef: ImageRef;
    /** `repo@sha256:...` as pushed; known only after `up`, so for stack outputs, never chart values. */
    public readonly frontendDigest: pulumi.Output<string>;

    constructor(name: string, args: TenantImagesArgs, opts?: pulumi.ComponentResourceOptions) {
        super("stock:index:TenantImages", name, {}, opts);
        this.frontendRef = { repository: `${args.server}/${args.project}/${args.frontend.repository}`, tag: args.frontend.tag };

        const tokenMode = args.frontend.npmTokenMode ?? "build-arg";
        const frontendInputs = frontendBuildInputs(args.frontend.buildFor, args.frontend.npmToken, tokenMode);
        // With the token as a build argument, builder-stage layers may hold it (the real app writes
        // it to ~/.npmrc in a layer of its own): export only the final image's layers to the cache.
        const frontendCacheMode = tokenMode === "secret" ? dockerBuild.CacheMode.Max : dockerBuild.CacheMode.Min;
        const frontend = new dockerBuild.Image(
            `${name}-frontend`,
            {
                ...imageBuildArgs({
                    ref: this.frontendRef,
                    context: args.frontend.context,
                    cacheTag: args.frontend.cacheTag,
                    platform: args.platform ?? "linux/amd64",
                    cache: args.cache ?? true,
                    cacheMode: frontendCacheMode,
                    registry: { server: args.server, username: args.username, password: args.password },
                }),
                buildArgs: frontendInputs.buildArgs,
                secrets: frontendInputs.secrets,
                // A rotated token is no reason to rebuild: the tag does not depend on it either.
                ignoreSecretsInDiffCalculation: frontendInputs.secrets ? [NPM_TOKEN_SECRET_ID] : undefined,
            },
            { parent: this, ...KEEP_PUSHED_IMAGE },
        );

        this.frontendDigest = pulumi.interpolate`${this.frontendRef.repository}@${frontend.digest}`;
        this.registerOutputs({ frontendDigest: this.frontendDigest });
    }
}
