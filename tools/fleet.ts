/**
 * `npm run fleet -- <preview|up|refresh|destroy> [--stacks a,b | --affected-by REF] [--parallel N] [--json] ...`
 *
 * Runs one Pulumi operation over many stacks through the Automation API: the images stack first
 * (the backend image every tenant deploys), then the shared stack, then the tenants wave by wave
 * (canaries first, `stock:rolloutWave`), in batches, at most --parallel at once, each worker in its
 * own workspace. On up and destroy a failed images or shared stack or canary, or more failed
 * tenants than `stock:rolloutFailureBudget`, halts the rollout: later stacks are skipped.
 * A stack another update is running on is reported as busy, not failed; a busy canary halts the
 * rollout too (it did not run the change). Needs the Pulumi CLI.
 * SIGINT or SIGTERM (a CI job cancelled or timed out, a Ctrl-C) stops it gracefully: no new stack,
 * the running operations cancelled as `pulumi`'s first Ctrl-C does, the final report written; a
 * second signal exits at once.
 */
import * as path from "path";
import { AutomationBackend } from "./lib/fleet/automation";
import { FleetBackend, FleetEnvironmentError } from "./lib/fleet/backend";
import { ListrProgress, PlainProgress } from "./lib/fleet/progress";
import { writeReportFile } from "./lib/fleet/report-file";
import {
    EXIT,
    FLEET_OPERATIONS,
    FleetOperation,
    FleetReport,
    STOP_SIGNALS,
    StopSignal,
    exitCodeOf,
    formatFleetJson,
    formatFleetTable,
    outcomeLine,
    signalExitCode,
} from "./lib/fleet/report";
import { DEFAULT_GRACE_PERIOD_MS, FleetProgress, FleetStopRequest, orderedSteps, runFleet } from "./lib/fleet/runner";
import { AffectedStacks, SelectionError, parseStackList, selectFleet } from "./lib/fleet/selection";
import { REPO_ROOT } from "./lib/stack-files";
import { Output, parseCli } from "./lib/cli";

export const USAGE = `usage: npm run fleet -- <preview|up|refresh|destroy> [--stacks a,b | --affected-by GIT_REF] [--parallel N] [--json] [--report-file FILE]
                     [--preview-only (refresh)] [--refresh (preview, up)] [--org ORG] [--yes (destroy)] [--grace-period SECONDS]
  --stacks a,b        only these stacks (default: every Pulumi.<stack>.yaml)
  --affected-by REF   only the stacks a change since git ref REF can affect
  --parallel N        at most N stacks at once (default 4)
  --json              print the report as JSON on stdout (tools/lib/fleet/report.ts); progress goes to stderr
  --report-file FILE  write the JSON report to FILE after every finished stack (complete: false) and at the end
  --preview-only      refresh: report drift without writing the state
  --refresh           preview, up: refresh each stack's state first
  --org ORG           the stacks' Pulumi organization (default: the backend's default)
  --yes               destroy: required, destroying is never a default
  --grace-period S    after SIGINT/SIGTERM, wait up to S seconds for the running stacks to cancel (default ${DEFAULT_GRACE_PERIOD_MS / 1000})
on SIGINT or SIGTERM (a cancelled or timed-out CI job, Ctrl-C): no new stack starts, each running operation is cancelled as pulumi's
  first Ctrl-C does (in-flight resource operations finish, the checkpoint is written), the final report (complete: false, the stacks
  marked interrupted or not started) is written and printed; a second signal writes the report file and exits at once
exit codes: 0 every stack succeeded; 1 a stack failed or the rollout halted on a failure; 2 bad arguments, stack files or environment (no Pulumi CLI);
  3 nothing failed but stacks were busy, a busy images, shared or canary stack halting the rollout (run again later);
  130 stopped by SIGINT, 143 stopped by SIGTERM (the first signal's, when a second followed)`;

