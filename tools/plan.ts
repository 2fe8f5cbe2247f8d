/**
 * `npm run plan -- --stack client-a [--out DIR] [--diff REF]`
 *
 * Prints what `pulumi up -s <stack>` would create, offline: no cluster, registry or Pulumi CLI.
 * --out DIR   also writes every rendered Kubernetes object to DIR, one YAML file per object.
 * --diff REF  prints only what changed against the plan of the same stack at git ref REF.
 * --root REPO plans another checkout of this repository (default: this one).
 * Exit code: 0 on success, 1 when the stack's configuration or the program fails (the message
 * says what to fix), 2 on bad arguments.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";
import { REPO_ROOT, stackNames } from "./lib/stack-files";
import { Plan, buildPlan, formatPlan } from "./lib/plan";
import { diffPlans, formatDiff } from "./lib/plan-diff";
import { Output, parseCli } from "./lib/cli";

const USAGE = "usage: npm run plan -- --stack <name> [--out DIR] [--diff GIT_REF] [--root REPO]";

/** The files of the repository at `ref`, exported to a temporary folder that shares this one's node_modules. Nothing is written to .git. */
function checkoutAt(repo: string, ref: string): { root: string; remove(): void } {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "stock-plan-"));
    const remove = () => fs.rmSync(dir, { recursive: true, force: true });
    try {
        const archive = execFileSync("git", ["-C", repo, "archive", "--format=tar", ref], {
            maxBuffer: 1 << 30,
            stdio: ["ignore", "pipe", "pipe"],
        });
        execFileSync("tar", ["-x", "-C", dir], { input: archive });
    } catch (e) {
        remove();
        throw new Error(
            `cannot read git ref '${ref}' in ${repo}: ${String((e as { stderr?: Buffer }).stderr ?? (e as Error).message).trim()}`,
            { cause: e },
        );
    }
    fs.symlinkSync(path.join(REPO_ROOT, "node_modules"), path.join(dir, "node_modules"), "dir");
    return { root: dir, remove };
}

function writeManifests(plan: Plan, dir: string): number {
    fs.mkdirSync(dir, { recursive: true });
    plan.objects.forEach((o, i) => {
        const file = `${String(i + 1).padStart(3, "0")}-${o.namespace || "cluster"}-${o.kind.toLowerCase()}-${o.name}.yaml`;
        fs.writeFileSync(path.join(dir, file), `# ${o.source}\n${YAML.stringify(o.body)}`);
    });
    return plan.objects.length;
}

/** The CLI, callable in-process: returns the exit code. */
export async function main(argv: string[], stdout: Output = process.stdout, stderr: Output = process.stderr): Promise<number> {
    const parsed = parseCli(argv, {
        options: {
            stack: { type: "string" },
            out: { type: "string" },
            diff: { type: "string" },
            root: { type: "string" },
            help: { type: "boolean" },
        },
        usage: USAGE,
        stdout,
        stderr,
    });
    if (typeof parsed === "number") return parsed;
    const args = parsed.values;
    const root = path.resolve(args.root ?? REPO_ROOT);
    const stacks = stackNames(root);
    if (!args.stack || !stacks.includes(args.stack)) {
        stderr.write(
            `${args.stack ? `no Pulumi.${args.stack}.yaml in ${root}` : "--stack is required"}; stacks: ${stacks.join(", ")}\n${USAGE}\n`,
        );
        return 2;
    }
    try {
        await planStack(args.stack, root, args.diff, args.out, stdout);
    } catch (e) {
        stderr.write(`plan failed: ${(e as Error).message}\n`);
        return 1;
    }
    return 0;
}

async function planStack(
    stack: string,
    root: string,
    diffRef: string | undefined,
    outDir: string | undefined,
    stdout: Output,
): Promise<void> {
    const plan = await buildPlan(stack, { root });
    if (diffRef) {
        const old = checkoutAt(root, diffRef);
        try {
            const before = fs.existsSync(path.join(old.root, `Pulumi.${stack}.yaml`))
                ? await buildPlan(stack, { root: old.root })
                : { ...plan, resources: [], objects: [], images: [], outputs: {} };
            stdout.write(formatDiff(await diffPlans(before, plan), stack, diffRef));
        } finally {
            old.remove();
        }
    } else {
        stdout.write(formatPlan(plan));
    }
    if (outDir) {
        const count = writeManifests(plan, outDir);
        stdout.write(`\nWrote ${count} manifests to ${outDir}\n`);
    }
}

if (require.main === module) {
    void main(process.argv.slice(2)).then((code) => process.exit(code));
}
