import type { ReportViolation, StackValidationArgs, StackValidationPolicy } from "@pulumi/policy";
import {
    DEFAULT_SECRET_CONFIG_KEY_EXCLUDE,
    DEFAULT_SECRET_CONFIG_KEY_PATTERN,
    DEFAULT_SECRET_MIN_LENGTH,
    DEFAULT_SECRET_SINKS,
} from "../lib/defaults";
import { describe, Finding, Props, ResourceView } from "../lib/resources";
import { pattern, StackSecretConfig, stackSecretConfig, stringList } from "../lib/config";
import { toView } from "../lib/resource-policy";

/** The stack config the engine hands the policy pack process (`PULUMI_CONFIG`, decrypted), or undefined. */
export function stackConfigFromEnv(env: NodeJS.ProcessEnv = process.env): Record<string, string> | undefined {
    const raw = env.PULUMI_CONFIG;
    if (!raw) return undefined;
    try {
        const parsed: unknown = JSON.parse(raw);
        if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) return undefined;
        return Object.fromEntries(
            Object.entries(parsed as Record<string, unknown>).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]),
        );
    } catch {
        return undefined;
    }
}

function leafStrings(value: unknown): string[] {
    if (typeof value === "string") return [value];
    if (Array.isArray(value)) return value.flatMap(leafStrings);
    if (value && typeof value === "object") return Object.values(value).flatMap(leafStrings);
    return [];
}

/** The credential values in stack config, by key: keys matching the pattern (or listed), leaves of JSON values. */
export function credentialValues(
    stackConfig: Record<string, string>,
    config: StackSecretConfig = stackSecretConfig(),
): Map<string, string[]> {
    const include = pattern(config.secretKeyPattern);
    const exclude = pattern(config.secretKeyExclude);
    const result = new Map<string, string[]>();
    for (const [key, raw] of Object.entries(stackConfig)) {
        const short = key.slice(key.indexOf(":") + 1);
        const listed = config.secretConfigKeys.includes(key);
        if (!listed && !(include.test(short) && !exclude.test(short))) continue;
        let parsed: unknown = raw;
        try {
            const json: unknown = JSON.parse(raw);
            if (json && typeof json === "object") parsed = json;
        } catch {
            // a plain string
        }
        const values = leafStrings(parsed).filter((v) => v.length >= config.minLength);
        if (values.length > 0) result.set(key, values);
    }
    return result;
}

/** The object behind the SDK's unknown-checking proxy (so a scan never trips over preview unknowns). */
function unproxied(value: unknown): unknown {
    if (value && typeof value === "object" && (value as Props).__isSpecialProxy === true) {
        return (value as Props).__getSpecialProxyTarget;
    }
    return value;
}

/** The SDK's "not known during preview" sentinels (strings). */
const UNKNOWN_SENTINELS = new Set([
    "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7",
    "3eeb2bf0-c639-47a8-9e75-3b44932eb421",
    "04da6b54-80e4-46f7-96ec-b56ff0331ba9",
    "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2",
    "030794c1-ac77-496b-92df-f27374a8bd58",
    "e48ece36-62e2-4504-bad9-02848725956a",
    "dd056dcd-154b-4c76-9bd3-c8f88648b5ff",
]);

function* stringLeaves(value: unknown, path: string[] = []): Generator<{ path: string; value: string }> {
    const v = unproxied(value);
    if (typeof v === "string") {
        if (!UNKNOWN_SENTINELS.has(v)) yield { path: path.join("."), value: v };
    } else if (Array.isArray(v)) {
        for (let i = 0; i < v.length; i++) yield* stringLeaves(v[i], [...path, String(i)]);
    } else if (v && typeof v === "object") {
        for (const [k, child] of Object.entries(v)) yield* stringLeaves(child, [...path, k]);
    }
}

