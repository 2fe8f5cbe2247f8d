/**
 * The images stack's program: every backend build context of `stock:backendSources` checked, its
 * content tag computed (the same pure function the tenants use), Harbor asked which tags it has,
 * and one image built and pushed for each tag it lacks. A tag Harbor has is never built again (with
 * tag immutability on, a second push would be refused), so a run after an unchanged backend builds
 * nothing, and a preview shows the exact tags it would push without building.
 */
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { ConfigError, ImagesConfig, PROJECT, stackFile } from "../config";
import { buildContextProblem } from "../build-context";
import { BackendImages } from "./backend-images";
import { BackendTarget, backendTargets, imageName } from "./backend-image";
import { TagLookup } from "./registry";
import { registryAdvice } from "./registry-advice";
import { registryImage } from "./tag-check";

/** Problems only the file system can reveal: entries that are no build context (the same check as a tenant's sources). */
export function checkImagesSources(config: ImagesConfig, root: string): string[] {
    const file = stackFile(config.stack);
    return config.backend.sources.flatMap((source) => {
        const dir = path.resolve(root, source);
        const problem = buildContextProblem(dir);
        return problem
            ? [
                  `${PROJECT}:backendSources in ${file} lists ${source} (${dir}), ${problem.why}. Fix: ${problem.fix ?? `correct or remove that entry of ${PROJECT}:backendSources in ${file}`}`,
              ]
            : [];
    });
}

/** Which targets Harbor lacks: those to build now. At `up` a registry that cannot answer is an error; at preview, a warning (the build is shown). */
async function missingTargets(
    config: ImagesConfig,
    targets: BackendTarget[],
    lookup: TagLookup,
    preview: boolean,
): Promise<BackendTarget[]> {
    const credentials = { username: config.harbor.username, password: config.secrets.harborPassword };
    const answers = await Promise.all(
        targets.map(async (t) => {
            try {
                return { target: t, digest: await lookup(registryImage(t.ref, config.harbor.plainHttp), credentials) };
            } catch (e) {
                const advice = registryAdvice(e, config.stack);
                const problem = `cannot tell whether ${config.harbor.server} already has ${imageName(t.ref)}: ${advice?.problem ?? (e as Error).message}`;
                const fix =
                    advice?.fix ??
                    `check that ${config.harbor.server} is reachable and that ${config.harbor.username} (${PROJECT}:harborUsername) may pull and push in project ${config.harbor.project}`;
                if (!preview)
                    throw new Error(`Stack '${config.stack}' ${problem}. Fix: ${fix}, then run pulumi up -s ${config.stack} again`, {
                        cause: e,
                    });
                void pulumi.log.warn(`${problem}; the preview shows it as a build. ${fix}`);
                return { target: t, digest: null };
            }
        }),
    );
    for (const { target, digest } of answers.filter((a) => a.digest))
        void pulumi.log.info(`${imageName(target.ref)} (${target.sources.join(", ")}) is in Harbor already (${digest}): not built again`);
    return answers.filter((a) => !a.digest).map((a) => a.target);
}

export async function deployImages(config: ImagesConfig, lookup: TagLookup, root: string): Promise<Record<string, unknown>> {
    const problems = checkImagesSources(config, root);
    if (problems.length > 0) throw new ConfigError(config.stack, problems);
    for (const warning of config.warnings) void pulumi.log.warn(warning);
    const registry = { server: config.harbor.server, project: config.harbor.project, repository: config.backend.repository };
    const targets = backendTargets(config.backend.sources, registry, root);
    const builds = await missingTargets(config, targets, lookup, pulumi.runtime.isDryRun());

    const images = new BackendImages("backend", {
        server: config.harbor.server,
        username: config.harbor.username,
        password: pulumi.secret(config.secrets.harborPassword),
        platform: config.platform,
        cache: config.buildCache,
        builds: builds.map((b) => ({ name: b.name, context: b.context, ref: b.ref, cacheTag: b.cacheTag })),
    });
    const bySource = (value: (t: BackendTarget) => unknown) =>
        Object.fromEntries(targets.flatMap((t) => t.sources.map((source) => [source, value(t)])));
    return {
        // What each tenant's stock:backendSource deploys: the tag it computes itself and checks Harbor for.
        backendImages: bySource((t) => imageName(t.ref)),
        // The images this run builds and pushes (none when Harbor has every tag).
        backendImagesBuilt: builds.map((b) => imageName(b.ref)),
        backendImageDigests: Object.fromEntries(builds.map((b) => [imageName(b.ref), images.digests[b.name]])),
    };
}
