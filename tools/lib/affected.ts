/**
 * Which stacks a change can affect, from the files it touches: what PR previews run on, so that a
 * fleet of hundreds previews only what a change can alter. Pure over its inputs; the git and
 * stack-file readers are separate.
 *
 * Rules, first match wins (paths relative to the repository, `/`-separated):
 *   Pulumi.<images stack>.yaml               → the images stack and every tenant (each checks its
 *                                              backend image against that file)
 *   Pulumi.<stack>.yaml                      → that stack
 *   <frontendSource>/envs/<buildFor>         → the tenants that build with that dotenv (the frontend
 *                                              image's tag leaves other tenants' dotenvs out)
 *   the program and what it builds or reads: index.ts, components/, charts/, app/, runtime/,
 *   fixtures/, policy/, Pulumi.yaml, package.json, package-lock.json, patches/, tsconfig.json
 *                                            → every stack
 *   a build context outside those            → the tenants that build from it, and the images stack
 *                                              when it is a backend it builds
 *   docs, tests, tools, CI config            → none
 *   anything else                            → every stack (unclassified: preview all to be safe)
 */
import { execFileSync } from "child_process";
import * as path from "path";
import { ConfigError, PROJECT, parseStackConfig } from "../../components/config";
import { balancedBatches } from "./rollout";
import { REPO_ROOT, rawStackConfig, readProjectFile, stackNames } from "./stack-files";

/** Paths every stack is built from: a change there affects every stack. */
export const PROGRAM_PATHS: readonly string[] = [
    "index.ts",
    "components/",
    "charts/",
    "app/",
    "runtime/",
    "fixtures/",
    "policy/",
    "Pulumi.yaml",
    "package.json",
    "package-lock.json",
    "patches/",
    "tsconfig.json",
];
/** Paths no deployment reads. */
export const INERT_PATHS: readonly string[] = [
    "docs/",
    "tests/",
    "tools/",
    "bench/",
    ".github/",
    ".ci/",
    ".gitignore",
    ".prettierrc.json",
    ".prettierignore",
    "eslint.config.mjs",
    ".mocharc.json",
    "LICENSE",
];

/** What the selection needs to know of one tenant: the files only it (and tenants like it) build from. */
export interface TenantFiles {
    stack: string;
    /** The tenant's frontend dotenv, `<frontendSource>/envs/<buildFor>`; undefined when its config is refused. */
    dotenv?: string;
    /** Its build contexts (folders, ending in `/`). */
    contexts: string[];
}

export interface StackFiles {
    /** Every stack at the head of the change. */
    stacks: string[];
    tenants: TenantFiles[];
    /** The images stack and the backend build contexts it builds (folders, ending in `/`); undefined when there is none. */
    images?: { stack: string; contexts: string[] };
}

export type Effect = { kind: "all" } | { kind: "none" } | { kind: "stacks"; stacks: string[] };

export interface FileEffect {
    file: string;
    effect: Effect;
    why: string;
}

export interface Affected {
    /** True when some change affects every stack. */
    all: boolean;
    /** The affected stacks in rollout order: `images`, `shared`, then the tenants sorted. */
    stacks: string[];
    /** Stack files the change deletes: those stacks can no longer be previewed from the repository. */
    removed: string[];
    files: FileEffect[];
}

const under = (file: string, prefix: string) => (prefix.endsWith("/") ? file.startsWith(prefix) : file === prefix);
const STACK_FILE = /^Pulumi\.(.+)\.ya?ml$/;

function classify(file: string, repo: StackFiles): FileEffect {
    const stackFile = STACK_FILE.exec(file);
    if (stackFile && stackFile[1] === repo.images?.stack) {
        return {
            file,
            effect: { kind: "stacks", stacks: [repo.images.stack, ...repo.tenants.map((t) => t.stack)] },
            why: "the images stack's file, which every tenant checks its backend image against",
        };
    }
    if (stackFile) {
        return repo.stacks.includes(stackFile[1])
            ? { file, effect: { kind: "stacks", stacks: [stackFile[1]] }, why: "its stack file" }
            : { file, effect: { kind: "none" }, why: "the stack file of a stack that no longer exists" };
    }
    const dotenvOwners = repo.tenants.filter((t) => t.dotenv === file).map((t) => t.stack);
    const isSomeDotenvFolder = repo.tenants.some(
        (t) => t.dotenv !== undefined && path.posix.dirname(t.dotenv) === path.posix.dirname(file),
    );
    if (dotenvOwners.length) return { file, effect: { kind: "stacks", stacks: dotenvOwners }, why: "the frontend dotenv they build with" };
    if (isSomeDotenvFolder) return { file, effect: { kind: "none" }, why: "a frontend dotenv no tenant builds with" };
    if (PROGRAM_PATHS.some((p) => under(file, p))) return { file, effect: { kind: "all" }, why: "the program or what every stack builds" };
    const contextOwners = [...(repo.images ? [repo.images] : []), ...repo.tenants]
        .filter((t) => t.contexts.some((c) => under(file, c)))
        .map((t) => t.stack);
    if (contextOwners.length) return { file, effect: { kind: "stacks", stacks: contextOwners }, why: "their build context" };
    if (INERT_PATHS.some((p) => under(file, p)) || (/\.md$/i.test(file) && !file.includes("/"))) {
        return { file, effect: { kind: "none" }, why: "read by no deployment" };
    }
    return { file, effect: { kind: "all" }, why: "unclassified: every stack, to be safe" };
}