/** Where the stop signals come from (default: this process). */
export interface SignalSource {
    on(signal: StopSignal, listener: () => void): unknown;
    off(signal: StopSignal, listener: () => void): unknown;
}

export interface FleetCliDeps {
    root?: string;
    /** The Pulumi side (default: the Automation API over `root`). */
    backend?: (options: { root: string; organization?: string }) => FleetBackend;
    /** How --affected-by decides (default: tools/lib/affected.ts). */
    affected?: AffectedStacks;
    /** A terminal gets the listr2 display; CI and pipes plain lines. Default: stderr is a TTY and CI is unset. */
    interactive?: boolean;
    now?: () => number;
    /** Default: this process's SIGINT and SIGTERM. */
    signals?: SignalSource;
    /** How a second signal ends the process at once (default process.exit). */
    exit?: (code: number) => void;
}

/** The CLI, callable in-process: returns the exit code. */
export async function main(
    argv: string[],
    stdout: Output = process.stdout,
    stderr: Output = process.stderr,
    deps: FleetCliDeps = {},
): Promise<number> {
    const parsed = parseCli(argv, {
        options: {
            stacks: { type: "string" },
            "affected-by": { type: "string" },
            parallel: { type: "string" },
            json: { type: "boolean" },
            "report-file": { type: "string" },
            "preview-only": { type: "boolean" },
            refresh: { type: "boolean" },
            org: { type: "string" },
            yes: { type: "boolean" },
            "grace-period": { type: "string" },
            help: { type: "boolean" },
        },
        allowPositionals: true,
        usage: USAGE,
        stdout,
        stderr,
    });
    if (typeof parsed === "number") return parsed;
    const { values: args, positionals } = parsed;
    const usage = (message: string) => {
        stderr.write(`${message}\n${USAGE}\n`);
        return EXIT.usage;
    };
    const operation = positionals[0] as FleetOperation;
    if (positionals.length !== 1 || !FLEET_OPERATIONS.includes(operation))
        return usage(`give one operation: ${FLEET_OPERATIONS.join(", ")}${positionals.length ? ` (got ${positionals.join(" ")})` : ""}`);
    const parallel = args.parallel === undefined ? 4 : Number(args.parallel);
    if (!Number.isInteger(parallel) || parallel < 1 || parallel > 64)
        return usage(`--parallel must be a whole number from 1 to 64 (got ${args.parallel})`);
    if (args["preview-only"] && operation !== "refresh") return usage("--preview-only goes with refresh only");
    if (args.refresh && operation !== "preview" && operation !== "up") return usage("--refresh goes with preview and up only");
    if (operation === "destroy" && !args.yes) return usage("destroy deletes every resource of the selected stacks: add --yes to mean it");

    if (args["report-file"] === "") return usage("--report-file needs a file name");
    const graceSeconds = args["grace-period"] === undefined ? DEFAULT_GRACE_PERIOD_MS / 1000 : Number(args["grace-period"]);
    if (!(graceSeconds >= 0 && graceSeconds <= 3600) || args["grace-period"]?.trim() === "")
        return usage(`--grace-period must be a number of seconds from 0 to 3600 (got ${args["grace-period"]})`);
    const reportFile = args["report-file"] && path.resolve(args["report-file"]);
    const root = path.resolve(deps.root ?? REPO_ROOT);
    let selection;
    try {
        const affected: AffectedStacks =
            deps.affected ?? (async (ref, at) => (await import("./lib/affected")).affectedSince(ref, at).stacks);
        selection = await selectFleet(
            { stacks: args.stacks !== undefined ? parseStackList(args.stacks) : undefined, affectedBy: args["affected-by"] },
            root,
            affected,
        );
    } catch (e) {
        if (e instanceof SelectionError) return usage(e.message);
        throw e;
    }
    stderr.write(`fleet ${operation}: ${selection.description}\n`);

    const interactive = deps.interactive ?? (!!(process.stderr as { isTTY?: boolean }).isTTY && !process.env.CI);
    const steps = orderedSteps(selection.plan, operation);
    const listr = interactive ? new ListrProgress(steps, { concurrent: operation !== "up" && operation !== "destroy" }) : undefined;
    const progress: FleetProgress = listr ?? new PlainProgress(stderr, deps.now);
    const backend = (deps.backend ?? ((o) => new AutomationBackend(o)))({ root, organization: args.org });

    // First signal: stop gracefully. Second: write what is known and exit at once (the runner kills next).
    const stop = new AbortController();
    let lastReport: FleetReport | undefined;
    const signals = deps.signals ?? process;
    // `npm run` passes a terminal's Ctrl-C on to this process, which the terminal delivered too: one
    // keypress, two SIGINTs. Within this window the same signal again counts as the same one.
    const sameSignalMs = 500;
    let firstAt = 0;
    const onSignal = (signal: StopSignal) => {
        const first = stop.signal.aborted ? (stop.signal.reason as FleetStopRequest).signal : undefined;
        if (first === signal && Date.now() - firstAt < sameSignalMs) return;
        if (!first) {
            firstAt = Date.now();
            stderr.write(
                `fleet ${operation}: ${signal} received: starting no new stack, cancelling the running ones gracefully (up to ${graceSeconds} s); a second signal exits at once\n`,
            );
            // A terminal's Ctrl-C reached the pulumi children too: a second SIGINT from here would make them quit at once.
            const request: FleetStopRequest = { signal, cancelOperations: !(signal === "SIGINT" && interactive) };
            stop.abort(request);
            return;
        }
        if (reportFile && lastReport) {
            try {
                writeReportFile(reportFile, lastReport);
            } catch (e) {
                stderr.write(`fleet ${operation}: could not write ${reportFile}: ${(e as Error).message}\n`);
            }
        }
        const open = (lastReport?.unfinished ?? []).filter((u) => u.running).map((u) => u.stack);
        stderr.write(
            `fleet ${operation}: second signal (${signal}): exiting at once${open.length ? `; still running, their locks may stay held (pulumi cancel -s <stack> once no update runs): ${open.join(", ")}` : ""}\n`,
        );
        (deps.exit ?? process.exit)(signalExitCode(first));
    };
    const listeners = STOP_SIGNALS.map((signal) => [signal, () => onSignal(signal)] as const);
    for (const [signal, listener] of listeners) signals.on(signal, listener);

    listr?.start();
    let report;
    try {
        report = await runFleet({
            operation,
            plan: selection.plan,
            backend,
            parallel,
            previewOnly: args["preview-only"],
            refresh: args.refresh,
            progress,
            now: deps.now,
            onCheckpoint: (partial) => {
                lastReport = partial;
                if (reportFile) writeReportFile(reportFile, partial);
            },
            stop: stop.signal,
            gracePeriodMs: graceSeconds * 1000,
        });
    } catch (e) {
        for (const [signal, listener] of listeners) signals.off(signal, listener);
        await listr?.finish();
        if (e instanceof FleetEnvironmentError) {
            stderr.write(`fleet ${operation}: ${e.message}\n`);
            return EXIT.usage;
        }
        throw e;
    }
    lastReport = report;
    await listr?.finish(report);
    if (reportFile) writeReportFile(reportFile, report);
    if (args.json) {
        stdout.write(formatFleetJson(report));
        stderr.write(`${formatFleetTable(report)}\n`);
    } else {
        stdout.write(`${formatFleetTable(report)}\n`);
    }
    stderr.write(`${outcomeLine(report)}\n`);
    for (const [signal, listener] of listeners) signals.off(signal, listener);
    return exitCodeOf(report);
}

if (require.main === module) {
    main(process.argv.slice(2)).then(
        (code) => process.exit(code),
        (e) => {
            process.stderr.write(`fleet: ${(e as Error).stack ?? e}\n`);
            process.exit(EXIT.failed);
        },
    );
}
