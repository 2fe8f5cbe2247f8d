/**
 * Loads the real stack files the way the Pulumi CLI does (project-level values from Pulumi.yaml,
 * overridden key by key by Pulumi.<stack>.yaml), with obviously fake values for secrets, which the
 * repository never holds. Shared by the unit tests, the chart tests and tools/plan.ts.
 */
import * as fs from "fs";
import * as path from "path";
import { KEYS, KeySpec, PROJECT, RawConfig, StackConfig, TenantConfig, parseStackConfig } from "../../components/config";
import { configFromText, readYamlFile } from "../../components/config/stack-conflicts";

import { REPO_ROOT } from "../../components/names";

export { REPO_ROOT };

export interface ProjectFile {
    config: Record<string, unknown>;
    template?: { config?: Record<string, { description?: string; secret?: boolean }> };
}

/** Pulumi.yaml; a syntax error names the file, line and column. */
export function readProjectFile(root = REPO_ROOT): ProjectFile {
    return readYamlFile(path.join(root, "Pulumi.yaml")) as ProjectFile;
}

/** Every stack that has a Pulumi.<stack>.yaml next to Pulumi.yaml. */
export function stackNames(root = REPO_ROOT): string[] {
    return fs
        .readdirSync(root)
        .map((f) => /^Pulumi\.(.+)\.ya?ml$/.exec(f)?.[1])
        .filter((s): s is string => !!s)
        .sort();
}

/** Config values as Pulumi hands them to a program: strings, JSON for anything else. */
function encode(value: unknown): string {
    return typeof value === "string" ? value : JSON.stringify(value);
}

function qualified(key: string): string {
    return key.includes(":") ? key : `${PROJECT}:${key}`;
}

/** Project-level values, as `pulumi config` would apply them to a stack that does not set the key. */
export function projectDefaults(project = readProjectFile()): Record<string, string> {
    const result: Record<string, string> = {};
    for (const [key, decl] of Object.entries(project.config ?? {})) {
        if (decl !== null && typeof decl === "object" && !Array.isArray(decl)) {
            const d = decl as { default?: unknown; value?: unknown };
            const v = "default" in d ? d.default : d.value;
            if (v !== undefined) result[qualified(key)] = encode(v);
        } else {
            result[qualified(key)] = encode(decl);
        }
    }
    return result;
}

/** Keys that Pulumi.yaml marks secret (template.config), i.e. what `pulumi config set --secret` stores. */
export function secretKeyNames(project = readProjectFile()): string[] {
    return Object.entries(project.template?.config ?? {})
        .filter(([, d]) => d.secret)
        .map(([k]) => qualified(k));
}

/** A value no one could mistake for a real credential; the secrets scan looks for this marker. */
export const FAKE_SECRET_MARKER = "FAKE-SECRET";
export function fakeSecret(key: string, stack: string): string {
    return `${FAKE_SECRET_MARKER}-${key.replace(`${PROJECT}:`, "")}-${stack}`;
}

export interface LoadOptions {
    /** Extra or replaced keys (plaintext unless listed in `secrets`); `undefined` removes a key. */
    overrides?: Record<string, unknown>;
    /** Keys of `overrides` to store as secrets. */
    secrets?: string[];
    /** Fill required secrets the repository cannot hold with fake values (default true). */
    fakeSecrets?: boolean;
    /** Folder with Pulumi.yaml and the stack files (default: the repository). */
    root?: string;
    /** Pulumi.yaml already read (for loading many stacks without reading it again). */
    project?: ProjectFile;
    /** The stack file's text, instead of reading Pulumi.<stack>.yaml (to validate a file before writing it). */
    stackFileText?: string;
}

/** Optional secrets that a stack needs once it sets their partner key. */
const PAIRED_SECRETS: Record<string, string> = { "stock:harborPullPassword": "stock:harborPullUsername" };

/** Secrets this stack sets with `pulumi config set --secret`: the required ones of its role, and paired ones whose partner it sets. */
export function requiredSecrets(role: string, values: Record<string, string> = {}): string[] {
    return (Object.entries(KEYS) as [string, KeySpec][])
        .filter(
            ([key, spec]) =>
                spec.secret && spec.roles.includes(role as never) && (spec.required || PAIRED_SECRETS[`${PROJECT}:${key}`] in values),
        )
        .map(([key]) => `${PROJECT}:${key}`);
}

/** A stack's raw config as the engine would hand it over, plus the secrets filled with fakes because the stack does not set them. */
export interface LoadedConfig extends RawConfig {
    /** Required secrets the stack file lacks, filled with fake values here; `pulumi up` refuses until they are set. */
    placeholders: string[];
}

/** `{secure: ...}` anywhere in a value (Pulumi writes one per `--secret --path` leaf): replaced with fakes. */
function withFakeSecrets(value: unknown, fake: () => string): { value: unknown; secret: boolean } {
    if (value !== null && typeof value === "object") {
        if (!Array.isArray(value) && "secure" in value) return { value: fake(), secret: true };
        let secret = false;
        const walk = (v: unknown) => {
            const r = withFakeSecrets(v, fake);
            secret ||= r.secret;
            return r.value;
        };
        return {
            value: Array.isArray(value) ? value.map(walk) : Object.fromEntries(Object.entries(value).map(([k, v]) => [k, walk(v)])),
            secret,
        };
    }
    return { value, secret: false };
}

export function rawStackConfig(stack: string, options: LoadOptions = {}): LoadedConfig {
    const root = options.root ?? REPO_ROOT;
    const project = options.project ?? readProjectFile(root);
    const values = projectDefaults(project);
    const secretKeys = new Set<string>();
    const placeholders: string[] = [];
    const file = path.join(root, `Pulumi.${stack}.yaml`);
    const text = options.stackFileText ?? (fs.existsSync(file) ? fs.readFileSync(file, "utf8") : "");
    const stackConfig: Record<string, unknown> = configFromText(text, file);
    for (const [key, value] of Object.entries(stackConfig)) {
        const { value: plain, secret } = withFakeSecrets(value, () => fakeSecret(key, stack));
        values[qualified(key)] = encode(plain);
        if (secret) secretKeys.add(qualified(key));
    }
    if (options.fakeSecrets ?? true) {
        for (const key of requiredSecrets(values["stock:role"], values)) {
            if (!(key in values)) {
                values[key] = fakeSecret(key, stack);
                secretKeys.add(key);
                placeholders.push(key);
            }
        }
    }
    for (const [key, value] of Object.entries(options.overrides ?? {})) {
        if (value === undefined) {
            delete values[key];
            secretKeys.delete(key);
            continue;
        }
        values[key] = encode(value);
        if (options.secrets?.includes(key)) secretKeys.add(key);
        else secretKeys.delete(key);
    }
    return {
        stack,
        organization: "organization",
        values,
        secretKeys,
        placeholders: placeholders.filter((k) => !(k in (options.overrides ?? {}))),
    };
}

export function loadStackConfig(stack: string, options?: LoadOptions): StackConfig {
    return parseStackConfig(rawStackConfig(stack, options));
}

export function loadTenantConfig(stack: string, options?: LoadOptions): TenantConfig {
    const config = loadStackConfig(stack, options);
    if (config.role !== "tenant") throw new Error(`${stack} is not a tenant stack`);
    return config;
}
