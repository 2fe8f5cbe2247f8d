/**
 * One evaluation of a Pulumi program under the runtime mocks, as a whole process of its own:
 * `node -r ts-node/register/transpile-only tools/lib/bench/eval-probe.ts <json file>`. The bench
 * runs the tenant stack and the floor (a one-resource program) through this same file, so both
 * processes start the same Node with the same flags, the same ts-node transpiler and the same mocks,
 * and load nothing but the harness (tools/lib/mock-run.ts) and the program: no bench, fleet or chart
 * code that would pad both and flatter their ratio.
 *
 * The JSON file says how the program gets its config:
 *   - `{ root, stack, tenants? }`: the harness reads Pulumi.<stack>.yaml over Pulumi.yaml (with the
 *     config model, as the tests do), and the shared stack's outputs are made up for `tenants`;
 *   - `{ root, stack, raw, sharedOutputs }`: config and shared outputs read beforehand (by the bench),
 *     handed over as the Pulumi CLI hands a program its config: the process loads the program's
 *     own modules only when the program needs them.
 * Prints one JSON line: resources registered, peak RSS, CPU time, and the runtime it ran on.
 */
import * as fs from "fs";
import { defaultSharedOutputs, runProgram } from "../mock-run";

export interface EvalProbeArgs {
    root: string;
    stack: string;
    tenants?: string[];
    raw?: { values: Record<string, string>; secretKeys: string[] };
    sharedOutputs?: Record<string, unknown>;
}

/** What the process ran on: the bench refuses to compare two probes that differ here. */
export function runtimeFingerprint(): string {
    const tsNode = (process as unknown as Record<symbol, { options: { swc?: boolean; transpiler?: unknown }; configFilePath?: string }>)[
        Symbol.for("ts-node.register.instance")
    ];
    const transpiler = !tsNode
        ? "none"
        : tsNode.options.swc
          ? "swc"
          : tsNode.options.transpiler
            ? JSON.stringify(tsNode.options.transpiler)
            : "typescript";
    return `node ${process.version} ${process.execArgv.join(" ")}; ts-node transpiler ${transpiler}, ${tsNode?.configFilePath ?? "no tsconfig"}`;
}

async function probe(file: string): Promise<void> {
    const args = JSON.parse(fs.readFileSync(file, "utf8")) as EvalProbeArgs;
    const run = await runProgram(args.stack, {
        root: args.root,
        raw: args.raw && { values: args.raw.values, secretKeys: new Set(args.raw.secretKeys) },
        sharedOutputs: args.sharedOutputs ?? (args.tenants ? defaultSharedOutputs(args.tenants) : undefined),
    });
    const usage = process.resourceUsage();
    process.stdout.write(
        `${JSON.stringify({
            resources: run.resources.length,
            maxRssKb: usage.maxRSS,
            cpuMs: (usage.userCPUTime + usage.systemCPUTime) / 1000,
            runtime: runtimeFingerprint(),
        })}\n`,
    );
}

if (require.main === module) {
    probe(process.argv[2]).then(
        () => process.exit(0),
        (e) => {
            process.stderr.write(`${(e as Error).stack ?? e}\n`);
            process.exit(1);
        },
    );
}
