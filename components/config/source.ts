/**
 * Where the typed config comes from at run time: the Pulumi engine's config map. Kept apart from
 * the config model so that the model stays pure and tests can feed it any map they like.
 */
import * as pulumi from "@pulumi/pulumi";
import { RawConfig, StackConfig, parseStackConfig } from ".";

// The SDK's own record of which keys the engine decrypted (the engine passes it with the config;
// `setAllConfig` fills it under mocks). Not re-exported from the package root, hence the deep import.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { isConfigSecret } = require("@pulumi/pulumi/runtime/config") as { isConfigSecret: (key: string) => boolean };

export function readRawConfig(): RawConfig {
    // Every namespace: a key of ours in a mistyped one (stok:apiReplicas) must be refused, not ignored.
    const values = pulumi.runtime.allConfig();
    const secretKeys = new Set(Object.keys(values).filter((k) => isConfigSecret(k)));
    return { stack: pulumi.getStack(), organization: pulumi.getOrganization(), values, secretKeys };
}

/** Reads and validates this stack's configuration; throws a ConfigError listing every problem. */
export function readStackConfig(): StackConfig {
    return parseStackConfig(readRawConfig());
}
