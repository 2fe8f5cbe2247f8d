/** A fingerprint of every file of a scratch copy (tools/lib/scratch.ts), to prove what a tool changed. */
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";

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
