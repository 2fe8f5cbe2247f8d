/**
 * A scratch copy of this repository's files (tracked and new, never node_modules or .git), for
 * tests of tools that write into a checkout, and a fingerprint of every file to prove what changed.
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { filesOf } from "../../tools/lib/scratch";
import { REPO_ROOT } from "../../tools/lib/stack-files";

/** Copies the repository into `root` (default: a new temporary folder), which must not exist yet or be empty. */
export function scratchRepo(root = fs.mkdtempSync(path.join(os.tmpdir(), "stock-scratch-"))): { root: string; remove(): void } {
    fs.mkdirSync(root, { recursive: true });
    for (const file of filesOf(REPO_ROOT)) {
        const from = path.join(REPO_ROOT, file);
        if (!fs.existsSync(from)) continue; // deleted in the working tree
        const to = path.join(root, file);
        fs.mkdirSync(path.dirname(to), { recursive: true });
        if (fs.lstatSync(from).isSymbolicLink()) {
            fs.symlinkSync(fs.readlinkSync(from), to); // e.g. the charts' links to charts/stock-common
            continue;
        }
        fs.copyFileSync(from, to);
        fs.chmodSync(to, fs.statSync(from).mode);
    }
    return { root, remove: () => fs.rmSync(root, { recursive: true, force: true }) };
}

/** Every file under `root` with the SHA-256 of its bytes and its mode, sorted by path. */
export function fingerprint(root: string): Record<string, string> {
    const result: Record<string, string> = {};
    const walk = (rel: string) => {
        for (const entry of fs.readdirSync(path.join(root, rel), { withFileTypes: true })) {
            const child = rel ? `${rel}/${entry.name}` : entry.name;
            if (entry.isDirectory()) walk(child);
            else if (entry.isSymbolicLink()) result[child] = `-> ${fs.readlinkSync(path.join(root, child))}`;
            else {
                const full = path.join(root, child);
                result[child] =
                    `${crypto.createHash("sha256").update(fs.readFileSync(full)).digest("hex")} ${(fs.statSync(full).mode & 0o777).toString(8)}`;
            }
        }
    };
    walk("");
    return Object.fromEntries(Object.entries(result).sort(([a], [b]) => (a < b ? -1 : 1)));
}
