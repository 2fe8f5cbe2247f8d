import { containersOf, describe, namespaceOf, podSpecOf, pushedTags, ResourceView, TYPES } from "../lib/resources";
import { unpinnedReason } from "../lib/images";
import { WorkloadConfig, workloadConfig, workloadSchema } from "../lib/config";
import { resourcePolicy } from "../lib/resource-policy";

/** Every image is pinned: a digest, or a tag other than `latest`; docker images are pushed under such a tag. */
export function checkImagesPinned(r: ResourceView, config: WorkloadConfig = workloadConfig()): string[] {
    if (r.type === TYPES.dockerImage) {
        const tags = pushedTags(r.props);
        if (tags.length === 0)
            return [
                `${describe(r, false)}: pushes no tag, so the image would be :latest. Fix: push under an immutable tag (e.g. a content hash), never :latest.`,
            ];
        // A push needs a tag; a digest is only known after the push.
        return tags.flatMap((ref) => {
            const reason = unpinnedReason(ref);
            return reason
                ? [`${describe(r, false)}: tag "${ref}" ${reason}. Fix: push under an immutable tag (e.g. a content hash), never :latest.`]
                : [];
        });
    }
    const pod = podSpecOf(r);
    if (!pod || config.exemptNamespaces.includes(namespaceOf(r.props))) return [];
    const out: string[] = [];
    for (const c of containersOf(pod)) {
        const ref = typeof c.spec.image === "string" ? c.spec.image : "";
        const reason = unpinnedReason(ref);
        if (reason) {
            out.push(
                `${describe(r)}: ${c.label} image "${ref}" ${reason}. ` +
                    "Fix: set image.tag to an immutable tag (the program's content-hash tag) or image.digest to sha256:...; never latest or an empty tag.",
            );
        }
    }
    return out;
}

export const imageTagPinned = resourcePolicy(
    "image-tag-pinned",
    "Every container image is pinned by a digest (@sha256:...) or a tag other than latest; images built by the stack are pushed under such a tag.",
    workloadSchema,
    (r, args) => checkImagesPinned(r, workloadConfig(args.getConfig<Partial<WorkloadConfig>>())),
);
