/**
 * A parse cache for Pulumi.yaml and the stack files, shared by the processes of one machine. Every
 * tenant stack evaluation parses every stack file next to Pulumi.yaml (the conflict check), so a
 * fleet preview of N stacks parsed N² files (500 stacks: ~185 ms of CPU a stack); with the cache a
 * text is parsed once per machine and every later evaluation reads the stored value.
 *
 * Never stale by construction: an entry's key is the sha256 of the text, the `yaml` package's
 * version and the source of this file and of yaml-text.ts (the parse), so an edited stack file,
 * another parser version or another parse is another key. Nothing else is trusted: an entry that
 * cannot be read, is not JSON or holds another key is ignored and the text parsed again; a text
 * that does not parse is never stored (its error is raised, with the same message, every time);
 * a value is stored only if it comes back from JSON identical (a `.nan`, or a `%YAML 1.1` file's
 * timestamp or set, is parsed every time). Entries are written to a temporary name and renamed,
 * so a parallel process reads a whole entry or none. A folder that cannot be written (a read-only
 * file system) only means parsing. At most about {@link DEFAULT_MAX_ENTRIES} files: past it, a
 * writing process removes the oldest. Deleting the folder is always safe.
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { isDeepStrictEqual } from "util";
import { REPO_ROOT } from "../names";
import { parseYaml } from "./yaml-text";

/** Entries a cache folder keeps (an entry is about the size of its file: a 500-stack fleet needs ~500, well under 1 MB). */
export const DEFAULT_MAX_ENTRIES = 10_000;

/** Where parsed YAML is kept, and how. */
export interface YamlCache {
    /** The folder of the entries; undefined: no cache, every text is parsed. Default: {@link defaultYamlCacheDir}. */
    dir: string | undefined;
    /** Entries kept in `dir`. Default: {@link DEFAULT_MAX_ENTRIES}. */
    maxEntries?: number;
    /** The parse whose values are stored. Default: `parseYaml` (yaml-text.ts); tests count parses through it. */
    parse?: (text: string, file: string) => unknown;
    /** Called with an entry that was there but not trusted (unreadable, not JSON, another key). Default: nothing; tests count them. */
    ignored?: (entry: string) => void;
}

/**
 * `node_modules/.cache/stock-deploy/yaml/` of the repository the program runs from (the usual
 * place for tools' caches, writable by whoever installed the packages the program already trusts);
 * undefined, so no cache, where that repository has no node_modules.
 */
export function defaultYamlCacheDir(): string | undefined {
    const modules = path.join(REPO_ROOT, "node_modules");
    return fs.existsSync(modules) ? path.join(modules, ".cache", "stock-deploy", "yaml") : undefined;
}

let defaultCache: YamlCache | undefined;

/** The cache the program uses: {@link defaultYamlCacheDir}, looked up once per process. */
export function defaultYamlCache(): YamlCache {
    defaultCache ??= { dir: defaultYamlCacheDir() };
    return defaultCache;
}

let codeVersion: string | null | undefined;

/** What besides the text decides the parsed value; null (no caching) when the sources cannot be read. */
function parseCodeVersion(): string | null {
    if (codeVersion === undefined) {
        try {
            // eslint-disable-next-line @typescript-eslint/no-require-imports
            const yamlVersion = (require("yaml/package.json") as { version: string }).version;
            const hash = crypto.createHash("sha256").update(`stock-deploy yaml cache\0yaml ${yamlVersion}\0`);
            for (const source of [__filename, require.resolve("./yaml-text")]) hash.update(fs.readFileSync(source)).update("\0");
            codeVersion = hash.digest("hex");
        } catch {
            codeVersion = null;
        }
    }
    return codeVersion;
}

