import { DEFAULT_SYSTEM_NAMESPACES } from "../lib/defaults";
import { describe, namespaceOf, Props, ResourceView, TYPES } from "../lib/resources";
import { ServiceConfig, serviceConfig, stringList } from "../lib/config";
import { resourcePolicy } from "../lib/resource-policy";

const EXTERNAL_SERVICE_TYPES = ["LoadBalancer", "NodePort"];

/** No LoadBalancer/NodePort Service (nor externalIPs) in a tenant namespace (= not a system namespace). */
export function checkNoExternalService(r: ResourceView, config: ServiceConfig = serviceConfig()): string[] {
    if (r.type !== TYPES.service) return [];
    const ns = namespaceOf(r.props);
    if (config.systemNamespaces.includes(ns)) return [];
    const spec: Props = r.props.spec ?? {};
    const out: string[] = [];
    const fix =
        "External traffic enters only through the ingress controller (behind the external nginx load balancer). " +
        "Fix: use service.type ClusterIP and expose the app with an Ingress.";
    if (EXTERNAL_SERVICE_TYPES.includes(spec.type)) {
        out.push(`${describe(r)} is of type ${spec.type} in tenant namespace ${ns}. ${fix}`);
    }
    if (Array.isArray(spec.externalIPs) && spec.externalIPs.length > 0) {
        out.push(`${describe(r)} sets externalIPs (${spec.externalIPs.join(", ")}) in tenant namespace ${ns}. ${fix}`);
    }
    return out;
}

export const noExternalServiceInTenantNamespace = resourcePolicy(
    "no-external-service-in-tenant-namespace",
    "No Service of type LoadBalancer or NodePort (nor with externalIPs) in a tenant namespace, i.e. any namespace not listed in systemNamespaces: external traffic enters only through the ingress controller.",
    {
        properties: {
            systemNamespaces: stringList("Namespaces that are not tenants.", DEFAULT_SYSTEM_NAMESPACES),
        },
    },
    (r, args) => checkNoExternalService(r, serviceConfig(args.getConfig<Partial<ServiceConfig>>())),
);
