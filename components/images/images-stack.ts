/**
 * Which stack builds a tenant's backend image, read from the stack files next to Pulumi.yaml
 * before anything is created: exactly one stack has `stock:role: images`, it must list the
 * tenant's `stock:backendSource` in its `stock:backendSources`, and push to the same registry,
 * repository and platform, or the tenant would deploy a tag nobody pushes (or one built for
 * another platform: the content tag does not cover it). Refused offline and at `up` alike.
 */
import * as path from "path";
import { PROJECT, TenantConfig, stackFile } from "../config";
import { StackFileValues, stackFilesIn } from "../config/stack-conflicts";

/** The settings of the images stack that a tenant's backend image must agree with, as its file (over Pulumi.yaml's defaults) sets them. */
export interface ImagesStackIdentity {
    stack: string;
    file: string;
    /** `stock:backendSources` as written; empty when unset or not a list. */
    backendSources: string[];
    harborServer?: string;
    harborProject?: string;
    backendRepository?: string;
    imagePlatform?: string;
}

/** Settings a tenant's backend must share with the images stack, and what goes wrong otherwise. */
const SHARED_SETTINGS = [
    ["harborServer", "an image nobody pushes"],
    ["harborProject", "an image nobody pushes"],
    ["backendRepository", "an image nobody pushes"],
    ["imagePlatform", "an image built for another platform (the content tag does not cover the platform)"],
] as const;

/** Every stack with `stock:role: images` whose file lies in `root`. */
export function imagesStacksIn(root: string, files: readonly StackFileValues[] = stackFilesIn(root)): ImagesStackIdentity[] {
    return files.flatMap(({ stack, file, value }) => {
        if (value("role") !== "images") return [];
        const text = (key: string) => (typeof value(key) === "string" ? (value(key) as string) : undefined);
        const sources = value("backendSources");
        return [
            {
                stack,
                file,
                backendSources: Array.isArray(sources) ? sources.filter((s): s is string => typeof s === "string") : [],
                harborServer: text("harborServer"),
                harborProject: text("harborProject"),
                backendRepository: text("backendRepository"),
                imagePlatform: text("imagePlatform"),
            },
        ];
    });
}

/** The one images stack in `root` (undefined when there is none or several: {@link backendImageProblems} says so). */
export function imagesStackOf(root: string, files?: readonly StackFileValues[]): ImagesStackIdentity | undefined {
    const found = imagesStacksIn(root, files);
    return found.length === 1 ? found[0] : undefined;
}

/** Problems between this tenant's backend image and the images stack that must build it, each naming both files and a fix. */
export function backendImageProblems(config: TenantConfig, images: readonly ImagesStackIdentity[], root: string): string[] {
    const file = stackFile(config.stack);
    const source = config.images.backend.source;
    if (images.length === 0) {
        return [
            `no stack file next to Pulumi.yaml has ${PROJECT}:role images, and the images stack alone builds and pushes the backend image ${file} deploys (a tenant stack never builds it). Fix: create ${stackFile("images")} with '${PROJECT}:role: images' and '${PROJECT}:backendSources: [${source}]' (README, "Deploy"), then pulumi up -s images`,
        ];
    }
    if (images.length > 1) {
        return [
            `${images.map((i) => i.file).join(" and ")} all have ${PROJECT}:role images, but one images stack builds every backend image of the fleet, once per content tag. Fix: keep one of them, with every entry of their ${PROJECT}:backendSources, and delete the others`,
        ];
    }
    const [built] = images;
    const problems: string[] = [];
    const resolved = path.resolve(root, source);
    if (!built.backendSources.some((s) => path.resolve(root, s) === resolved)) {
        const listed = built.backendSources.length ? `lists ${built.backendSources.join(", ")}` : "lists nothing";
        const other = built.backendSources[0]
            ? `, or pulumi config set ${PROJECT}:backendSource '${built.backendSources[0]}' -s ${config.stack}`
            : "";
        problems.push(
            `${PROJECT}:backendSource of ${file} is '${source}', which the images stack '${built.stack}' does not build (${PROJECT}:backendSources in ${built.file} ${listed}). Fix: add '${source}' to ${PROJECT}:backendSources in ${built.file} and run pulumi up -s ${built.stack}${other}`,
        );
    }
    const mine: Record<(typeof SHARED_SETTINGS)[number][0], string> = {
        harborServer: config.harbor.server,
        harborProject: config.harbor.project,
        backendRepository: config.images.backend.repository,
        imagePlatform: config.images.platform,
    };
    for (const [key, consequence] of SHARED_SETTINGS) {
        const theirs = built[key];
        if (theirs === undefined || theirs === mine[key]) continue;
        problems.push(
            `${PROJECT}:${key} of ${file} is '${mine[key]}' (set there or in Pulumi.yaml), but the images stack '${built.stack}' (${built.file}) builds the backend with '${theirs}', so this stack would deploy ${consequence}. Fix: pulumi config set ${PROJECT}:${key} '${theirs}' -s ${config.stack}, or set the same value in ${built.file}`,
        );
    }
    return problems;
}