/** The value stored under `key` in `file`, or undefined when there is none that can be trusted (the caller parses the text again). */
function readEntry(file: string, key: string, ignored?: (entry: string) => void): { value: unknown } | undefined {
    let text: string;
    try {
        text = fs.readFileSync(file, "utf8");
    } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code !== "ENOENT" && code !== "ENOTDIR") ignored?.(file);
        return undefined;
    }
    try {
        const entry = JSON.parse(text) as unknown;
        if (entry !== null && typeof entry === "object" && (entry as { key?: unknown }).key === key && "value" in entry) {
            return { value: entry.value };
        }
    } catch {
        // Not JSON: as an entry of another key.
    }
    ignored?.(file);
    return undefined;
}

/** `value` as JSON, when JSON gives it back identical (no NaN, -0, Date, Map, cycle or odd prototype); else undefined. */
function exactJson(value: unknown): string | undefined {
    try {
        const json = JSON.stringify(value);
        return json !== undefined && isDeepStrictEqual(JSON.parse(json), value) ? json : undefined;
    } catch {
        return undefined;
    }
}

/** Folders this process could not write (each is then only read), and its writes to each since it last bounded it. */
const unwritable = new Set<string>();
const writesSinceBound = new Map<string, number>();

function writeEntry(dir: string, key: string, json: string, maxEntries: number): void {
    if (unwritable.has(dir)) return;
    const temporary = path.join(dir, `.${key}.${process.pid}.${crypto.randomBytes(6).toString("hex")}.tmp`);
    try {
        fs.mkdirSync(dir, { recursive: true });
        fs.writeFileSync(temporary, `{"key":"${key}","value":${json}}`);
        fs.renameSync(temporary, path.join(dir, `${key}.json`));
    } catch {
        unwritable.add(dir);
        try {
            fs.rmSync(temporary, { force: true });
        } catch {
            // Nothing was written.
        }
        return;
    }
    // Bounded at a process's first write and every fifth of the bound after: a cold fleet of N stack files lists the folder once per process, not N times.
    const writes = writesSinceBound.get(dir);
    if (writes === undefined || writes + 1 >= Math.max(1, Math.floor(maxEntries / 5))) {
        writesSinceBound.set(dir, 0);
        removeOldest(dir, maxEntries);
    } else {
        writesSinceBound.set(dir, writes + 1);
    }
}

/**
 * Past `maxEntries` files in `dir`, removes the oldest down to four fifths of it, so that the
 * processes after this one write without listing a full folder (a race with another process
 * only removes a file twice; a removed entry is a parse again).
 */
function removeOldest(dir: string, maxEntries: number): void {
    try {
        const names = fs.readdirSync(dir);
        if (names.length <= maxEntries) return;
        const aged = names.map((name) => {
            const file = path.join(dir, name);
            try {
                return { file, mtime: fs.statSync(file).mtimeMs };
            } catch {
                return { file, mtime: 0 };
            }
        });
        aged.sort((a, b) => a.mtime - b.mtime);
        for (const { file } of aged.slice(0, names.length - Math.floor((maxEntries * 4) / 5))) fs.rmSync(file, { force: true });
    } catch {
        // Unlistable or not ours to delete: the folder stays as it is.
    }
}

/** The parsed value of `text` (read from `file`): from the cache when stored, else parsed and stored. Throws as `parseYaml` does. */
export function parseYamlCached(text: string, file: string, cache: YamlCache = defaultYamlCache()): unknown {
    const parse = cache.parse ?? parseYaml;
    const version = cache.dir === undefined ? null : parseCodeVersion();
    if (cache.dir === undefined || version === null) return parse(text, file);
    const key = crypto.createHash("sha256").update(version).update("\0").update(text).digest("hex");
    const stored = readEntry(path.join(cache.dir, `${key}.json`), key, cache.ignored);
    if (stored) return stored.value;
    const value = parse(text, file);
    const json = exactJson(value);
    if (json !== undefined) writeEntry(cache.dir, key, json, cache.maxEntries ?? DEFAULT_MAX_ENTRIES);
    return value;
}
