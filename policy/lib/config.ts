/** The policy config: each policy's settings, with the defaults of ./defaults. */
import type { PolicyConfigSchema } from "@pulumi/policy";
import {
    DEFAULT_ALLOWED_REGISTRIES,
    DEFAULT_CREDENTIAL_KEY_EXCLUDE,
    DEFAULT_CREDENTIAL_KEY_PATTERN,
    DEFAULT_IMAGE_EXEMPT_NAMESPACES,
    DEFAULT_SECRET_CONFIG_KEY_EXCLUDE,
    DEFAULT_SECRET_CONFIG_KEY_PATTERN,
    DEFAULT_SECRET_MIN_LENGTH,
    DEFAULT_SECRET_SINKS,
    DEFAULT_SYSTEM_NAMESPACES,
    DEFAULT_TENANT_LABEL,
} from "./defaults";

export const stringList = (description: string, defaults: readonly string[]) => ({
    type: "array" as const,
    items: { type: "string" as const },
    default: [...defaults],
    description,
});

function listConfig(value: unknown, fallback: readonly string[]): string[] {
    return Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [...fallback];
}

function stringConfig(value: unknown, fallback: string): string {
    return typeof value === "string" && value !== "" ? value : fallback;
}

export interface ImageConfig {
    allowedRegistries: string[];
    exemptNamespaces: string[];
}
export interface WorkloadConfig {
    exemptNamespaces: string[];
}
export interface ServiceConfig {
    systemNamespaces: string[];
}
export interface NetworkConfig {
    tenantLabel: string;
}
export interface CredentialConfig {
    credentialKeyPattern: string;
    credentialKeyExclude: string;
    allowedKeys: string[];
}
export interface StackSecretConfig {
    secretKeyPattern: string;
    secretKeyExclude: string;
    secretConfigKeys: string[];
    sinks: string[];
    minLength: number;
}

export function imageConfig(raw: Partial<ImageConfig> = {}): ImageConfig {
    return {
        allowedRegistries: listConfig(raw.allowedRegistries, DEFAULT_ALLOWED_REGISTRIES),
        exemptNamespaces: listConfig(raw.exemptNamespaces, DEFAULT_IMAGE_EXEMPT_NAMESPACES),
    };
}
export function workloadConfig(raw: Partial<WorkloadConfig> = {}): WorkloadConfig {
    return { exemptNamespaces: listConfig(raw.exemptNamespaces, []) };
}
export function serviceConfig(raw: Partial<ServiceConfig> = {}): ServiceConfig {
    return { systemNamespaces: listConfig(raw.systemNamespaces, DEFAULT_SYSTEM_NAMESPACES) };
}
export function networkConfig(raw: Partial<NetworkConfig> = {}): NetworkConfig {
    return { tenantLabel: stringConfig(raw.tenantLabel, DEFAULT_TENANT_LABEL) };
}
export function credentialConfig(raw: Partial<CredentialConfig> = {}): CredentialConfig {
    return {
        credentialKeyPattern: stringConfig(raw.credentialKeyPattern, DEFAULT_CREDENTIAL_KEY_PATTERN),
        credentialKeyExclude: stringConfig(raw.credentialKeyExclude, DEFAULT_CREDENTIAL_KEY_EXCLUDE),
        allowedKeys: listConfig(raw.allowedKeys, []),
    };
}
export function stackSecretConfig(raw: Partial<StackSecretConfig> = {}): StackSecretConfig {
    return {
        secretKeyPattern: stringConfig(raw.secretKeyPattern, DEFAULT_SECRET_CONFIG_KEY_PATTERN),
        secretKeyExclude: stringConfig(raw.secretKeyExclude, DEFAULT_SECRET_CONFIG_KEY_EXCLUDE),
        secretConfigKeys: listConfig(raw.secretConfigKeys, []),
        sinks: listConfig(raw.sinks, DEFAULT_SECRET_SINKS),
        minLength: typeof raw.minLength === "number" && raw.minLength > 0 ? raw.minLength : DEFAULT_SECRET_MIN_LENGTH,
    };
}

export const workloadSchema: PolicyConfigSchema = {
    properties: {
        exemptNamespaces: stringList("Namespaces whose workloads this policy skips (none by default).", []),
    },
};

/** A case-insensitive regular expression from the policy config. */
export function pattern(source: string): RegExp {
    return new RegExp(source, "i");
}
