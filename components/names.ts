/**
 * Names that cross a boundary: between the program and its tools and tests, between the shared stack
 * and the tenant stacks, between the program and the charts. Defined once here; everything else
 * imports them instead of repeating the string.
 */
import * as path from "path";

/** The repository root: relative build contexts and chart paths in config are resolved against it. */
export const REPO_ROOT = path.resolve(__dirname, "..");
/** The charts we own. */
export const CHARTS_DIR = path.join(REPO_ROOT, "charts");

/** Outputs of the shared stack that tenant stacks read through a StackReference. */
export const SHARED_OUTPUTS = {
    redisHost: "redisHost",
    redisPort: "redisPort",
    redisNamespace: "redisNamespace",
    tenants: "tenants",
    /** Which stack deploys each tenant: a tenant is deployed by exactly one stack. */
    tenantStacks: "tenantStacks",
} as const;

const REDIS_CREDENTIAL_PREFIX = "redisCredential-";

/** The shared-stack output that carries one tenant's Redis credential (each tenant stack uses only its own). */
export function redisCredentialOutput(tenant: string): string {
    return `${REDIS_CREDENTIAL_PREFIX}${tenant}`;
}

/** Is this shared-stack output a tenant's Redis credential (and so a secret)? */
export function isRedisCredentialOutput(output: string): boolean {
    return output.startsWith(REDIS_CREDENTIAL_PREFIX);
}

/** The seed's names: `kubectl create configmap stock-backend-env` / `secret generic stock-backend-secret`. */
export const ENV_CONFIGMAP = "stock-backend-env";
export const ENV_SECRET = "stock-backend-secret";

/** Marks a Namespace (and the objects in it) as a tenant's; its value is the tenant. The policy pack recognises tenants by it. */
export const TENANT_LABEL = "stock-deploy/tenant";
/** Namespaces whose pods may reach the shared Redis (its NetworkPolicy admits them). */
export const REDIS_CLIENT_LABEL = "stock-deploy/redis-client";
