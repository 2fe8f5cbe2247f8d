/**
 * `npm run affected -- --base <git-ref> [--json | --github-output --shards N] [--why] [--root REPO]`
 *
 * Prints the stacks a change since the merge base of <git-ref> and HEAD can affect, one per line
 * (`shared` first), or a JSON document {base, all, stacks, removed, files}. --why adds, per changed
 * file, which stacks it affects and why (on stderr, so stdout stays a list). Nothing affected
 * prints nothing. The rules are in tools/lib/affected.ts.
 * --github-output --shards N prints `$GITHUB_OUTPUT` lines for the preview workflow: `shards` (a JSON
 * list of at most N {index, of, stacks} for a job matrix), `all`, `count` and `removed`.
 * Exit code: 0 done, 1 git or stack files cannot be read, 2 bad arguments.
 */
import { FileEffect, affectedSince, shardStacks } from "./lib/affected";
import { REPO_ROOT } from "./lib/stack-files";
import { Output, parseCli } from "./lib/cli";

const USAGE = "usage: npm run affected -- --base <git-ref> [--json | --github-output --shards N] [--why] [--root REPO]";

function describe(f: FileEffect): string {
    const effect = f.effect.kind === "stacks" ? f.effect.stacks.join(", ") : f.effect.kind === "all" ? "every stack" : "no stack";
    return `${f.file}: ${effect} (${f.why})`;
}

/** The CLI, callable in-process: returns the exit code. */
export function main(argv: string[], stdout: Output = process.stdout, stderr: Output = process.stderr): number {
    const parsed = parseCli(argv, {
        options: {
            base: { type: "string" },
            json: { type: "boolean" },
            "github-output": { type: "boolean" },
            shards: { type: "string" },
            why: { type: "boolean" },
            root: { type: "string" },
            help: { type: "boolean" },
        },
        usage: USAGE,
        stdout,
        stderr,
    });
    if (typeof parsed === "number") return parsed;
    const args = parsed.values;
    if (!args.base) {
        stderr.write(`--base is required: the git ref the change is compared with, e.g. origin/main\n${USAGE}\n`);
        return 2;
    }
    if (!!args["github-output"] !== (args.shards !== undefined) || (args.json && args["github-output"])) {
        stderr.write(`--github-output and --shards N go together, without --json\n${USAGE}\n`);
        return 2;
    }
    if (args.shards !== undefined && !/^[1-9]\d*$/.test(args.shards)) {
        stderr.write(`--shards must be a whole number of at least 1 (got '${args.shards}')\n${USAGE}\n`);
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
    if (args["github-output"]) {
        const shards = shardStacks(result.stacks, Number(args.shards));
        stdout.write(
            `shards=${JSON.stringify(shards)}\nall=${result.all}\ncount=${result.stacks.length}\nremoved=${JSON.stringify(result.removed)}\n`,
        );
        return 0;
    }
    stdout.write(args.json ? `${JSON.stringify({ base: args.base, ...result }, null, 2)}\n` : result.stacks.map((s) => `${s}\n`).join(""));
    return 0;
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
