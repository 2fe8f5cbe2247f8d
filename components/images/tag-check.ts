/**
 * Is an image tag in Harbor yet? Asked by a tenant stack before it creates anything: its backend
 * image is built and pushed by the images stack alone, so a tenant's `up` refuses a tag Harbor
 * does not have (naming the stack that builds it), while a preview only warns (a pull request
 * that changes the backend previews its tenants before the images stack has run).
 */
import { RegistryCredentials, RegistryImage, TagLookup } from "./registry";
import { ImageRef, imageName } from "./backend-image";
import { registryAdvice } from "./registry-advice";

/** The image, split the way the registry API wants it: host, path inside the registry, tag; `plainHttp` is `stock:harborPlainHttp`. */
export function registryImage(ref: ImageRef, plainHttp: boolean): RegistryImage {
    const slash = ref.repository.indexOf("/");
    return { server: ref.repository.slice(0, slash), plainHttp, repository: ref.repository.slice(slash + 1), tag: ref.tag };
}

/** A tenant's `up` would deploy a tag Harbor does not have (or Harbor could not say). */
export class ImageNotInRegistryError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "ImageNotInRegistryError";
    }
}

export interface TagCheckRequest {
    /** The image to find. */
    image: ImageRef;
    /** `stock:harborPlainHttp` of this stack. */
    plainHttp: boolean;
    /** Who asks, as `<key>` names for the message: a pull is enough for a HEAD. */
    credentials: RegistryCredentials & { key: string };
    /** This stack, e.g. `client-a`. */
    stack: string;
    /** The stack that builds the image, e.g. `images`. */
    builtBy: string;
    /** True at `pulumi preview`: a missing tag is a warning, not an error. */
    preview: boolean;
}

/** The image's digest when Harbor has it; otherwise (at preview only) a warning to log. */
export type TagCheckResult = { digest: string; warning?: undefined } | { digest?: undefined; warning: string };

/** How to get the tag into Harbor: the images stack alone, or the fleet rollout, which runs it first. */
function howToPush(builtBy: string): string {
    return `run \`pulumi up -s ${builtBy}\` (stack file Pulumi.${builtBy}.yaml builds it), or \`npm run fleet -- up\`, which runs the ${builtBy} stack before any tenant`;
}

/**
 * Asks the registry (through `lookup`) for `request.image`. At `up`, throws an
 * {@link ImageNotInRegistryError} when the tag is missing or the registry cannot say; at preview,
 * returns a warning instead.
 */
export async function checkImageInRegistry(request: TagCheckRequest, lookup: TagLookup): Promise<TagCheckResult> {
    const { image, plainHttp, credentials, stack, builtBy, preview } = request;
    const target = registryImage(image, plainHttp);
    const name = imageName(image);
    let digest: string | null;
    try {
        digest = await lookup(target, credentials);
    } catch (e) {
        const advice = registryAdvice(e, stack);
        const problem = `cannot tell whether ${target.server} has the backend image ${name}: ${advice?.problem ?? (e as Error).message}`;
        const fix =
            advice?.fix ??
            `check that ${target.server} is reachable from here and that ${credentials.username} (${credentials.key}) may pull from ${target.repository}`;
        if (preview) return { warning: `${problem}. ${stack}'s \`pulumi up\` checks again and refuses the image until it can; ${fix}` };
        throw new ImageNotInRegistryError(`Stack '${stack}' ${problem}. Fix: ${fix}, then run pulumi up -s ${stack} again`);
    }
    if (digest) return { digest };
    const where = `in ${target.server} yet (repository ${target.repository}, tag ${target.tag}); stack '${builtBy}' builds and pushes it`;
    if (preview)
        return {
            warning: `the backend image ${name} is not ${where}. \`pulumi up -s ${stack}\` refuses to deploy it until then: ${howToPush(builtBy)}. Expected in the preview of a change to the backend until the ${builtBy} stack has run`,
        };
    throw new ImageNotInRegistryError(
        `Stack '${stack}' deploys the backend image ${name}, which is not ${where}. Fix: ${howToPush(builtBy)}; then run pulumi up -s ${stack} again`,
    );
}
