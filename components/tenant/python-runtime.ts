/**
 * Our Python runtime for the backend pods: every file under runtime/python/ (the Redis key-prefix
 * shim), shipped as one ConfigMap that the charts mount read-only and put on PYTHONPATH. Pure
 * apart from reading the directory: the content, and so the pods' `checksum/runtime` annotation,
 * is known at preview.
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { REPO_ROOT } from "../names";

/** The ConfigMap's name in every tenant namespace (fixed: the charts and docs name it). */
export const PYTHON_RUNTIME_CONFIGMAP = "stock-python-runtime";
/** Where the runtime lives in this repository. */
export const PYTHON_RUNTIME_DIR = path.join(REPO_ROOT, "runtime", "python");
/** A ConfigMap holds at most 1 MiB. */
const CONFIGMAP_LIMIT_BYTES = 1024 * 1024;

export interface PythonRuntimeFile {
    /** The ConfigMap key: the file name (the directory is flat). */
    key: string;
    content: string;
}

export interface PythonRuntime {
    /** Sorted by key. */
    files: PythonRuntimeFile[];
    /** 16 hex characters of SHA-256 over every key and content: the pods' `checksum/runtime`. */
    checksum: string;
}

/** Bytecode caches appear wherever a test imported the shim; they are not part of the runtime. */
function ignored(name: string): boolean {
    return name === "__pycache__" || name.endsWith(".pyc") || name.endsWith(".pyo");
}

/**
 * Reads every file of `dir` (sorted). Throws an Error that names the directory and the fix when
 * it is missing, empty, nested, not UTF-8 or too large for a ConfigMap.
 */
export function readPythonRuntime(dir: string = PYTHON_RUNTIME_DIR): PythonRuntime {
    const shown = path.relative(process.cwd(), dir) || dir;
    if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) {
        throw new Error(`the Python runtime directory ${shown} does not exist`);
    }
    const entries = fs
        .readdirSync(dir, { withFileTypes: true })
        .filter((e) => !ignored(e.name))
        .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const nested = entries.filter((e) => !e.isFile());
    if (nested.length) {
        throw new Error(
            `the Python runtime directory ${shown} holds ${nested.map((e) => e.name).join(", ")}, which is not a plain file: a ConfigMap is flat, keep every module at the top of ${shown}`,
        );
    }
    if (entries.length === 0) throw new Error(`the Python runtime directory ${shown} is empty`);
    const badNames = entries.filter((e) => !/^[-._a-zA-Z0-9]+$/.test(e.name));
    if (badNames.length)
        throw new Error(
            `${badNames.map((e) => path.join(shown, e.name)).join(", ")}: a ConfigMap key may hold only letters, digits, '-', '_' and '.'; rename the file`,
        );
    const decoder = new TextDecoder("utf-8", { fatal: true });
    const files = entries.map((e) => {
        const bytes = fs.readFileSync(path.join(dir, e.name));
        try {
            return { key: e.name, content: decoder.decode(bytes) };
        } catch {
            throw new Error(`${path.join(shown, e.name)} is not UTF-8 text: a ConfigMap's data holds text only`);
        }
    });
    const size = files.reduce((n, f) => n + Buffer.byteLength(f.key) + Buffer.byteLength(f.content), 0);
    if (size > CONFIGMAP_LIMIT_BYTES)
        throw new Error(`the Python runtime in ${shown} is ${size} bytes, more than a ConfigMap holds (1 MiB)`);
    return { files, checksum: runtimeChecksum(files) };
}

export function runtimeChecksum(files: PythonRuntimeFile[]): string {
    const hash = crypto.createHash("sha256");
    for (const f of files) hash.update(`${f.key}\0${Buffer.byteLength(f.content)}\0${f.content}`);
    return hash.digest("hex").slice(0, 16);
}
