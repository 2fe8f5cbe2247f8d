/**
 * The fleet runner's report: what `npm run fleet -- <operation> --json` prints on stdout, and the
 * summary table it prints otherwise. The JSON document is a contract (the PR preview comment and
 * the drift job read it): `FleetReport` below, validated by `parseFleetReport`. Change it only by
 * adding optional fields, or raise `schemaVersion`.
 */
import Table from "cli-table3";
import { z } from "zod";

export const FLEET_OPERATIONS = ["preview", "up", "refresh", "destroy"] as const;
export const STACK_RESULTS = ["succeeded", "failed", "busy", "skipped", "interrupted"] as const;
/** The signals that stop a run gracefully (a CI job cancelled or timed out, a Ctrl-C). */
export const STOP_SIGNALS = ["SIGINT", "SIGTERM"] as const;
export type StopSignal = (typeof STOP_SIGNALS)[number];

const count = z.number().int().nonnegative();

/** The stack roles that run before any tenant, in this order: the images stack (the backend image every tenant deploys), then the shared stack (the Redis every tenant uses). */
export const INFRA_WAVES = ["images", "shared"] as const;
/** A step's or stack's place in the rollout: an infrastructure role, or the tenants' `stock:rolloutWave` (0 = canary). */
const WaveSchema = z.union([z.enum(INFRA_WAVES), count]);
export type Wave = z.output<typeof WaveSchema>;
export type InfraWave = (typeof INFRA_WAVES)[number];

/** Is this the images or the shared step, which every tenant needs complete? */
export function isInfraWave(wave: Wave): wave is InfraWave {
    return typeof wave === "string";
}

/** The report's schema version: 2 added the wave "images". */
export const FLEET_REPORT_SCHEMA_VERSION = 2;

/** Resource changes of one stack, as the engine's change summary counts them (a replacement counts once, under `replace`). */
export const ResourceChangesSchema = z.object({
    create: count,
    update: count,
    replace: count,
    delete: count,
    same: count,
});
export type ResourceChanges = z.output<typeof ResourceChangesSchema>;

export const StackReportSchema = z.object({
    /** The stack's short name, as in `Pulumi.<stack>.yaml`. */
    stack: z.string().min(1),
    /** "images" for the images stack, "shared" for the shared stack, else the tenant's `stock:rolloutWave` (0 = canary). */
    wave: WaveSchema,
    /**
     * succeeded: the operation finished. failed: the program, the engine or a policy refused it
     * (`error` says why). busy: another update of the stack was running (HTTP 409), nothing was
     * done; run it again later. skipped: never started, because the rollout halted before its wave.
     * interrupted: running when the run was stopped (a signal, see `interrupted` of the report); its
     * operation was asked to cancel gracefully and ended without succeeding (`error` says how): its
     * in-flight resource operations finished and the checkpoint was written, the rest did not run.
     */
    result: z.enum(STACK_RESULTS),
    changes: ResourceChangesSchema,
    /** Policy pack violations reported by the engine (advisory and mandatory). */
    policyViolations: count,
    /** refresh only: whether the live resources differ from the state; null for other operations and for stacks that did not finish. */
    drift: z.boolean().nullable(),
    /** Wall-clock time of the operation on this stack; 0 for skipped stacks. */
    durationMs: count,
    /** First lines of the error, for failed, busy and interrupted stacks. */
    error: z.string().optional(),
});
export type StackReport = z.output<typeof StackReportSchema>;

/** One step of the rollout: the images stack, the shared stack, or one batch of one wave (tools/lib/rollout.ts). */
export const StepReportSchema = z.object({
    /** e.g. `images`, `shared`, `wave 0 (canary)`, `wave 2 batch 1/3`. */
    label: z.string(),
    wave: WaveSchema,
    stacks: z.array(z.string()),
    /** Stacks of this step that failed (busy stacks are not failures). */
    failed: count,
    /** True when the rollout halted after this step (up and destroy only). */
    halted: z.boolean(),
});
export type StepReport = z.output<typeof StepReportSchema>;

/** A stack a partial report has no result for yet. */
export const UnfinishedStackSchema = z.object({
    stack: z.string().min(1),
    wave: WaveSchema,
    /** The label of the rollout step it belongs to (a step is listed under `steps` only once it has finished). */
    step: z.string(),
    /** Started and not finished when the report was written (a stopped run may have left it mid-operation, its lock held); false: not started. */
    running: z.boolean(),
    /** Why it did not finish, when the run was stopped by a signal: not started, or still running when the grace period ended. */
    reason: z.string().optional(),
});
export type UnfinishedStack = z.output<typeof UnfinishedStackSchema>;

