/**
 * Builds the backend image (the API and Celery run the same image with another command) and the
 * tenant's frontend image, and pushes them to Harbor under content-derived tags.
 */
import * as path from "path";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { ImageRef } from "./chart-values";

/** Build arguments that carry credentials: passed as secrets, never hashed into tags or printed. */
export const SECRET_BUILD_ARGS = ["NPM_TOKEN"];

export interface ImageBuild {
    /** Build context directory. */
    context: string;
    /** Harbor repository name inside the project, e.g. `stock_backend`. */
    repository: string;
    /** Immutable tag computed by `contentTag` from the context and the non-secret build args. */
    tag: string;
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
    /** `os/arch` the images are built for. Default: `linux/amd64`. */
    platform?: string;
    backend: ImageBuild;
    frontend: ImageBuild & {
        /** BUILD_FOR: which `envs/<file>` the frontend build bakes in. */
        buildFor: string;
        /** NPM_TOKEN build argument (secret; used only in the builder stage). */
        npmToken: pulumi.Input<string>;
    };
}

export class TenantImages extends pulumi.ComponentResource {
    /** What the charts deploy: repository and tag, both known before the build runs. */
    public readonly backendRef: ImageRef;
    public readonly frontendRef: ImageRef;
    /** `repo@sha256:...` as pushed; known only after `up`, so for stack outputs, never chart values. */
    public readonly backendDigest: pulumi.Output<string>;
    public readonly frontendDigest: pulumi.Output<string>;

    constructor(name: string, args: TenantImagesArgs, opts?: pulumi.ComponentResourceOptions) {
        super("stock:index:TenantImages", name, {}, opts);
        const platform = args.platform ?? "linux/amd64";
        const registry = { server: args.server, username: args.username, password: pulumi.secret(args.password) };
        const ref = (build: ImageBuild): ImageRef => ({ repository: `${args.server}/${args.project}/${build.repository}`, tag: build.tag });
        // Relative to where Pulumi runs the program: an absolute path would differ on every machine
        // (a laptop, each CI runner) and show as a change to the image in every preview.
        const portable = (dir: string, file = "") => path.join(path.relative(process.cwd(), dir) || ".", file);
        this.backendRef = ref(args.backend);
        this.frontendRef = ref(args.frontend);

        const backend = new docker.Image(`${name}-backend`, {
            imageName: `${this.backendRef.repository}:${this.backendRef.tag}`,
            build: { context: portable(args.backend.context), dockerfile: portable(args.backend.context, "Dockerfile"), platform },
            registry,
            // A preview must never build or push: the tag is already known from the content.
            buildOnPreview: false,
        }, { parent: this });

        const frontend = new docker.Image(`${name}-frontend`, {
            imageName: `${this.frontendRef.repository}:${this.frontendRef.tag}`,
            build: {
                context: portable(args.frontend.context),
                dockerfile: portable(args.frontend.context, "Dockerfile"),
                platform,
                args: { BUILD_FOR: args.frontend.buildFor, NPM_TOKEN: pulumi.secret(args.frontend.npmToken) },
            },
            registry,
            buildOnPreview: false,
        }, { parent: this });

        this.backendDigest = backend.repoDigest;
        this.frontendDigest = frontend.repoDigest;
        this.registerOutputs({ backendDigest: this.backendDigest, frontendDigest: this.frontendDigest });
    }
}
