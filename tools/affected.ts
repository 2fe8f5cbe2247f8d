/**
 * `npm run affected -- --base <git-ref> [--json] [--why] [--root REPO]`
 *
 * Prints the stacks a change since the merge base of <git-ref> and HEAD can affect, one per line
 * (`shared` first), or a JSON document {base, all, stacks, removed, files}. --why adds, per changed
 * file, which stacks it affects and why (on stderr, so stdout stays a list). Nothing affected
 * prints nothing. The rules are in tools/lib/affected.ts.
 * Exit code: 0 done, 1 git or stack files cannot be read, 2 bad arguments.
 */
import { parseArgs } from "util";
import { FileEffect, affectedSince } from "./lib/affected";
import { REPO_ROOT } from "./lib/stack-files";

const USAGE = "usage: npm run affected -- --base <git-ref> [--json] [--why] [--root REPO]";

interface Output {
    write(text: string): unknown;
}

function describe(f: FileEffect): string {
    const effect = f.effect.kind === "stacks" ? f.effect.stacks.join(", ") : f.effect.kind === "all" ? "every stack" : "no stack";
    return `${f.file}: ${effect} (${f.why})`;
}

/** The CLI, callable in-process: returns the exit code. */
export function main(argv: string[], stdout: Output = process.stdout, stderr: Output = process.stderr): number {
    let args;
    try {
        args = parseArgs({
            args: argv,
            options: {
                base: { type: "string" },
                json: { type: "boolean" },
                why: { type: "boolean" },
                root: { type: "string" },
                help: { type: "boolean" },
            },
        }).values;
    } catch (e) {
        stderr.write(`${(e as Error).message}\n${USAGE}\n`);
        return 2;
    }
    if (args.help) {
        stdout.write(`${USAGE}\n`);
        return 0;
    }
    if (!args.base) {
        stderr.write(`--base is required: the git ref the change is compared with, e.g. origin/main\n${USAGE}\n`);
        return 2;
    }
    let result;
    try {
        result = affectedSince(args.base, args.root ?? REPO_ROOT);
    } catch (e) {
        stderr.write(`${(e as Error).message}\n`);
        return 1;
    }
    if (args.why) stderr.write(result.files.map((f) => `${describe(f)}\n`).join(""));
    for (const stack of result.removed)
        stderr.write(
            `note: the change deletes Pulumi.${stack}.yaml; stack ${stack} cannot be previewed, and its resources stay until it is destroyed\n`,
        );
    stdout.write(args.json ? `${JSON.stringify({ base: args.base, ...result }, null, 2)}\n` : result.stacks.map((s) => `${s}\n`).join(""));
    return 0;
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
