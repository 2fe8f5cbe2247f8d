/**
 * A private copy of the project for one fleet worker. `pulumi stack select` (which the Automation
 * API's Stack.select runs) records the current stack in a workspace file keyed by the project
 * directory, so parallel workers over one directory overwrite each other's file and corrupt it
 * (pulumi/pulumi#8186). Each worker therefore gets its own directory: the project's files
 * hard-linked (no bytes copied; copied where links are impossible), node_modules symlinked. Paths
 * inside it are the same as in the repository, so the program computes the same relative chart
 * paths and build contexts, and a preview from a worker shows no spurious change.
 *
 * Paths out of the repository that the stack files name relative to it (the real app's checkout,
 * `stock:backendSource: ../stock/backend`) must resolve from the copy too: the copy sits as many
 * levels below the worker's folder as the deepest such path climbs, and each place such a path
 * leads to (`../stock`) is a symlink there to the same place next to the repository. The paths the
 * program computes relative to its directory (`../stock/backend`) stay the same.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { configOf } from "../../../components/config/stack-conflicts";

/** Never copied: installed dependencies (symlinked instead), git's own files, caches and outputs. */
const NEVER_COPIED = new Set(["node_modules", ".git", ".cache", "bin", "plan-out"]);

/** The project's files, relative: what git tracks plus untracked files it does not ignore (a local edit previews as it is). */
export function projectFiles(root: string): string[] {
    let listed: string[];
    try {
        listed = execFileSync("git", ["-C", root, "ls-files", "-z", "--cached", "--others", "--exclude-standard"], {
            maxBuffer: 64 << 20,
            stdio: ["ignore", "pipe", "pipe"],
        })
            .toString("utf8")
            .split("\0")
            .filter(Boolean);
    } catch {
        listed = walk(root);
    }
    return listed.filter((f) => !NEVER_COPIED.has(f.split("/")[0]) && fs.existsSync(path.join(root, f)));
}

function walk(root: string, rel = ""): string[] {
    const out: string[] = [];
    for (const entry of fs.readdirSync(path.join(root, rel), { withFileTypes: true })) {
        const child = rel ? `${rel}/${entry.name}` : entry.name;
        if (!rel && NEVER_COPIED.has(entry.name)) continue;
        if (entry.isDirectory()) out.push(...walk(root, child));
        else out.push(child);
    }
    return out;
}

/** Every string in the `config` of Pulumi.yaml and the stack files (values, lists, objects, project defaults). */
function configStrings(root: string): string[] {
    const strings: string[] = [];
    const collect = (value: unknown): void => {
        if (typeof value === "string") strings.push(value);
        else if (Array.isArray(value)) value.forEach(collect);
        else if (value !== null && typeof value === "object") Object.values(value).forEach(collect);
    };
    for (const file of fs.readdirSync(root).filter((f) => /^Pulumi\.(.+\.)?ya?ml$/.test(f))) {
        try {
            collect(configOf(path.join(root, file)));
        } catch {
            // A stack file that does not parse is refused by the fleet's selection, with its error.
        }
    }
    return strings;
}

/** A place out of the repository that a relative path of the config leads to: `ups` levels above it, then `name`. */
export interface OutsidePlace {
    ups: number;
    name: string;
    /** Where it is, next to the repository. */
    target: string;
}

/** The places out of `root` that relative paths in its config (`../stock/backend`) lead to, each once. */
export function outsidePlaces(root: string): OutsidePlace[] {
    const places = new Map<string, OutsidePlace>();
    for (const value of configStrings(root)) {
        if (!value.startsWith("..") || path.isAbsolute(value)) continue;
        const segments = path.relative(root, path.resolve(root, value)).split(path.sep);
        const ups = segments.findIndex((s) => s !== "..");
        // Not out of the repository, or one of its own parent folders (which holds the repository itself).
        if (ups <= 0) continue;
        const target = path.join(root, ...Array<string>(ups).fill(".."), segments[ups]);
        if (fs.existsSync(target)) places.set(target, { ups, name: segments[ups], target });
    }
    return [...places.values()];
}

/**
 * Creates a copy of the project at `root` under `dir` (see above) and returns the copy's directory:
 * `dir` itself, or a folder below it when the config names paths out of the repository.
 */
export function createWorkerDir(root: string, dir: string): string {
    const places = outsidePlaces(root);
    const depth = Math.max(0, ...places.map((p) => p.ups));
    // The copy's parent folders stand for the repository's, named alike (only for the log's sake).
    const ancestors = Array.from({ length: depth }, (_, i) => path.basename(path.resolve(root, ...Array<string>(i).fill(".."))));
    const project = path.join(dir, ...ancestors.reverse());
    fs.mkdirSync(project, { recursive: true });
    for (const place of places) {
        fs.symlinkSync(place.target, path.join(project, ...Array<string>(place.ups).fill(".."), place.name));
    }
    for (const file of projectFiles(root)) {
        const from = path.join(root, file);
        const to = path.join(project, file);
        fs.mkdirSync(path.dirname(to), { recursive: true });
        const stat = fs.lstatSync(from);
        if (stat.isSymbolicLink()) {
            fs.symlinkSync(fs.readlinkSync(from), to);
            continue;
        }
        try {
            fs.linkSync(from, to);
        } catch {
            fs.copyFileSync(from, to);
            fs.chmodSync(to, stat.mode);
        }
    }
    const modules = path.join(root, "node_modules");
    if (fs.existsSync(modules)) fs.symlinkSync(modules, path.join(project, "node_modules"), "dir");
    return project;
}

/**
 * A stack file the CLI rewrote in the worker's directory (e.g. by replacing it rather than writing
 * through the hard link) is copied back, so nothing the CLI records is lost with the directory.
 */
export function syncStackFileBack(root: string, dir: string, stack: string): boolean {
    const name = `Pulumi.${stack}.yaml`;
    const inWorker = path.join(dir, name);
    const inRoot = path.join(root, name);
    if (!fs.existsSync(inWorker)) return false;
    const content = fs.readFileSync(inWorker);
    if (fs.existsSync(inRoot) && fs.readFileSync(inRoot).equals(content)) return false;
    fs.writeFileSync(inRoot, content);
    return true;
}
