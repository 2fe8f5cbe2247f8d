import { containersOf, describe, namespaceOf, podSpecOf, present, Props, ResourceView } from "../lib/resources";
import { WorkloadConfig, workloadConfig, workloadSchema } from "../lib/config";
import { resourcePolicy } from "../lib/resource-policy";

/** Every container (init containers included) has cpu and memory limits. */
export function checkResourceLimits(r: ResourceView, config: WorkloadConfig = workloadConfig()): string[] {
    const pod = podSpecOf(r);
    if (!pod || config.exemptNamespaces.includes(namespaceOf(r.props))) return [];
    const out: string[] = [];
    for (const c of containersOf(pod)) {
        const limits: Props = c.spec.resources?.limits ?? {};
        const missing = ["cpu", "memory"].filter((k) => !present(limits[k]));
        if (missing.length > 0) {
            out.push(
                `${describe(r)}: ${c.label} has no ${missing.join(" and no ")} limit (resources.limits). ` +
                    `Fix: set resources.limits.${missing.join(" and resources.limits.")} (and requests) for this container in the chart values.`,
            );
        }
    }
    return out;
}

export const containerResourceLimits = resourcePolicy(
    "container-resource-limits",
    "Every container (init containers included) of a workload has cpu and memory limits.",
    workloadSchema,
    (r, args) => checkResourceLimits(r, workloadConfig(args.getConfig<Partial<WorkloadConfig>>())),
);