export const FleetReportSchema = z.object({
    schemaVersion: z.literal(FLEET_REPORT_SCHEMA_VERSION),
    operation: z.enum(FLEET_OPERATIONS),
    /** refresh --preview-only: drift was detected but the state was not written. */
    previewOnly: z.boolean(),
    /** ISO 8601 time the run started. */
    startedAt: z.string(),
    durationMs: count,
    /** The steps that ran, in order (a halted rollout lists no step after the one that halted it). */
    steps: z.array(StepReportSchema),
    /** Set when the rollout halted (a failed images or shared stack or canary, a busy canary, or failures over the budget): later steps' stacks are reported as skipped. */
    halted: z
        .object({
            step: z.string(),
            reason: z.string(),
            /** Set when busy stacks alone halted it (a busy canary did not run the change): nothing failed; run again once their update has finished. */
            busy: z.array(z.string()).optional(),
        })
        .nullable(),
    /**
     * Every selected stack that finished (succeeded, failed, busy) or was skipped, in rollout order;
     * in a complete report, every selected stack.
     */
    stacks: z.array(StackReportSchema),
    /**
     * False in the reports written while the run goes on (`--report-file`, after every finished
     * stack): a job cancelled or timed out mid-rollout leaves the last one, which lists the stacks
     * not finished yet under `unfinished`. True, or absent (reports written before this field), once
     * the run has ended.
     */
    complete: z.boolean().optional(),
    /** Partial reports only: the selected stacks that had not finished, in rollout order; `running`: started and not finished. */
    unfinished: z.array(UnfinishedStackSchema).optional(),
    /**
     * Set when the run was stopped by a signal (a job cancelled or timed out, a Ctrl-C): it started no
     * stack after it, asked the running ones to cancel gracefully and waited up to `gracePeriodMs`.
     * Such a report is never complete: the stacks not started are under `unfinished`.
     */
    interrupted: z
        .object({
            signal: z.enum(STOP_SIGNALS),
            /** ISO 8601 time the signal arrived. */
            at: z.string(),
            /** The stacks running when it arrived (each is reported as interrupted, or succeeded if it finished first, or as unfinished and running if it outlived the grace period). */
            running: z.array(z.string()),
            gracePeriodMs: count,
            /** True when the grace period ended with operations still running (their stacks may stay locked). */
            gracePeriodExpired: z.boolean(),
            reason: z.string(),
        })
        .optional(),
});
export type FleetReport = z.output<typeof FleetReportSchema>;
export type FleetOperation = FleetReport["operation"];
export type StackResult = StackReport["result"];

/** Reads a `--json` document, refusing anything that is not a report of this schema version. */
export function parseFleetReport(json: string): FleetReport {
    const parsed = FleetReportSchema.safeParse(JSON.parse(json));
    if (!parsed.success) {
        throw new Error(
            `not a fleet report (schemaVersion ${FLEET_REPORT_SCHEMA_VERSION}): ${parsed.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).join("; ")}`,
        );
    }
    return parsed.data;
}

export function formatFleetJson(report: FleetReport): string {
    return `${JSON.stringify(FleetReportSchema.parse(report), null, 2)}\n`;
}

export const NO_CHANGES: ResourceChanges = { create: 0, update: 0, replace: 0, delete: 0, same: 0 };

/**
 * The engine's change summary (`OpMap` of the Automation API: operation → count) as our five
 * counts. "create-replacement" and "delete-replaced" are the two halves of a "replace" and are not
 * counted again; imports count as creates, discards as deletes.
 */
export function changesFromOpMap(opMap: Record<string, number | undefined> | undefined): ResourceChanges {
    const n = (k: string) => opMap?.[k] ?? 0;
    return {
        create: n("create") + n("import"),
        update: n("update"),
        replace: n("replace"),
        delete: n("delete") + n("discard"),
        same: n("same") + n("read"),
    };
}

/** A refresh drifted when it would change any resource in the state (update, delete, replace or create). */
export function driftOf(changes: ResourceChanges): boolean {
    return changes.update + changes.delete + changes.replace + changes.create > 0;
}

/** Was this report written before the run ended (the job may have been stopped since)? */
export function isPartial(report: FleetReport): boolean {
    return report.complete === false;
}

export function stacksWith(report: FleetReport, result: StackResult): string[] {
    return report.stacks.filter((s) => s.result === result).map((s) => s.stack);
}

