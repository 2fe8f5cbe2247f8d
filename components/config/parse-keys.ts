/**
 * The first step of validation: every declared key of the stack's role on its own (required, secret,
 * shape), and every key that is not ours. Each problem names the path, what was found and the fix.
 */
import { z } from "zod";
import { PROJECT } from "./shapes";
import { KEYS, KeyName, KeySpec, Role } from "./keys";
import { RawConfig } from "./model";
import { stackFile } from "./errors";

/** Examples of tenant keys are written for client-a: shown for the stack at hand. The shared stack's name is never a tenant's. */
export function exampleFor(spec: KeySpec, stack: string): string {
    if (!spec.roles.includes("tenant")) return spec.example;
    return spec.example.replace(/client-a/g, stack).replace(/client_a/g, stack.replace(/-/g, "_"));
}

export function setCommand(key: string, stack: string, spec: KeySpec): string {
    if (spec.fix) return spec.fix(stack, stackFile(stack));
    return spec.secret
        ? `pulumi config set --secret ${PROJECT}:${key} -s ${stack}`
        : `pulumi config set ${PROJECT}:${key} '${exampleFor(spec, stack)}' -s ${stack}`;
}

export function formatPath(key: string, path: ReadonlyArray<PropertyKey>): string {
    return `${PROJECT}:${key}` + path.map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`)).join("");
}

export function editDistance(a: string, b: string): number {
    const row = Array.from({ length: b.length + 1 }, (_, j) => j);
    for (let i = 1; i <= a.length; i++) {
        let diagonal = row[0];
        row[0] = i;
        for (let j = 1; j <= b.length; j++) {
            const above = row[j];
            row[j] = Math.min(row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
            diagonal = above;
        }
    }
    return row[b.length];
}

/** The declared key a mistyped one most likely means, if any is close. */
export function nearestKey(key: string): KeyName | undefined {
    return (Object.keys(KEYS) as KeyName[]).find((k) => k.toLowerCase() === key.toLowerCase() || editDistance(k, key) <= 2);
}

/** Raw strings become typed values: numbers, booleans, JSON objects and arrays. Strings stay strings. */
export function decode(raw: string, schema: z.ZodType): unknown {
    const trimmed = raw.trim();
    if (schema instanceof z.ZodString) return raw;
    try {
        return JSON.parse(trimmed);
    } catch {
        return raw;
    }
}

export function valueAt(value: unknown, path: ReadonlyArray<PropertyKey>): unknown {
    return path.reduce<unknown>(
        (v, p) => (v !== null && typeof v === "object" ? (v as Record<PropertyKey, unknown>)[p] : undefined),
        value,
    );
}

export function shorten(text: string): string {
    return text.length > 80 ? text.slice(0, 77) + "..." : text;
}

/** Namespaces of stack config that something other than this program reads: the providers it uses. */
const PROVIDER_NAMESPACES = ["pulumi", "docker", "random"];
/** Read only by default providers, which the program never uses for Kubernetes. */
const IGNORED_NAMESPACES = ["kubernetes"];

export interface Checked {
    problems: string[];
    warnings: string[];
}

/** Keys outside the declared set: typos of ours, keys of another namespace, keys the providers ignore. */
export function foreignKeys(raw: RawConfig, file: string, checked: Checked): void {
    const prefix = `${PROJECT}:`;
    for (const full of Object.keys(raw.values)) {
        const colon = full.indexOf(":");
        const namespace = colon < 0 ? "" : full.slice(0, colon);
        const key = full.slice(colon + 1);
        if (namespace === PROJECT) {
            if (key in KEYS) continue;
            const near = nearestKey(key);
            checked.problems.push(
                `${full} in ${file} is not a stock-deploy setting${near ? ` (did you mean ${prefix}${near}?)` : ""}. Fix: pulumi config rm ${full} -s ${raw.stack}; the settings are listed in README.md`,
            );
        } else if (IGNORED_NAMESPACES.includes(namespace)) {
            checked.warnings.push(
                `${full} in ${file} is ignored: every Kubernetes resource goes through the provider pinned to ${prefix}kubeContext and ${prefix}kubeconfig. Fix: pulumi config rm ${full} -s ${raw.stack}, and set ${prefix}kubeContext instead`,
            );
        } else if (!PROVIDER_NAMESPACES.includes(namespace)) {
            const typo = namespace.toLowerCase() === PROJECT || editDistance(namespace.toLowerCase(), PROJECT) <= 2;
            const near = typo ? (key in KEYS ? (key as KeyName) : nearestKey(key)) : undefined;
            const hint = near ? ` (did you mean ${prefix}${near}?)` : "";
            const move = near ? ` and ${setCommand(near, raw.stack, { ...KEYS[near], example: shorten(raw.values[full]) })}` : "";
            checked.problems.push(
                `${full} in ${file} is in namespace '${namespace}', which neither this program nor its providers read, so it would be ignored${hint}. Fix: pulumi config rm ${full} -s ${raw.stack}${move}`,
            );
        }
    }
}

/** Parses every declared key of the role: required, secret, shape. */
export function parseKeys(raw: RawConfig, role: Role, file: string, checked: Checked): Partial<Record<KeyName, unknown>> {
    const prefix = `${PROJECT}:`;
    const values: Partial<Record<KeyName, unknown>> = {};
    for (const [key, spec] of Object.entries(KEYS) as [KeyName, KeySpec][]) {
        const full = `${prefix}${key}`;
        const rawValue = raw.values[full];
        if (!spec.roles.includes(role)) {
            // Secrets have no project defaults: one here was set in this stack, where it does not belong.
            if (spec.secret && rawValue !== undefined) {
                checked.problems.push(
                    `${full} is set in ${file}, but only ${spec.roles.join(" and ")} stacks use it, and a secret must live only where it is needed. Fix: pulumi config rm ${full} -s ${raw.stack}`,
                );
            } else if (spec.refusedInOtherRoles && rawValue !== undefined) {
                checked.problems.push(
                    `${full} is set in ${file}, but only ${spec.roles.join(" and ")} stacks use it: in this ${role} stack it would do nothing. Fix: pulumi config rm ${full} -s ${raw.stack}${spec.roles.includes("images") ? `, and set it in the images stack's file instead` : ""}`,
                );
            }
            continue;
        }
        if (rawValue === undefined || rawValue === "") {
            if (spec.required) {
                checked.problems.push(
                    `${full} is required for ${role} stacks but is not set in ${file}. Fix: ${setCommand(key, raw.stack, spec)}`,
                );
            }
            continue;
        }
        if (spec.secret && !raw.secretKeys.has(full)) {
            checked.problems.push(
                `${full} is stored in plaintext in ${file}, but it is a secret. Fix: remove it from ${file} and run ${setCommand(key, raw.stack, spec)}`,
            );
            continue;
        }
        const decoded = decode(rawValue, spec.schema);
        const result = spec.schema.safeParse(decoded);
        if (!result.success) {
            for (const issue of result.error.issues) checked.problems.push(schemaProblem(key, spec, issue, decoded, raw.stack, file));
            continue;
        }
        values[key] = result.data;
    }
    return values;
}

/** One schema problem: the path that is wrong, what was found there, and a fix for that path only. */
export function schemaProblem(key: KeyName, spec: KeySpec, issue: z.core.$ZodIssue, decoded: unknown, stack: string, file: string): string {
    const where = formatPath(key, issue.path);
    const found = valueAt(decoded, issue.path);
    const shown = spec.secret
        ? "[secret]"
        : found === undefined
          ? "nothing"
          : shorten(typeof found === "string" ? JSON.stringify(found) : JSON.stringify(found));
    const secretFlag = spec.secret ? "--secret " : "";
    let fix: string;
    if (issue.code === "unrecognized_keys") {
        fix = `remove ${issue.keys.map((k) => `'${k}'`).join(", ")} from ${where} in ${file}; pulumi config rm --path '${formatPath(key, [...issue.path, issue.keys[0]])}' -s ${stack}`;
    } else if (issue.path.length > 0) {
        // A whole-key example would replace the rest of the value (and may not suit it): fix this path only.
        fix = `pulumi config set ${secretFlag}--path '${where}' <value> -s ${stack}`;
    } else {
        fix = setCommand(key, stack, spec);
    }
    return `${where} in ${file}: ${issue.message} (got ${shown}). Fix: ${fix}`;
}
