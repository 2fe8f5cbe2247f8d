/** A mandatory resource policy from a check that returns one message per violation. */
import type { PolicyConfigSchema, PolicyResource, ReportViolation, ResourceValidationArgs, ResourceValidationPolicy } from "@pulumi/policy";
import { ResourceView } from "./resources";

export function resourcePolicy(
    name: string,
    description: string,
    configSchema: PolicyConfigSchema,
    check: (r: ResourceView, args: ResourceValidationArgs) => string[],
): ResourceValidationPolicy {
    return {
        name,
        description,
        enforcementLevel: "mandatory",
        configSchema,
        validateResource: (args: ResourceValidationArgs, reportViolation: ReportViolation) => {
            for (const message of check({ type: args.type, name: args.name, urn: args.urn, props: args.props }, args)) {
                reportViolation(message);
            }
        },
    };
}

export function toView(r: PolicyResource): ResourceView {
    return { type: r.type, name: r.name, urn: r.urn, props: r.props };
}
