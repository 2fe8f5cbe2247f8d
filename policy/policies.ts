/**
 * The stock-deploy guardrails: CrossGuard policies over the resources a stack registers.
 *
 * This module gathers the pack: one file per policy under rules/, shared helpers under lib/. It only
 * exports data and pure functions; it never constructs the PolicyPack (index.ts
 * does, and only the analyzer process may: the constructor starts a gRPC server). Tests import
 * the policies and the check functions from here.
 *
 * The pack reads resources only and knows nothing of the program: which namespaces are tenants,
 * which registry is allowed and which namespaces are system namespaces all come from the policy
 * config (defaults in lib/defaults.ts), and a tenant namespace is recognised by its label.
 *
 * Values the engine cannot know yet (during `pulumi preview`) make the resource policies throw the
 * SDK's UnknownValueError when they read them; the SDK then reports "can't run during preview"
 * (advisory) and the same policy runs again, with the values known, during `pulumi up`.
 */
import type { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { podRunsAsNonRoot } from "./rules/pod-runs-as-non-root";
import { containerResourceLimits } from "./rules/container-resource-limits";
import { imageTagPinned } from "./rules/image-tag-pinned";
import { imageFromAllowedRegistry } from "./rules/image-from-allowed-registry";
import { noExternalServiceInTenantNamespace } from "./rules/no-external-service-in-tenant-namespace";
import { tenantNamespaceDefaultDeny } from "./rules/tenant-namespace-default-deny";
import { noPlaintextCredentials } from "./rules/no-plaintext-credentials";
import { secretConfigNotInPlaintext } from "./rules/secret-config-not-in-plaintext";
import { redisImagePatched } from "./rules/redis-image-patched";
import { registryOverTls } from "./rules/registry-over-tls";

export * from "./lib/defaults";
export * from "./lib/resources";
export * from "./lib/images";
export * from "./lib/config";
export * from "./rules/pod-runs-as-non-root";
export * from "./rules/container-resource-limits";
export * from "./rules/image-tag-pinned";
export * from "./rules/image-from-allowed-registry";
export * from "./rules/no-external-service-in-tenant-namespace";
export * from "./rules/tenant-namespace-default-deny";
export * from "./rules/no-plaintext-credentials";
export * from "./rules/secret-config-not-in-plaintext";
export * from "./rules/redis-image-patched";
export * from "./rules/registry-over-tls";

/** The pack's name (`pulumi preview --policy-pack ./policy` reports violations under it). */
export const PACK_NAME = "stock-deploy-guardrails";

/** Every policy of the pack, in the order they are reported. */
export const policies: Array<ResourceValidationPolicy | StackValidationPolicy> = [
    podRunsAsNonRoot,
    containerResourceLimits,
    imageTagPinned,
    imageFromAllowedRegistry,
    noExternalServiceInTenantNamespace,
    tenantNamespaceDefaultDeny,
    noPlaintextCredentials,
    secretConfigNotInPlaintext,
    redisImagePatched,
    registryOverTls,
];
