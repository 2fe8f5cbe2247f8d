/**
 * `npm test [-- PATH ...] [-- MOCHA OPTIONS]`: the test runner behind `npm test` (after the type check).
 *
 * Without paths it runs every `tests/**\/*.test.ts`; with paths, only the named files and the
 * `*.test.ts` files under the named folders (`npm test -- tests/app`). Anything else is handed to
 * mocha as is (`npm test -- tests/program --grep config`). Mocha's own `spec` list (which it would
 * add to the named files) is not used: .mocharc.json holds only options.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";

import { REPO_ROOT } from "../components/names";

export { REPO_ROOT };
const TEST_FILE = /\.test\.ts$/;

function testFilesUnder(dir: string): string[] {
    return fs
        .readdirSync(dir, { withFileTypes: true })
        .flatMap((e) =>
            e.isDirectory() ? testFilesUnder(path.join(dir, e.name)) : TEST_FILE.test(e.name) ? [path.join(dir, e.name)] : [],
        );
}

/** Splits the arguments into test files (paths expanded, relative to `cwd`) and mocha options. */
export function mochaArguments(args: string[], cwd = process.cwd()): { files: string[]; options: string[] } {
    const files: string[] = [];
    const options: string[] = [];
    for (const arg of args) {
        const full = path.resolve(cwd, arg);
        if (!arg.startsWith("-") && fs.existsSync(full)) {
            files.push(...(fs.statSync(full).isDirectory() ? testFilesUnder(full) : [full]));
        } else {
            options.push(arg);
        }
    }
    const all = files.length > 0 ? [...new Set(files)] : testFilesUnder(path.join(REPO_ROOT, "tests"));
    return { files: all.map((f) => path.relative(cwd, f)).sort(), options };
}

if (require.main === module) {
    const args = process.argv.slice(2);
    const missing = args.filter((a) => !a.startsWith("-") && /(^tests\/|\.test\.ts$)/.test(a) && !fs.existsSync(path.resolve(a)));
    if (missing.length) {
        process.stderr.write(`no such test file or folder: ${missing.join(", ")}\n`);
        process.exit(2);
    }
    const { files, options } = mochaArguments(args);
    const mocha = require.resolve("mocha/bin/mocha.js", { paths: [REPO_ROOT] });
    const result = spawnSync(process.execPath, [mocha, ...options, ...files], { stdio: "inherit", cwd: process.cwd() });
    process.exit(result.status ?? 1);
}