/** Exit codes of `npm run fleet` (also in its usage text and the README). */
export const EXIT = {
    ok: 0,
    /** a stack failed, or the rollout halted on a failure */
    failed: 1,
    /** bad arguments or environment (no Pulumi CLI, unknown stack) */
    usage: 2,
    /** nothing failed, but some stacks were busy (another update running; a busy images, shared or canary stack halts the rollout): run again later */
    busy: 3,
    /** stopped by SIGINT (128 + 2, the shell's convention): a job cancelled or timed out, a Ctrl-C */
    sigint: 130,
    /** stopped by SIGTERM (128 + 15) */
    sigterm: 143,
} as const;

/** The exit code of a run stopped by `signal` (the first one, when a second followed). */
export function signalExitCode(signal: StopSignal): number {
    return signal === "SIGINT" ? EXIT.sigint : EXIT.sigterm;
}

export function exitCodeOf(report: FleetReport): number {
    if (report.interrupted) return signalExitCode(report.interrupted.signal);
    if (stacksWith(report, "failed").length > 0) return EXIT.failed;
    if (report.halted && !report.halted.busy?.length) return EXIT.failed;
    if (stacksWith(report, "busy").length > 0) return EXIT.busy;
    return EXIT.ok;
}

/** One line for the end of the run, naming every stack that did not succeed. */
export function outcomeLine(report: FleetReport): string {
    const failed = stacksWith(report, "failed");
    const busy = stacksWith(report, "busy");
    const skipped = stacksWith(report, "skipped");
    const interrupted = stacksWith(report, "interrupted");
    const unfinished = report.unfinished ?? [];
    const total = report.stacks.length + unfinished.length;
    const done = stacksWith(report, "succeeded").length;
    const parts = [`${done}/${total} succeeded`];
    if (report.interrupted) parts.push(report.interrupted.reason);
    if (interrupted.length) parts.push(`interrupted: ${interrupted.join(", ")}`);
    const outlived = unfinished.filter((u) => u.running).map((u) => u.stack);
    if (outlived.length)
        parts.push(`still running at exit (may stay locked: pulumi cancel -s <stack> once no update runs): ${outlived.join(", ")}`);
    const notStarted = unfinished.filter((u) => !u.running).map((u) => u.stack);
    if (report.interrupted && notStarted.length) parts.push(`not started: ${notStarted.join(", ")}`);
    if (failed.length) parts.push(`failed: ${failed.join(", ")}`);
    if (busy.length) parts.push(`busy (another update running, run again later): ${busy.join(", ")}`);
    if (report.halted) parts.push(`halted after ${report.halted.step}: ${report.halted.reason}`);
    if (skipped.length) parts.push(`skipped: ${skipped.join(", ")}`);
    return `fleet ${report.operation}${report.previewOnly ? " --preview-only" : ""}: ${parts.join("; ")}`;
}

function formatDuration(ms: number): string {
    return ms < 1000
        ? `${ms}ms`
        : ms < 60_000
          ? `${(ms / 1000).toFixed(1)}s`
          : `${Math.floor(ms / 60_000)}m${String(Math.round((ms % 60_000) / 1000)).padStart(2, "0")}s`;
}

function formatChanges(c: ResourceChanges, result: StackResult): string {
    if (result !== "succeeded") return "-";
    return `+${c.create} ~${c.update} ±${c.replace} -${c.delete} =${c.same}`;
}

function formatDrift(drift: boolean | null): string {
    return drift === null ? "-" : drift ? "drifted" : "none";
}

/** The summary table (no colours: it is read in CI logs too). */
export function formatFleetTable(report: FleetReport): string {
    const table = new Table({
        head: ["stack", "wave", "result", "changes (+create ~update ±replace -delete =same)", "policy", "drift", "duration"],
        style: { head: [], border: [] },
        // No rule between rows: 500 stacks make 500 lines, not 1000.
        chars: { mid: "", "left-mid": "", "mid-mid": "", "right-mid": "" },
    });
    for (const s of report.stacks) {
        table.push([
            s.stack,
            String(s.wave),
            s.result,
            formatChanges(s.changes, s.result),
            String(s.policyViolations),
            formatDrift(s.drift),
            formatDuration(s.durationMs),
        ]);
    }
    // A run stopped by a signal: the stacks it never finished, so that the table names every stack.
    for (const u of report.interrupted ? (report.unfinished ?? []) : []) {
        table.push([u.stack, String(u.wave), u.running ? "running at exit" : "not started", "-", "-", "-", "-"]);
    }
    return table.toString();
}
