/**
 * The fleet runner's scheduling: the rollout plan's steps in order (the images stack, the shared
 * stack, then the tenants wave by wave, canaries first, in batches; tools/lib/rollout.ts plans them), at most
 * `parallel` stacks at once, each worker with its own workspace. One stack failing never stops the
 * others of its step; on `up` and `destroy` the plan's halt rule may stop the rollout after a step
 * (a failed or busy canary, failures over the budget), and every later stack is reported as skipped.
 * preview and refresh change nothing, so they never halt and do not wait between tenant steps.
 * A run stopped from outside (`stop`: the CLI's SIGINT or SIGTERM) starts no further stack, cancels
 * the running operations gracefully, waits for them up to a grace period and reports what it left.
 */
import { FleetBackend, FleetWorker, StackBusyError } from "./backend";
import {
    FLEET_REPORT_SCHEMA_VERSION,
    StopSignal,
    FleetOperation,
    FleetReport,
    NO_CHANGES,
    StackReport,
    StepReport,
    Wave,
    changesFromOpMap,
    driftOf,
    isInfraWave,
} from "./report";

/** One step of the rollout (the shape of tools/lib/rollout.ts's RolloutStep): run together, after every earlier step. */
export interface RolloutStepPlan {
    /** "images" for the images stack, "shared" for the shared stack(s), else the tenants' `stock:rolloutWave` (0 = canary). */
    wave: Wave;
    /** For progress and the report, e.g. `wave 2 batch 1/3`. */
    label: string;
    stacks: string[];
}

export interface RolloutPlan {
    steps: RolloutStepPlan[];
    /**
     * After a step of `up` or `destroy`: why the rollout stops here, or undefined to go on.
     * `failedInStep` counts this step's failed stacks; `failedBefore` the tenant stacks that failed in
     * earlier steps; `busyInStep` names this step's busy stacks (a busy images, shared or canary stack
     * did not run the change: the plan halts on it).
     */
    haltReason(step: RolloutStepPlan, failedInStep: number, failedBefore: number, busyInStep: readonly string[]): string | undefined;
}

/** What the runner tells the display as it goes (progress.ts). */
export interface FleetProgress {
    stackStarted(stack: string, step: RolloutStepPlan, worker: number): void;
    stackProgress(stack: string, line: string): void;
    stackFinished(report: StackReport): void;
    stepFinished(step: StepReport): void;
}

export interface FleetRunOptions {
    operation: FleetOperation;
    plan: RolloutPlan;
    backend: FleetBackend;
    /** Most stacks running at once (≥ 1). */
    parallel: number;
    previewOnly?: boolean;
    refresh?: boolean;
    progress?: FleetProgress;
    /** Milliseconds since some origin; injected so tests can control time. */
    now?: () => number;
    /**
     * Called with a partial report (`complete: false`, the stacks not finished under `unfinished`)
     * before the first stack starts and after every stack finishes, so that a run stopped from
     * outside (a job timeout, a cancel) leaves what it did. Synchronous: calls never overlap.
     */
    onCheckpoint?: (report: FleetReport) => void;
    /** Aborted to stop the run (its `reason` a FleetStopRequest): no stack starts after it, the running ones are cancelled. */
    stop?: AbortSignal;
    /** How long a stopped run waits for its running operations to end before it reports them as still running (default 60 s). */
    gracePeriodMs?: number;
}

/** Why a run was stopped: the `reason` of FleetRunOptions.stop. */
export interface FleetStopRequest {
    signal: StopSignal;
    /**
     * Whether to pass the cancellation on to the running operations (default true). False when they
     * had the signal already: a terminal's Ctrl-C reaches the whole process group, `pulumi` children
     * included, and a second SIGINT would make the CLI quit at once instead of gracefully.
     */
    cancelOperations?: boolean;
}

export const DEFAULT_GRACE_PERIOD_MS = 60_000;

