/**
 * The frontend bakes its API URL in at build time (dotenv file `envs/<BUILD_FOR>`, read by env-cmd).
 * The seed says this coordination "must be done offline"; here the program computes the file
 * instead: it knows each tenant's API origin, writes `envs/<buildFor>` into a staged copy of the
 * frontend's build context and builds from that copy. A dotenv file the source already has for
 * this build keeps its other keys; one that disagrees with a computed key is refused.
 *
 * Pure functions compute the file; {@link stageFrontendContext} is the one writer, called by the
 * program before any resource is registered.
 */
import * as fs from "fs";
import * as path from "path";
import { FRONTEND_API_URL_VARIABLE, TenantConfig, stackFile } from "../config";
import { buildFiles } from "../content-hash";
import { tenantUrls } from "./urls";

export const API_URL_VARIABLE = FRONTEND_API_URL_VARIABLE;

/** Where staged build contexts live, under the project (git-ignored). */
export const STAGING_DIR = ".build";

/** Parses a dotenv file the way env-cmd does for the cases that matter: KEY=VALUE lines, comments, optional quotes. */
export function parseDotenv(text: string): Record<string, string> {
    const result: Record<string, string> = {};
    for (const line of text.split(/\r?\n/)) {
        const match = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/.exec(line);
        if (!match || line.trim().startsWith("#")) continue;
        let value = match[2];
        const quoted = /^(['"])(.*)\1$/.exec(value);
        value = quoted ? quoted[2] : value.replace(/\s+#.*$/, "");
        result[match[1]] = value;
    }
    return result;
}

/** The variables the program writes for a tenant: the API origin, then `stock:frontendEnv`. */
export function computedFrontendEnv(tenant: Pick<TenantConfig, "host" | "apiHost" | "tls" | "frontendEnv">): Record<string, string> {
    return { [API_URL_VARIABLE]: tenantUrls(tenant).apiOrigin, ...tenant.frontendEnv };
}

const sameValue = (key: string, a: string, b: string) =>
    key === API_URL_VARIABLE ? a.replace(/\/+$/, "") === b.replace(/\/+$/, "") : a === b;

/**
 * The dotenv text to build with. Without an existing file: the computed keys, one per line. With
 * one: its text unchanged (so its other keys, comments and order stay), plus the computed keys it
 * lacks; a computed key it sets to another value is a problem naming both values and the fix.
 */
export function mergeDotenv(
    existing: string | undefined,
    computed: Record<string, string>,
    where: { file: string; stack: string; buildFor: string; tenant: string },
): { text: string; problems: string[] } {
    const found = existing === undefined ? {} : parseDotenv(existing);
    const problems: string[] = [];
    for (const [key, value] of Object.entries(computed)) {
        if (found[key] === undefined || sameValue(key, found[key], value)) continue;
        const source = key === API_URL_VARIABLE ? "stock:host, stock:apiHost and stock:tls" : `stock:frontendEnv.${key}`;
        const ownFile =
            where.buildFor === where.tenant
                ? `delete the line ${key}=${found[key]} from ${where.file} (the program writes ${key}=${value} itself)`
                : `leave ${where.file} to the build it belongs to and give this tenant its own dotenv: pulumi config set stock:buildFor ${where.tenant} -s ${where.stack} (the program then writes envs/${where.tenant} itself; no file is needed)`;
        problems.push(
            `${where.file} sets ${key}=${found[key]}, but stack '${where.stack}' (${stackFile(where.stack)}) computes ${key}=${value} from ${source}. Fix: ${ownFile}`,
        );
    }
    const missing = Object.entries(computed)
        .filter(([key]) => found[key] === undefined)
        .map(([key, value]) => `${key}=${value}\n`);
    const base = existing === undefined || existing === "" || existing.endsWith("\n") ? (existing ?? "") : `${existing}\n`;
    return { text: base + missing.join(""), problems };
}

type StagedTenant = Pick<TenantConfig, "stack" | "tenant" | "buildFor" | "host" | "apiHost" | "tls" | "frontendEnv">;

/** The dotenv text this tenant's build gets, or the problems with the source's own `envs/<buildFor>`. Reads, never writes. */
export function frontendDotenv(tenant: StagedTenant, source: string): { text: string; problems: string[] } {
    const file = path.join(source, "envs", tenant.buildFor);
    const existing = fs.existsSync(file) ? fs.readFileSync(file, "utf8") : undefined;
    return mergeDotenv(existing, computedFrontendEnv(tenant), {
        file,
        stack: tenant.stack,
        buildFor: tenant.buildFor,
        tenant: tenant.tenant,
    });
}

/** `<root>/.build/<stack>/frontend`: where a stack's frontend build context is staged. */
export function stagedContextDir(root: string, stack: string): string {
    return path.join(root, STAGING_DIR, stack, "frontend");
}

/**
 * Copies the files a build reads from `source` (what Docker sends, honouring its `.dockerignore`,
 * and the Dockerfile and `.dockerignore` themselves, which the build needs wherever they are listed)
 * into {@link stagedContextDir}, without any dotenv file of `envs/` but this build's, written with
 * `dotenv`. Only relative paths, bytes and the executable bit reach the copy, so its content tag
 * is the same on every machine and checkout path, and on every run. Returns the staged directory.
 */
export function stageFrontendContext(source: string, buildFor: string, dotenv: string, root: string, stack: string): string {
    const dir = stagedContextDir(root, stack);
    const scratch = `${dir}.tmp-${process.pid}`;
    fs.rmSync(scratch, { recursive: true, force: true });
    const write = (file: string, bytes: Buffer | string, executable: boolean) => {
        const target = path.join(scratch, file);
        fs.mkdirSync(path.dirname(target), { recursive: true });
        fs.writeFileSync(target, bytes);
        fs.chmodSync(target, executable ? 0o755 : 0o644);
    };
    for (const file of buildFiles(source).filter((f) => !f.startsWith("envs/"))) {
        const full = path.join(source, file);
        write(file, fs.readFileSync(full), (fs.statSync(full).mode & 0o111) !== 0);
    }
    write(`envs/${buildFor}`, dotenv, false);
    fs.rmSync(dir, { recursive: true, force: true });
    fs.renameSync(scratch, dir);
    return dir;
}
