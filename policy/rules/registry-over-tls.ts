import type { ReportViolation, StackValidationArgs, StackValidationPolicy } from "@pulumi/policy";
import { DEFAULT_PLAIN_HTTP_REGISTRIES } from "../lib/defaults";
import { stringList } from "../lib/config";
import { stackConfigFromEnv } from "./secret-config-not-in-plaintext";

/**
 * `stock:harborPlainHttp: true` sends the robot's credentials to `stock:harborServer` unencrypted.
 * The program allows it (a stack says so, and every run warns); this policy lets whoever owns the
 * pack decide which registries may be asked that way: none unless listed.
 */
export function checkRegistryOverTls(stackConfig: Record<string, string>, plainHttpRegistries: readonly string[]): string[] {
    if (stackConfig["stock:harborPlainHttp"] !== "true") return [];
    const server = stackConfig["stock:harborServer"] ?? "stock:harborServer";
    if (plainHttpRegistries.includes(server)) return [];
    return [
        `stock:harborPlainHttp is true: the stack asks ${server} over plain HTTP, so the robot's credentials cross the network unencrypted. ` +
            `Fix: put ${server} behind TLS and run pulumi config set stock:harborPlainHttp false -s <stack>; or, only for a registry on a network you trust, add '${server}' to plainHttpRegistries of registry-over-tls in the policy config (--policy-pack-config).`,
    ];
}

export const registryOverTls: StackValidationPolicy = {
    name: "registry-over-tls",
    description:
        "The stack talks to its registry over TLS: stock:harborPlainHttp true (the robot's credentials unencrypted) only for a registry listed in plainHttpRegistries.",
    enforcementLevel: "mandatory",
    configSchema: {
        properties: {
            plainHttpRegistries: stringList(
                "Registries (host[:port], as stock:harborServer) a stack may ask over plain HTTP (none by default).",
                DEFAULT_PLAIN_HTTP_REGISTRIES,
            ),
        },
    },
    validateStack: (args: StackValidationArgs, reportViolation: ReportViolation) => {
        const stackConfig = stackConfigFromEnv();
        if (!stackConfig) args.notApplicable("the engine passed no stack config (PULUMI_CONFIG) to the policy pack");
        const raw = args.getConfig<{ plainHttpRegistries?: string[] }>().plainHttpRegistries;
        const allowed = Array.isArray(raw) ? raw : DEFAULT_PLAIN_HTTP_REGISTRIES;
        for (const message of checkRegistryOverTls(stackConfig, allowed)) reportViolation(message);
    },
};
