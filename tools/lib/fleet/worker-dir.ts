/**
 * A private copy of the project for one fleet worker. `pulumi stack select` (which the Automation
 * API's Stack.select runs) records the current stack in a workspace file keyed by the project
 * directory, so parallel workers over one directory overwrite each other's file and corrupt it
 * (pulumi/pulumi#8186). Each worker therefore gets its own directory: the project's files
 * hard-linked (no bytes copied; copied where links are impossible), node_modules symlinked. Paths
 * inside it are the same as in the repository, so the program computes the same relative chart
 * paths and build contexts, and a preview from a worker shows no spurious change.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";

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

/** Creates `dir` as a copy of the project at `root` (see above). */
export function createWorkerDir(root: string, dir: string): void {
    fs.mkdirSync(dir, { recursive: true });
    for (const file of projectFiles(root)) {
        const from = path.join(root, file);
        const to = path.join(dir, file);
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
    if (fs.existsSync(modules)) fs.symlinkSync(modules, path.join(dir, "node_modules"), "dir");
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
