import type { ReportViolation, StackValidationArgs, StackValidationPolicy } from "@pulumi/policy";
import { DEFAULT_TENANT_LABEL } from "../lib/defaults";
import { Finding, Props, ResourceView, TYPES } from "../lib/resources";
import { NetworkConfig, networkConfig } from "../lib/config";
import { toView } from "../lib/resource-policy";

function isEmptySelector(selector: unknown): boolean {
    if (selector === undefined || selector === null) return false; // podSelector is required; absent is not "all pods"
    if (typeof selector !== "object") return false;
    const s = selector as Props;
    const labels = s.matchLabels ?? {};
    const exprs = s.matchExpressions ?? [];
    return (
        Object.keys(s).every((k) => k === "matchLabels" || k === "matchExpressions") &&
        typeof labels === "object" &&
        Object.keys(labels).length === 0 &&
        Array.isArray(exprs) &&
        exprs.length === 0
    );
}

/** Why a NetworkPolicy is not a default-deny of all ingress and egress, or undefined when it is. */
export function notDefaultDenyReason(props: Props): string | undefined {
    const spec: Props = props.spec ?? {};
    if (!isEmptySelector(spec.podSelector)) return "its podSelector is not {} (it does not select every pod)";
    const types: unknown[] = Array.isArray(spec.policyTypes) ? spec.policyTypes : [];
    const missing = ["Ingress", "Egress"].filter((x) => !types.includes(x));
    if (missing.length > 0) return `its policyTypes lack ${missing.join(" and ")}`;
    const rules = ["ingress", "egress"].filter((k) =>
        Array.isArray(spec[k]) ? spec[k].length > 0 : spec[k] !== undefined && spec[k] !== null,
    );
    if (rules.length > 0) return `it has ${rules.join(" and ")} rules (allows traffic)`;
    return undefined;
}

/** Every Namespace labelled as a tenant has a default-deny NetworkPolicy in it. */
export function checkTenantDefaultDeny(resources: readonly ResourceView[], config: NetworkConfig = networkConfig()): Finding[] {
    const label = config.tenantLabel;
    const policies = resources.filter((r) => r.type === TYPES.networkPolicy);
    const out: Finding[] = [];
    for (const ns of resources.filter((r) => r.type === TYPES.namespace)) {
        const labels: Props = ns.props.metadata?.labels ?? {};
        if (!(label in labels)) continue;
        const name: string = typeof ns.props.metadata?.name === "string" ? ns.props.metadata.name : ns.name;
        const inNs = policies.filter((p) => p.props.metadata?.namespace === name);
        if (inNs.some((p) => notDefaultDenyReason(p.props) === undefined)) continue;
        const seen =
            inNs.length === 0
                ? "it has no NetworkPolicy at all"
                : `its NetworkPolicies are not default-deny: ${inNs.map((p) => `${p.props.metadata?.name ?? p.name}: ${notDefaultDenyReason(p.props)}`).join("; ")}`;
        out.push({
            urn: ns.urn,
            message:
                `Tenant Namespace ${name} (label ${label}=${labels[label]}) has no default-deny NetworkPolicy: ${seen}. ` +
                `Fix: add a NetworkPolicy in namespace ${name} with spec {podSelector: {}, policyTypes: [Ingress, Egress]} and no ingress/egress rules; the charts' own NetworkPolicies then allow only what each workload needs.`,
        });
    }
    return out;
}

export const tenantNamespaceDefaultDeny: StackValidationPolicy = {
    name: "tenant-namespace-default-deny",
    description:
        "Every Namespace labelled as a tenant's (stock-deploy/tenant) has a NetworkPolicy with podSelector {} and policyTypes [Ingress, Egress] and no rules: nothing reaches or leaves a tenant's pods unless another NetworkPolicy allows it.",
    enforcementLevel: "mandatory",
    configSchema: {
        properties: {
            tenantLabel: { type: "string", default: DEFAULT_TENANT_LABEL, description: "The label that marks a tenant Namespace." },
        },
    },
    validateStack: (args: StackValidationArgs, reportViolation: ReportViolation) => {
        const config = networkConfig(args.getConfig<Partial<NetworkConfig>>());
        for (const f of checkTenantDefaultDeny(args.resources.map(toView), config)) reportViolation(f.message, f.urn);
    },
};
