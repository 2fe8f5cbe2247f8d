import { DEFAULT_ALLOWED_REGISTRIES, DEFAULT_IMAGE_EXEMPT_NAMESPACES } from "../lib/defaults";
import { containersOf, describe, namespaceOf, podSpecOf, pushedTags, ResourceView, TYPES } from "../lib/resources";
import { fromAllowedRegistry, fullyQualified, normalisePrefix } from "../lib/images";
import { ImageConfig, imageConfig, stringList } from "../lib/config";
import { resourcePolicy } from "../lib/resource-policy";

/** Images come only from the allowed registries (system namespaces in `exemptNamespaces` excepted). */
export function checkAllowedRegistry(r: ResourceView, config: ImageConfig = imageConfig()): string[] {
    const allowed = config.allowedRegistries;
    const list = allowed.map((p) => `"${normalisePrefix(p)}"`).join(", ");
    if (r.type === TYPES.dockerImage) {
        return pushedTags(r.props)
            .filter((ref) => !fromAllowedRegistry(ref, allowed))
            .map(
                (ref) =>
                    `${describe(r, false)}: tag "${ref}" is not pushed to an allowed registry (${list}). Fix: set stock:harborServer / stock:harborProject to the cluster's Harbor, or add the registry to allowedRegistries in the policy config.`,
            );
    }
    const pod = podSpecOf(r);
    if (!pod || config.exemptNamespaces.includes(namespaceOf(r.props))) return [];
    const out: string[] = [];
    for (const c of containersOf(pod)) {
        const ref = typeof c.spec.image === "string" ? c.spec.image : "";
        if (!fromAllowedRegistry(ref, allowed)) {
            const resolved = fullyQualified(ref) !== ref ? ` (pulled as ${fullyQualified(ref)})` : "";
            out.push(
                `${describe(r)}: ${c.label} image "${ref}"${resolved} is not from an allowed registry (${list}). ` +
                    `Fix: push the image to Harbor and reference it as <harbor>/<project>/<repository>:<tag>; a system namespace can be exempted with exemptNamespaces in the policy config.`,
            );
        }
    }
    return out;
}

export const imageFromAllowedRegistry = resourcePolicy(
    "image-from-allowed-registry",
    "Container images (and images the stack builds and pushes) come only from the configured Harbor registry/project; system namespaces listed in exemptNamespaces are exempt.",
    {
        properties: {
            allowedRegistries: stringList("Image reference prefixes allowed, as host[:port]/project/.", DEFAULT_ALLOWED_REGISTRIES),
            exemptNamespaces: stringList(
                "Namespaces whose images may come from other registries (the shared Bitnami Redis pulls from docker.io).",
                DEFAULT_IMAGE_EXEMPT_NAMESPACES,
            ),
        },
    },
    (r, args) => checkAllowedRegistry(r, imageConfig(args.getConfig<Partial<ImageConfig>>())),
);
