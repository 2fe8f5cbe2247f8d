/**
 * Immutable, content-derived image tags: the same build context and build arguments always give
 * the same tag, known before any build runs, so a preview shows the exact tag and unchanged sources
 * neither rebuild nor roll pods.
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import dockerignore from "@balena/dockerignore";

/** Files of a build context that Docker would send to the daemon, honouring `.dockerignore` with Docker's own matching rules. Sorted, `/`-separated, relative. */
export function contextFiles(contextDir: string): string[] {
    const ignoreFile = path.join(contextDir, ".dockerignore");
    const rules = fs.existsSync(ignoreFile) ? fs.readFileSync(ignoreFile, "utf8").split(/\r?\n/) : [];
    const ignored = dockerignore({ ignorecase: false }).add(rules);
    const files: string[] = [];
    const walk = (rel: string) => {
        for (const entry of fs.readdirSync(path.join(contextDir, rel), { withFileTypes: true })) {
            const child = rel ? `${rel}/${entry.name}` : entry.name;
            if (ignored.ignores(child)) continue;
            if (entry.isDirectory()) walk(child);
            else if (entry.isFile() || entry.isSymbolicLink()) files.push(child);
        }
    };
    walk("");
    return files.sort();
}

/** Read by Docker from a build context even where its `.dockerignore` lists them (COPY then never sees them). */
const ALWAYS_READ = ["Dockerfile", ".dockerignore"];

/**
 * The files a build reads: {@link contextFiles}, plus the Dockerfile and `.dockerignore`, which
 * Docker reads even where `.dockerignore` lists them (the real app's does). Sorted like contextFiles.
 */
export function buildFiles(contextDir: string): string[] {
    const files = contextFiles(contextDir);
    const read = ALWAYS_READ.filter((f) => !files.includes(f) && fs.existsSync(path.join(contextDir, f)));
    return [...files, ...read].sort();
}

/**
 * The tag for an image built from `contextDir` with `buildArgs`: `ctx-` and 16 hex digits of a
 * SHA-256 over every file's path, executable bit and bytes ({@link buildFiles}: a Dockerfile change
 * is a new image), plus the non-secret build arguments.
 * Secret build arguments must not be passed here: a token rotation is no reason to rebuild.
 * `exclude` leaves out files the build sends but never uses for this image (another tenant's dotenv).
 */
export function contentTag(
    contextDir: string,
    buildArgs: Record<string, string> = {},
    exclude: (file: string) => boolean = () => false,
): string {
    if (!fs.existsSync(contextDir) || !fs.statSync(contextDir).isDirectory()) {
        throw new Error(`Build context ${contextDir} does not exist or is not a directory`);
    }
    const hash = crypto.createHash("sha256");
    for (const file of buildFiles(contextDir).filter((f) => !exclude(f))) {
        const full = path.join(contextDir, file);
        const executable = (fs.statSync(full).mode & 0o111) !== 0;
        hash.update(`file\0${file}\0${executable ? "x" : "-"}\0`);
        hash.update(fs.readFileSync(full));
        hash.update("\0");
    }
    for (const name of Object.keys(buildArgs).sort()) {
        hash.update(`arg\0${name}\0${buildArgs[name]}\0`);
    }
    return `ctx-${hash.digest("hex").slice(0, 16)}`;
}
