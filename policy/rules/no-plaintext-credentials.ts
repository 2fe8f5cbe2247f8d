import { DEFAULT_CREDENTIAL_KEY_EXCLUDE, DEFAULT_CREDENTIAL_KEY_PATTERN, FLAG_VALUE } from "../lib/defaults";
import { containersOf, describe, kindOf, podSpecOf, present, Props, ResourceView, TYPES } from "../lib/resources";
import { CredentialConfig, credentialConfig, pattern, stringList } from "../lib/config";
import { resourcePolicy } from "../lib/resource-policy";

/**
 * Credentials live only in Secrets: a Secret declares its type; a ConfigMap has no key that looks
 * like a credential; no container sets a credential-looking env var to a literal value.
 */
export function checkNoPlaintextCredentials(r: ResourceView, config: CredentialConfig = credentialConfig()): string[] {
    const looksSecret = (key: string) =>
        pattern(config.credentialKeyPattern).test(key) &&
        !pattern(config.credentialKeyExclude).test(key) &&
        !config.allowedKeys.includes(key);
    const out: string[] = [];
    if (r.type === TYPES.secret) {
        if (!present(r.props.type)) {
            out.push(
                `${describe(r)} has no type. Fix: set type explicitly (Opaque, kubernetes.io/dockerconfigjson, kubernetes.io/tls, ...) so that the API server validates its keys.`,
            );
        }
        return out;
    }
    if (r.type === TYPES.configMap) {
        for (const field of ["data", "binaryData"]) {
            const data = r.props[field];
            if (data === undefined || data === null || typeof data !== "object") continue;
            for (const key of Object.keys(data).filter(looksSecret)) {
                out.push(
                    `${describe(r)}: ${field} key "${key}" looks like a credential, and ConfigMaps are stored and shown in plaintext. ` +
                        `Fix: move ${key} to a Secret (set with \`pulumi config set --secret\`), or list it in allowedKeys in the policy config if it is not a credential.`,
                );
            }
        }
        return out;
    }
    const pod = podSpecOf(r);
    if (!pod) return out;
    for (const c of containersOf(pod)) {
        const env: Props[] = Array.isArray(c.spec.env) ? c.spec.env : [];
        for (const e of env) {
            if (typeof e?.name === "string" && looksSecret(e.name) && present(e.value) && !FLAG_VALUE.test(String(e.value).trim())) {
                out.push(
                    `${describe(r)}: ${c.label} sets ${e.name} to a literal value, stored in plaintext in the ${kindOf(r.type)}. ` +
                        `Fix: put it in a Secret and use env[].valueFrom.secretKeyRef (or envFrom.secretRef).`,
                );
            }
        }
    }
    return out;
}

export const noPlaintextCredentials = resourcePolicy(
    "no-plaintext-credentials",
    "Credentials live only in Secrets: every Secret declares its type, no ConfigMap key looks like a credential, and no container sets a credential-looking env var to a literal value (flags such as yes/no and *_FILE paths excepted).",
    {
        properties: {
            credentialKeyPattern: {
                type: "string",
                default: DEFAULT_CREDENTIAL_KEY_PATTERN,
                description: "Case-insensitive regular expression for key names that look like credentials.",
            },
            credentialKeyExclude: {
                type: "string",
                default: DEFAULT_CREDENTIAL_KEY_EXCLUDE,
                description: "Key names matching this (case-insensitive) point at a credential (a file) and are skipped.",
            },
            allowedKeys: stringList("Key names that match the pattern but are not credentials.", []),
        },
    },
    (r, args) => checkNoPlaintextCredentials(r, credentialConfig(args.getConfig<Partial<CredentialConfig>>())),
);