function stopRequestOf(signal: AbortSignal): FleetStopRequest {
    const reason = signal.reason as Partial<FleetStopRequest> | undefined;
    return { signal: reason?.signal === "SIGINT" ? "SIGINT" : "SIGTERM", cancelOperations: reason?.cancelOperations ?? true };
}

const SILENT: FleetProgress = { stackStarted() {}, stackProgress() {}, stackFinished() {}, stepFinished() {} };

/** Operations that change what runs: only these roll out in barrier-separated waves and halt. */
function isRollout(operation: FleetOperation): boolean {
    return operation === "up" || operation === "destroy";
}

/** The error lines worth showing (the CLI's output around them is in the job log). */
export function errorSummary(error: unknown, maxChars = 1500): string {
    const text = error instanceof Error ? error.message : String(error);
    const lines = text
        .split(/\r?\n/)
        .map((l) => l.trimEnd())
        .filter((l) => l.trim());
    const errors = lines.filter((l) => /\berror\b/i.test(l));
    const chosen = (errors.length ? errors : lines).join("\n");
    return chosen.length > maxChars ? `${chosen.slice(0, maxChars)}…` : chosen;
}

/** The steps in the order they run: as planned, or reversed for destroy (tenants go before the shared and images stacks they use). */
export function orderedSteps(plan: RolloutPlan, operation: FleetOperation): RolloutStepPlan[] {
    return operation === "destroy" ? [...plan.steps].reverse() : plan.steps;
}

function validatePlan(plan: RolloutPlan, parallel: number): void {
    if (!Number.isInteger(parallel) || parallel < 1) throw new Error(`parallel must be a whole number ≥ 1 (got ${parallel})`);
    const seen = new Set<string>();
    for (const stack of plan.steps.flatMap((s) => s.stacks)) {
        if (seen.has(stack)) throw new Error(`stack ${stack} is in the rollout plan twice`);
        seen.add(stack);
    }
}

/** A bounded pool of workers, opened lazily (one workspace each) and reused from wave to wave. */
class WorkerPool {
    private readonly idle: { index: number; worker: FleetWorker }[] = [];
    private readonly all: FleetWorker[] = [];
    constructor(
        private readonly backend: FleetBackend,
        private readonly size: number,
    ) {}

    /** Runs `jobs` with at most `size` at once, none once `stopped()`; resolves when all started have finished. */
    async runAll<T>(
        items: T[],
        job: (item: T, worker: FleetWorker, index: number) => Promise<void>,
        stopped: () => boolean,
    ): Promise<void> {
        let next = 0;
        const lane = async () => {
            while (next < items.length) {
                const item = items[next++];
                const slot = this.idle.pop() ?? (await this.open());
                // Stopped while it waited for a worker: the item stays unstarted.
                if (stopped()) {
                    this.idle.push(slot);
                    return;
                }
                try {
                    await job(item, slot.worker, slot.index);
                } finally {
                    this.idle.push(slot);
                }
            }
        };
        await Promise.all(Array.from({ length: Math.min(this.size, items.length) }, lane));
    }

    private opened = 0;

    private async open(): Promise<{ index: number; worker: FleetWorker }> {
        const index = this.opened++;
        const worker = await this.backend.openWorker(index);
        this.all.push(worker);
        return { index, worker };
    }

    async close(): Promise<void> {
        await Promise.allSettled(this.all.map((w) => w.close()));
    }
}