function isSink(type: string, path: string, sinks: readonly string[]): boolean {
    return sinks.some((sink) => {
        if (sink === type) return true;
        if (!sink.startsWith(`${type}:`)) return false;
        const prefix = sink.slice(type.length + 1);
        return path === prefix || path.startsWith(`${prefix}.`);
    });
}

/**
 * No credential from stack config appears (as is or base64-encoded) in any resource property
 * other than the sinks made for it (Secret data, the registry password of an image push, ...).
 * Messages name the config key and the property, never the value.
 */
export function checkSecretConfigNotInPlaintext(
    resources: readonly ResourceView[],
    stackConfig: Record<string, string>,
    config: StackSecretConfig = stackSecretConfig(),
): Finding[] {
    const needles: Array<{ key: string; forms: string[] }> = [];
    for (const [key, values] of credentialValues(stackConfig, config)) {
        for (const v of values) needles.push({ key, forms: [v, Buffer.from(v, "utf8").toString("base64")] });
    }
    if (needles.length === 0) return [];
    const out: Finding[] = [];
    for (const proxied of resources) {
        const r: ResourceView = { ...proxied, props: unproxied(proxied.props) ?? {} };
        const hits = new Map<string, Set<string>>();
        for (const leaf of stringLeaves(r.props)) {
            if (isSink(r.type, leaf.path, config.sinks)) continue;
            for (const n of needles) {
                if (n.forms.some((f) => leaf.value.includes(f))) {
                    if (!hits.has(n.key)) hits.set(n.key, new Set());
                    hits.get(n.key)!.add(leaf.path || "(the value itself)");
                }
            }
        }
        for (const [key, paths] of hits) {
            out.push({
                urn: r.urn,
                message:
                    `The value of the secret stack config ${key} appears in ${describe(r, r.type.startsWith("kubernetes:") && typeof r.props.metadata === "object")} (${r.type}) at ${[...paths].join(", ")}, where it is stored in plaintext. ` +
                    `Fix: pass it only through a Secret (stringData) and reference that Secret (envFrom.secretRef / valueFrom.secretKeyRef); never put it in a ConfigMap, env literal, annotation, chart value or output.`,
            });
        }
    }
    return out;
}

export const secretConfigNotInPlaintext: StackValidationPolicy = {
    name: "secret-config-not-in-plaintext",
    description:
        "No credential from the stack config (keys such as dbPassword, harborPassword, npmToken) appears, as is or base64-encoded, in any resource property other than a Secret or an image push's registry password and build args.",
    enforcementLevel: "mandatory",
    configSchema: {
        properties: {
            secretKeyPattern: {
                type: "string",
                default: DEFAULT_SECRET_CONFIG_KEY_PATTERN,
                description: "Case-insensitive regular expression for stack config keys (after 'project:') that hold credentials.",
            },
            secretKeyExclude: {
                type: "string",
                default: DEFAULT_SECRET_CONFIG_KEY_EXCLUDE,
                description: "Keys matching this (case-insensitive) only name a credential (pullSecretName) and are skipped.",
            },
            secretConfigKeys: stringList("More fully qualified stack config keys (project:key) whose values are credentials.", []),
            sinks: stringList("Where credentials may appear: '<type>' or '<type>:<property path>'.", DEFAULT_SECRET_SINKS),
            minLength: { type: "integer", default: DEFAULT_SECRET_MIN_LENGTH, description: "Shorter values are not searched for." },
        },
    },
    validateStack: (args: StackValidationArgs, reportViolation: ReportViolation) => {
        const stackConfig = stackConfigFromEnv();
        if (!stackConfig) args.notApplicable("the engine passed no stack config (PULUMI_CONFIG) to the policy pack");
        const config = stackSecretConfig(args.getConfig<Partial<StackSecretConfig>>());
        for (const f of checkSecretConfigNotInPlaintext(args.resources.map(toView), stackConfig, config)) reportViolation(f.message, f.urn);
    },
};
