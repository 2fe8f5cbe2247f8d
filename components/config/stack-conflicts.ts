/**
 * What one tenant stack must not share with another: the tenant (its namespace and Redis user) and
 * a public host, as `stock:host` or `stock:apiHost` (both ingresses would claim it). A `buildFor`
 * may be shared: each stack writes its own computed dotenv into its own staged build context. Read from the stack files next to Pulumi.yaml, before anything is created, so a
 * conflict is refused offline and at `up` alike. The shared stack's `tenantStacks` output says
 * the same about tenants for stacks whose files live elsewhere (components/program.ts).
 */
import * as fs from "fs";
import * as path from "path";
import { PROJECT, TenantConfig, stackFile } from ".";
import { YamlCache, defaultYamlCache, parseYamlCached } from "./yaml-cache";
import { parseYaml } from "./yaml-text";

/** What identifies a tenant stack, as its file (over Pulumi.yaml's defaults) sets it. */
export interface StackIdentity {
    stack: string;
    file: string;
    tenant?: string;
    host?: string;
    apiHost?: string;
}

export function readYamlFile(file: string): unknown {
    return parseYaml(fs.readFileSync(file, "utf8"), file);
}

/** The `config:` map of a Pulumi project or stack file's text, or an error naming the file. */
export function configFromText(text: string, file: string): Record<string, unknown> {
    return configFromParsed(parseYaml(text, file), file);
}

/** The `config:` map of a Pulumi project or stack file's parsed text, or an error naming the file. */
function configFromParsed(parsed: unknown, file: string): Record<string, unknown> {
    const config = parsed === null || parsed === undefined ? undefined : (parsed as { config?: unknown }).config;
    if (config === undefined || config === null) return {};
    if (typeof config !== "object" || Array.isArray(config)) {
        throw new Error(
            `${path.basename(file)}: 'config' must be a map of keys to values (got ${Array.isArray(config) ? "a list" : typeof config}). Fix: write each setting as '  ${PROJECT}:<key>: <value>' under 'config:' in ${file}`,
        );
    }
    return config as Record<string, unknown>;
}

/** The `config:` map of a Pulumi project or stack file, parsed through `cache` (yaml-cache.ts). */
export function configOf(file: string, cache: YamlCache = defaultYamlCache()): Record<string, unknown> {
    return configFromParsed(parseYamlCached(fs.readFileSync(file, "utf8"), file, cache), file);
}

/** The project-level value of `key` in Pulumi.yaml's `config:` (its `default` or `value`). */
export function projectDefault(project: Record<string, unknown>, key: string): unknown {
    const decl = project[key] ?? project[`${PROJECT}:${key}`];
    if (decl !== null && typeof decl === "object" && !Array.isArray(decl)) {
        const d = decl as { default?: unknown; value?: unknown };
        return "default" in d ? d.default : d.value;
    }
    return decl;
}

/** A stack file next to Pulumi.yaml, read once: its `stock:` values over the project's defaults. */
export interface StackFileValues {
    stack: string;
    /** The file's name, e.g. `Pulumi.client-a.yaml`. */
    file: string;
    /** The value of `stock:<key>` as this stack sees it (its file, else Pulumi.yaml's default). */
    value: (key: string) => unknown;
}

/**
 * Every stack file in `root`, sorted by name, each read once and parsed through `cache` (every
 * tenant evaluation reads them all, so a fleet preview of N stacks reads N²: the cache keeps that
 * to one parse of each text a machine; yaml-cache.ts).
 */
export function stackFilesIn(root: string, cache: YamlCache = defaultYamlCache()): StackFileValues[] {
    const projectFile = path.join(root, "Pulumi.yaml");
    const project = fs.existsSync(projectFile) ? configOf(projectFile, cache) : {};
    return fs
        .readdirSync(root)
        .sort()
        .flatMap((name) => {
            const stack = /^Pulumi\.(.+)\.ya?ml$/.exec(name)?.[1];
            if (!stack) return [];
            const config = configOf(path.join(root, name), cache);
            return [{ stack, file: name, value: (key: string) => config[`${PROJECT}:${key}`] ?? projectDefault(project, key) }];
        });
}

/** Every tenant stack whose file lies in `root` (next to Pulumi.yaml). */
export function tenantStacksIn(root: string, files: readonly StackFileValues[] = stackFilesIn(root)): StackIdentity[] {
    return files.flatMap(({ stack, file, value }) => {
        const text = (key: string) => {
            const v = value(key);
            return typeof v === "string" ? v : undefined;
        };
        if (text("role") === "shared" || text("role") === "images") return [];
        return [{ stack, file, tenant: text("tenant"), host: text("host"), apiHost: text("apiHost") }];
    });
}

/** A value for `key` that no other stack uses, to suggest in a fix; a placeholder when none is obvious. */
function unused(candidates: Array<string | undefined>, taken: Array<string | undefined>, placeholder: string): string {
    return candidates.find((c): c is string => !!c && !taken.includes(c)) ?? placeholder;
}

/**
 * Problems between this tenant stack and the other tenant stacks in `root`, each naming both files
 * and a fix that does not collide with a third stack.
 */
export function stackConflicts(config: TenantConfig, others: StackIdentity[]): string[] {
    const file = stackFile(config.stack);
    const rest = others.filter((o) => o.stack !== config.stack);
    const problems: string[] = [];
    const set = (key: string, value: string) => `pulumi config set ${PROJECT}:${key} '${value}' -s ${config.stack}`;

    for (const o of rest.filter((x) => x.tenant === config.tenant)) {
        const fix = unused(
            [config.stack],
            rest.map((x) => x.tenant),
            "<customer of this stack>",
        );
        problems.push(
            `${PROJECT}:tenant in ${file} is '${config.tenant}', which ${o.file} (stack ${o.stack}) already deploys: two stacks would own namespace ${config.tenant} and its Redis user, and a tenant is deployed by exactly one stack. Fix: ${set("tenant", fix)}`,
        );
    }
    const claimed = rest.flatMap((o) => [o.host, o.apiHost]);
    const own: Array<["host" | "apiHost", string | undefined]> = [
        ["host", config.host],
        ["apiHost", config.apiHost],
    ];
    for (const [key, host] of own) {
        if (!host) continue;
        for (const o of rest) {
            const as = o.host === host ? "host" : o.apiHost === host ? "apiHost" : undefined;
            if (!as) continue;
            const derived =
                o.tenant && host.includes(o.tenant) && o.tenant !== config.tenant ? host.split(o.tenant).join(config.tenant) : undefined;
            // The fix must pass every other rule: not another stack's host, and an API host other than the host.
            const candidates = key === "host" ? [derived] : [derived, `api.${config.host}`];
            const fix = unused(
                candidates,
                [...claimed, key === "host" ? config.apiHost : config.host],
                `<${key === "host" ? "host" : "API host"} of this customer>`,
            );
            problems.push(
                `${PROJECT}:${key} in ${file} is '${host}', which ${o.file} (stack ${o.stack}) also serves${as === "apiHost" ? " as its stock:apiHost" : ""}: both ingresses would claim it and the load balancer could send one customer to the other. Fix: ${set(key, fix)}`,
            );
        }
    }
    return problems;
}
