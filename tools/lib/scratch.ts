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

export function scratchCopy(prefix = "stock-scratch-", source = REPO_ROOT): Scratch {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
    const listed = execFileSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], { cwd: source, maxBuffer: 64 << 20 })
        .toString().split("\0").filter(Boolean);
    for (const relative of listed) {
        const from = path.join(source, relative);
        if (!fs.existsSync(from) || fs.lstatSync(from).isDirectory()) continue; // deleted in the working tree, or a submodule
        const to = path.join(root, relative);
        fs.mkdirSync(path.dirname(to), { recursive: true });
        fs.copyFileSync(from, to);
        fs.chmodSync(to, fs.statSync(from).mode);
    }
    fs.symlinkSync(path.join(source, "node_modules"), path.join(root, "node_modules"), "dir");
    return { root, file: (relative) => path.join(root, relative), remove: () => fs.rmSync(root, { recursive: true, force: true }) };
}
