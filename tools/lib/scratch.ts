/**
 * A scratch copy of the repository's working tree (tracked and untracked-but-not-ignored files,
 * as they are on disk) that shares this checkout's node_modules: for tests that edit stack files,
 * and for the mutation check. Nothing is written to .git.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { REPO_ROOT } from "./stack-files";

export interface Scratch {
    root: string;
    /** Path of a file inside the copy. */
    file(relative: string): string;
    remove(): void;
}

/** What .gitignore keeps out, for a source that is not a git checkout (itself a scratch copy). */
const NOT_COPIED = new Set(["node_modules", ".git", ".cache", "bin", "plan-out", "__pycache__", ".build", "test-artifacts"]);

/** The files of `source` a checkout has: git's list in a checkout, else every file but what .gitignore keeps out. */
function filesOf(source: string): string[] {
    if (fs.existsSync(path.join(source, ".git"))) {
        return execFileSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], { cwd: source, maxBuffer: 64 << 20 })
            .toString()
            .split("\0")
            .filter(Boolean);
    }
    const walk = (dir: string): string[] =>
        fs
            .readdirSync(path.join(source, dir), { withFileTypes: true })
            .filter((e) => !NOT_COPIED.has(e.name) && !e.name.endsWith(".pyc"))
            .flatMap((e) => (e.isDirectory() && !e.isSymbolicLink() ? walk(path.join(dir, e.name)) : [path.join(dir, e.name)]));
    return walk("");
}

/** Copies `source` into `root` (default: a new temporary folder named after `prefix`), which must not exist yet or be empty. */
export function scratchCopy(prefix = "stock-scratch-", source = REPO_ROOT, root = fs.mkdtempSync(path.join(os.tmpdir(), prefix))): Scratch {
    fs.mkdirSync(root, { recursive: true });
    const listed = filesOf(source);
    for (const relative of listed) {
        const from = path.join(source, relative);
        if (!fs.existsSync(from)) continue; // deleted in the working tree
        const to = path.join(root, relative);
        fs.mkdirSync(path.dirname(to), { recursive: true });
        if (fs.lstatSync(from).isSymbolicLink()) {
            fs.symlinkSync(fs.readlinkSync(from), to); // relative links, e.g. the charts' charts/stock-common
            continue;
        }
        if (fs.statSync(from).isDirectory()) continue; // a submodule
        fs.copyFileSync(from, to);
        fs.chmodSync(to, fs.statSync(from).mode);
    }
    fs.symlinkSync(path.join(source, "node_modules"), path.join(root, "node_modules"), "dir");
    return { root, file: (relative) => path.join(root, relative), remove: () => fs.rmSync(root, { recursive: true, force: true }) };
}
