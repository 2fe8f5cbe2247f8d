/**
 * Where the typed config comes from at run time: the Pulumi engine's config map. Kept apart from
 * config.ts so that the model stays pure and tests can feed it any map they like.
 */
import * as pulumi from "@pulumi/pulumi";
import { PROJECT, RawConfig, StackConfig, parseStackConfig } from "./config";

/** The Node SDK keeps the names of secret config keys in this variable (set by the engine, and by `setAllConfig` under mocks). */
const SECRET_KEYS_ENV = "PULUMI_CONFIG_SECRET_KEYS";

export function readRawConfig(): RawConfig {
    const all = pulumi.runtime.allConfig();
    const values = Object.fromEntries(Object.entries(all).filter(([k]) => k.startsWith(`${PROJECT}:`)));
    const secretKeys = new Set<string>(JSON.parse(process.env[SECRET_KEYS_ENV] || "[]"));
    return { stack: pulumi.getStack(), values, secretKeys };
}

/** Reads and validates this stack's configuration; throws a ConfigError listing every problem. */
export function readStackConfig(): StackConfig {
    return parseStackConfig(readRawConfig());
}
