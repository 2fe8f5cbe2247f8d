/** Defaults of the policy config (policy/config.json repeats them; `--policy-pack-config` overrides). */

/** `host[:port]/project/` prefixes images may come from: the cluster's Harbor. */
export const DEFAULT_ALLOWED_REGISTRIES = ["harbor.feng.local:9800/library/"];
/**
 * Namespaces whose images may come from elsewhere. `redis`: the shared Bitnami Redis is installed
 * from the upstream OCI chart, whose image comes from docker.io (the official library/redis); the chart
 * is pinned to an exact version and the image to an exact tag.
 */
export const DEFAULT_IMAGE_EXEMPT_NAMESPACES = ["redis"];
/** Namespaces that are not tenants: everything else is a tenant namespace. */
export const DEFAULT_SYSTEM_NAMESPACES = ["redis", "kube-system", "ingress-nginx", "cert-manager"];
/** The label that marks a Namespace as a tenant's (its value is the tenant). */
export const DEFAULT_TENANT_LABEL = "stock-deploy/tenant";
/** ConfigMap keys and literal env var names that look like credentials (case-insensitive). */
export const DEFAULT_CREDENTIAL_KEY_PATTERN = "PASSWORD|PASSWD|PWD|TOKEN|SECRET|_KEY$";
/**
 * ... unless they point at one rather than hold it (the Bitnami Redis chart sets
 * REDIS_PASSWORD_FILE=/opt/bitnami/redis/secrets/redis-password).
 */
export const DEFAULT_CREDENTIAL_KEY_EXCLUDE = "(_FILE|_PATH|_DIR)$";
/** Literal env values that are flags, not credentials (ALLOW_EMPTY_PASSWORD=no). */
export const FLAG_VALUE = /^(yes|no|true|false|on|off|0|1)$/i;
/** Stack config keys (the part after `project:`) whose values are credentials (case-insensitive). */
export const DEFAULT_SECRET_CONFIG_KEY_PATTERN = "password|passwd|pwd|token|secret|private_?key|api_?key|credential";
/** ... unless the key names something rather than holding it (`pullSecretName`, `tokenFile`). */
export const DEFAULT_SECRET_CONFIG_KEY_EXCLUDE = "(name|names|ref|path|file|id|ids)$";
/** Where credentials from stack config may legitimately end up: `<type>` or `<type>:<property path>`. */
export const DEFAULT_SECRET_SINKS = [
    "kubernetes:core/v1:Secret",
    "docker-build:index:Image:registries",
    "docker-build:index:Image:buildArgs",
    "docker-build:index:Image:secrets",
];
/** Shorter config values are not searched for (too likely to occur by chance). */
export const DEFAULT_SECRET_MIN_LENGTH = 8;
/** Registries (host[:port]) a stack may ask over plain HTTP with stock:harborPlainHttp: none. */
export const DEFAULT_PLAIN_HTTP_REGISTRIES: string[] = [];