export async function runFleet(options: FleetRunOptions): Promise<FleetReport> {
    const { operation, plan, backend, parallel } = options;
    const now = options.now ?? (() => Date.now());
    const progress = options.progress ?? SILENT;
    const previewOnly = operation === "refresh" && !!options.previewOnly;
    validatePlan(plan, parallel);

    const started = now();
    const startedAt = new Date().toISOString();
    await backend.prepare();

    const steps = orderedSteps(plan, operation);
    const results = new Map<string, StackReport>();
    const stepReports: StepReport[] = [];
    let halted: FleetReport["halted"] = null;
    let tenantFailures = 0;
    const pool = new WorkerPool(backend, parallel);
    const running = new Set<string>();
    const cancel = new AbortController();
    const gracePeriodMs = options.gracePeriodMs ?? DEFAULT_GRACE_PERIOD_MS;
    let interrupted: FleetReport["interrupted"];
    const stopped = () => interrupted !== undefined;

    const skippedReport = (stack: string, wave: Wave): StackReport => ({
        stack,
        wave,
        result: "skipped",
        changes: { ...NO_CHANGES },
        policyViolations: 0,
        drift: null,
        durationMs: 0,
    });
    const reportSoFar = (complete: boolean): FleetReport => {
        const all = steps.flatMap((step) => step.stacks.map((stack) => ({ stack, wave: step.wave, step: step.label })));
        const head: Omit<FleetReport, "stacks"> = {
            schemaVersion: FLEET_REPORT_SCHEMA_VERSION,
            operation,
            previewOnly,
            startedAt,
            durationMs: Math.max(0, Math.round(now() - started)),
            steps: [...stepReports],
            halted,
            ...(interrupted ? { interrupted: { ...interrupted, running: [...interrupted.running] } } : {}),
        };
        if (complete && !interrupted)
            return { ...head, stacks: all.map((s) => results.get(s.stack) ?? skippedReport(s.stack, s.wave)), complete };
        return {
            ...head,
            stacks: all.flatMap((s) => results.get(s.stack) ?? []),
            // A stopped run's last report is its final one, and still not complete.
            complete: false,
            unfinished: all
                .filter((s) => !results.has(s.stack))
                .map((s) => ({ ...s, running: running.has(s.stack), ...(interrupted ? { reason: unfinishedReason(s.stack) } : {}) })),
        };
    };
    const unfinishedReason = (stack: string) =>
        !running.has(stack)
            ? `not started: the run was stopped by ${interrupted!.signal}`
            : interrupted!.gracePeriodExpired
              ? `still running when the ${gracePeriodMs / 1000} s grace period ended: its update may hold the stack's lock (it shows as busy; \`pulumi cancel -s ${stack}\` only once no update runs)`
              : `asked to cancel gracefully on ${interrupted!.signal}: finishing its in-flight resource operations`;
    const checkpoint = () => options.onCheckpoint?.(reportSoFar(false));

    const runStack = async (stack: string, step: RolloutStepPlan, worker: FleetWorker, index: number) => {
        running.add(stack);
        progress.stackStarted(stack, step, index);
        const t0 = now();
        const wave = step.wave;
        let report: StackReport;
        try {
            const outcome = await worker.run(stack, operation, {
                previewOnly,
                refresh: !!options.refresh,
                cancel: cancel.signal,
                onProgress: (line) => progress.stackProgress(stack, line),
            });
            const changes = changesFromOpMap(outcome.changeSummary);
            report = {
                stack,
                wave,
                result: "succeeded",
                changes,
                policyViolations: outcome.policyViolations,
                drift: operation === "refresh" ? driftOf(changes) : null,
                durationMs: Math.max(0, Math.round(now() - t0)),
            };
        } catch (e) {
            const busy = e instanceof StackBusyError;
            // Stopped mid-operation: it ended because it was cancelled, not because the program failed.
            const cut = !busy && interrupted !== undefined;
            report = {
                stack,
                wave,
                result: busy ? "busy" : cut ? "interrupted" : "failed",
                changes: { ...NO_CHANGES },
                policyViolations: 0,
                drift: null,
                durationMs: Math.max(0, Math.round(now() - t0)),
                error: cut
                    ? `interrupted by ${interrupted!.signal}: the operation was asked to cancel gracefully; run it again. ${errorSummary(e)}`
                    : errorSummary(e),
            };
        }
        results.set(stack, report);
        running.delete(stack);
        progress.stackFinished(report);
        checkpoint();
    };

    const finishStep = (step: RolloutStepPlan) => {
        const failed = step.stacks.filter((s) => results.get(s)?.result === "failed").length;
        const infra = isInfraWave(step.wave);
        const busy = step.stacks.filter((s) => results.get(s)?.result === "busy");
        const reason = isRollout(operation) ? plan.haltReason(step, failed, tenantFailures, busy) : undefined;
        if (!infra) tenantFailures += failed;
        const report: StepReport = { label: step.label, wave: step.wave, stacks: step.stacks, failed, halted: !!reason };
        stepReports.push(report);
        progress.stepFinished(report);
        // Halted by busy stacks alone (a busy canary): nothing failed, the exit code says "run again later".
        if (reason) halted = { step: step.label, reason, ...(failed === 0 && busy.length ? { busy } : {}) };
    };

    // Stopped: no new stack; the running ones are told (unless they had the signal already), then given the grace period.
    let graceExpired: Promise<void> | undefined;
    let graceTimer: NodeJS.Timeout | undefined;
    const onStop = () => {
        if (interrupted) return;
        const request = stopRequestOf(options.stop!);
        interrupted = {
            signal: request.signal,
            at: new Date().toISOString(),
            running: [...running],
            gracePeriodMs,
            gracePeriodExpired: false,
            reason: `stopped by ${request.signal} (a cancelled or timed-out job, a Ctrl-C): no stack started after it; ${running.size} running stack(s) asked to cancel gracefully`,
        };
        graceExpired = new Promise((resolve) => (graceTimer = setTimeout(resolve, gracePeriodMs)));
        if (request.cancelOperations) cancel.abort(options.stop!.reason);
        checkpoint();
    };
    if (options.stop?.aborted) onStop();
    else options.stop?.addEventListener("abort", onStop, { once: true });
    const runSteps = async () => {
        if (isRollout(operation)) {
            for (const step of steps) {
                if (halted) break;
                await pool.runAll(step.stacks, (stack, worker, index) => runStack(stack, step, worker, index), stopped);
                // A step cut short by a stop did not finish: no step report, no halting rule.
                if (stopped()) break;
                finishStep(step);
            }
        } else {
            // Nothing changes, so no tenant waits for another: the images and shared stacks first, in
            // that order, then every tenant through one pool, in rollout order.
            const infra = steps.filter((s) => isInfraWave(s.wave));
            const tenantSteps = steps.filter((s) => !isInfraWave(s.wave));
            for (const step of infra) {
                await pool.runAll(step.stacks, (stack, worker, index) => runStack(stack, step, worker, index), stopped);
                if (!stopped()) finishStep(step);
            }
            const queue = tenantSteps.flatMap((step) => step.stacks.map((stack) => ({ stack, step })));
            await pool.runAll(queue, ({ stack, step }, worker, index) => runStack(stack, step, worker, index), stopped);
            if (!stopped()) tenantSteps.forEach(finishStep);
        }
    };

    checkpoint();
    const work = runSteps();
    // Whichever comes first: every started stack ended, or (once stopped) the grace period.
    const outcome = await new Promise<"done" | "grace expired">((resolve, reject) => {
        work.then(() => resolve("done"), reject);
        const watchGrace = () => graceExpired!.then(() => resolve("grace expired"));
        if (graceExpired) void watchGrace();
        else options.stop?.addEventListener("abort", () => graceExpired && void watchGrace(), { once: true });
    }).finally(() => {
        clearTimeout(graceTimer);
        options.stop?.removeEventListener("abort", onStop);
    });
    if (outcome === "done") await pool.close();
    else {
        // The workers' directories stay: a `pulumi` child still running works in one.
        interrupted!.gracePeriodExpired = true;
        interrupted!.reason += `; the ${gracePeriodMs / 1000} s grace period ended with ${running.size} still running`;
        work.catch(() => undefined);
    }

    const report = reportSoFar(true);
    for (const s of report.stacks) if (s.result === "skipped") progress.stackFinished(s);
    return report;
}
