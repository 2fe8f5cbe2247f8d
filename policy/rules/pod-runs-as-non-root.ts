import { containersOf, describe, namespaceOf, podSpecOf, podSpecPath, Props, ResourceView } from "../lib/resources";
import { WorkloadConfig, workloadConfig, workloadSchema } from "../lib/config";
import { resourcePolicy } from "../lib/resource-policy";

/** Every container runs as non-root: runAsNonRoot true (pod or container level), never runAsUser 0. */
export function checkRunsAsNonRoot(r: ResourceView, config: WorkloadConfig = workloadConfig()): string[] {
    const pod = podSpecOf(r);
    if (!pod || config.exemptNamespaces.includes(namespaceOf(r.props))) return [];
    const podCtx: Props = pod.securityContext ?? {};
    const at = podSpecPath(r.type);
    const out: string[] = [];
    for (const c of containersOf(pod)) {
        const ctx: Props = c.spec.securityContext ?? {};
        const nonRoot = ctx.runAsNonRoot ?? podCtx.runAsNonRoot;
        const user = ctx.runAsUser ?? podCtx.runAsUser;
        if (nonRoot !== true) {
            out.push(
                `${describe(r)}: ${c.label} may run as root: runAsNonRoot is ${nonRoot === false ? "false" : "not set"} in both ${at}.securityContext and the container's securityContext. ` +
                    "Fix: set securityContext.runAsNonRoot: true and a non-zero runAsUser (chart values podSecurityContext / containerSecurityContext).",
            );
        }
        if (user === 0 || user === "0") {
            out.push(
                `${describe(r)}: ${c.label} runs as root: runAsUser is 0${ctx.runAsUser === undefined ? ` (from ${at}.securityContext)` : ""}. ` +
                    "Fix: set runAsUser to the image's unprivileged uid (e.g. 1000) and runAsNonRoot: true.",
            );
        }
    }
    return out;
}

export const podRunsAsNonRoot = resourcePolicy(
    "pod-runs-as-non-root",
    "Every container of a Deployment, StatefulSet, DaemonSet, Job, CronJob or Pod runs as non-root: runAsNonRoot: true at pod or container level, and no runAsUser: 0.",
    workloadSchema,
    (r, args) => checkRunsAsNonRoot(r, workloadConfig(args.getConfig<Partial<WorkloadConfig>>())),
);