/** The images stack, then the shared stack, then the rest by name: the order a rollout runs them. */
function rolloutOrder(imagesStack: string | undefined): (a: string, b: string) => number {
    const rank = (s: string) => (s === imagesStack ? 0 : s === "shared" ? 1 : 2);
    return (a, b) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0);
}

/** The stacks `changed` (paths relative to the repository) can affect. */
export function affectedStacks(changed: readonly string[], repo: StackFiles, deleted: readonly string[] = []): Affected {
    const files = [...new Set(changed)].sort().map((f) => classify(f, repo));
    const all = files.some((f) => f.effect.kind === "all");
    const named = new Set(files.flatMap((f) => (f.effect.kind === "stacks" ? f.effect.stacks : [])));
    const stacks = (all ? [...repo.stacks] : [...named]).sort(rolloutOrder(repo.images?.stack));
    const removed = deleted
        .map((f) => STACK_FILE.exec(f)?.[1])
        .filter((s): s is string => !!s && !repo.stacks.includes(s))
        .sort();
    return { all, stacks, removed, files };
}

const folder = (root: string, dir: string) => {
    const rel = path.relative(root, path.resolve(root, dir)).split(path.sep).join("/");
    return rel.startsWith("..") || path.isAbsolute(rel) ? undefined : rel === "" ? "" : `${rel}/`;
};

/** Reads the stacks and each tenant's own files from the stack files at `root`, through the config model. */
export function readStackFiles(root = REPO_ROOT): StackFiles {
    const project = readProjectFile(root);
    const stacks = stackNames(root);
    const tenants: TenantFiles[] = [];
    let images: StackFiles["images"];
    for (const stack of stacks) {
        const raw = rawStackConfig(stack, { root, project });
        const role = raw.values[`${PROJECT}:role`];
        if (role === "shared") continue;
        if (role === "images") {
            // A refused images stack is still the one that builds the backend: its own file and the program still affect it.
            let contexts: string[] = [];
            try {
                const config = parseStackConfig(raw);
                if (config.role === "images")
                    contexts = config.backend.sources.map((s) => folder(root, s)).filter((c): c is string => c !== undefined && c !== "");
            } catch (e) {
                if (!(e instanceof ConfigError)) throw e;
            }
            images = { stack, contexts };
            continue;
        }
        try {
            const config = parseStackConfig(raw);
            if (config.role !== "tenant") continue;
            const frontend = folder(root, config.images.frontend.source);
            const contexts = [frontend, folder(root, config.images.backend.source)].filter((c): c is string => c !== undefined && c !== "");
            tenants.push({ stack, dotenv: frontend === undefined ? undefined : `${frontend}envs/${config.buildFor}`, contexts });
        } catch (e) {
            // A refused stack is still previewed when its own file or the program changes; the preview shows why.
            if (!(e instanceof ConfigError)) throw e;
            tenants.push({ stack, contexts: [] });
        }
    }
    return { stacks, tenants, images };
}

/** Files changed between the merge base of `base` and HEAD (what a pull request changes), and those it deletes. */
export function changedFiles(base: string, root = REPO_ROOT): { changed: string[]; deleted: string[] } {
    const diff = (filter: string) => {
        try {
            return execFileSync(
                "git",
                ["-C", root, "diff", "--name-only", "--no-renames", `--diff-filter=${filter}`, "-z", `${base}...HEAD`],
                { encoding: "utf8", maxBuffer: 256 << 20, stdio: ["ignore", "pipe", "pipe"] },
            )
                .split("\0")
                .filter(Boolean);
        } catch (e) {
            const stderr = String((e as { stderr?: string }).stderr ?? (e as Error).message).trim();
            throw new Error(
                `cannot diff against '${base}' in ${root}: ${stderr}. (In CI, fetch the base branch, e.g. actions/checkout with fetch-depth: 0.)`,
                { cause: e },
            );
        }
    };
    return { changed: diff("ACDMRTUXB"), deleted: diff("D") };
}

/** The stacks a change since `base` can affect, in this repository. */
export function affectedSince(base: string, root = REPO_ROOT): Affected {
    const { changed, deleted } = changedFiles(base, root);
    return affectedStacks(changed, readStackFiles(root), deleted);
}

/** One CI job's share of the stacks. */
export interface Shard {
    /** 1-based. */
    index: number;
    of: number;
    /** Comma-separated, for `npm run fleet -- preview --stacks`. */
    stacks: string;
}

/** The fewest stacks worth a job of its own (each job installs its dependencies first). */
export const MIN_STACKS_PER_SHARD = 10;

/** Splits `stacks` into at most `maxShards` balanced shards of at least {@link MIN_STACKS_PER_SHARD} (fewer stacks: one shard). */
export function shardStacks(stacks: readonly string[], maxShards: number): Shard[] {
    if (!Number.isInteger(maxShards) || maxShards < 1)
        throw new Error(`the number of shards must be a whole number of at least 1 (got ${maxShards})`);
    if (stacks.length === 0) return [];
    const count = Math.min(maxShards, Math.ceil(stacks.length / MIN_STACKS_PER_SHARD));
    const groups = balancedBatches(stacks, Math.ceil(stacks.length / count));
    return groups.map((g, i) => ({ index: i + 1, of: groups.length, stacks: g.join(",") }));
}
