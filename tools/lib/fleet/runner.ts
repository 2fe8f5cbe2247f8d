/**
 * The fleet runner's scheduling: foundation stacks (shared, ...) first, then the tenants wave by
 * wave, at most `parallel` stacks at once, each worker with its own workspace. One stack failing
 * never stops the others of its wave; on `up` and `destroy` a wave whose failures exceed its budget
 * halts the rollout, and every later stack is reported as skipped.
 */
import { FleetBackend, FleetWorker, StackBusyError } from "./backend";
import {
    FleetOperation, FleetReport, NO_CHANGES, StackReport, WaveReport, changesFromOpMap, driftOf,
} from "./report";

export interface RolloutWave {
    stacks: string[];
    /** How many stacks of this wave may fail before the rollout halts. */
    failureBudget: number;
}

export interface RolloutPlan {
    /** Stacks every tenant needs (the shared Redis, ...): run first, together; on up a failure halts the rollout. Empty when none is selected. */
    foundation: string[];
    /** Tenant waves in rollout order (canaries first). */
    waves: RolloutWave[];
}

/** What the runner tells the display as it goes (progress.ts). */
export interface FleetProgress {
    stackStarted(stack: string, wave: number, worker: number): void;
    stackProgress(stack: string, line: string): void;
    stackFinished(report: StackReport): void;
    waveFinished(wave: WaveReport): void;
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
}

const SILENT: FleetProgress = { stackStarted() {}, stackProgress() {}, stackFinished() {}, waveFinished() {} };

/** Operations that change what runs: only these roll out in barrier-separated waves and halt. */
function isRollout(operation: FleetOperation): boolean {
    return operation === "up" || operation === "destroy";
}

/** The error lines worth showing (the CLI's output around them is in the job log). */
export function errorSummary(error: unknown, maxChars = 1500): string {
    const text = error instanceof Error ? error.message : String(error);
    const lines = text.split(/\r?\n/).map((l) => l.trimEnd()).filter((l) => l.trim());
    const errors = lines.filter((l) => /\berror\b/i.test(l));
    const chosen = (errors.length ? errors : lines).join("\n");
    return chosen.length > maxChars ? `${chosen.slice(0, maxChars)}…` : chosen;
}

interface Group {
    wave: number;
    stacks: string[];
    failureBudget: number;
}

/** The groups in the order they run: foundation (wave 0) first, or last for destroy (tenants go before what they use). */
function groupsOf(plan: RolloutPlan, operation: FleetOperation): Group[] {
    const foundation: Group[] = plan.foundation.length ? [{ wave: 0, stacks: plan.foundation, failureBudget: 0 }] : [];
    const waves = plan.waves.map((w, i) => ({ wave: i + 1, stacks: w.stacks, failureBudget: w.failureBudget }));
    return operation === "destroy" ? [...waves.reverse(), ...foundation] : [...foundation, ...waves];
}

function validatePlan(plan: RolloutPlan, parallel: number): void {
    if (!Number.isInteger(parallel) || parallel < 1) throw new Error(`parallel must be a whole number ≥ 1 (got ${parallel})`);
    const seen = new Set<string>();
    for (const stack of [...plan.foundation, ...plan.waves.flatMap((w) => w.stacks)]) {
        if (seen.has(stack)) throw new Error(`stack ${stack} is in the rollout plan twice`);
        seen.add(stack);
    }
    for (const w of plan.waves) {
        if (!Number.isInteger(w.failureBudget) || w.failureBudget < 0) throw new Error(`a wave's failure budget must be a whole number ≥ 0 (got ${w.failureBudget})`);
    }
}

/** A bounded pool of workers, opened lazily (one workspace each) and reused from wave to wave. */
class WorkerPool {
    private readonly idle: { index: number; worker: FleetWorker }[] = [];
    private readonly all: FleetWorker[] = [];
    constructor(private readonly backend: FleetBackend, private readonly size: number) {}

    /** Runs `jobs` with at most `size` at once; resolves when all have finished. */
    async runAll<T>(items: T[], job: (item: T, worker: FleetWorker, index: number) => Promise<void>): Promise<void> {
        let next = 0;
        const lane = async () => {
            while (next < items.length) {
                const item = items[next++];
                const slot = this.idle.pop() ?? await this.open();
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

    const groups = groupsOf(plan, operation);
    const results = new Map<string, StackReport>();
    const waves: WaveReport[] = [];
    let halted: FleetReport["halted"] = null;
    const pool = new WorkerPool(backend, parallel);

    const runStack = async (stack: string, wave: number, worker: FleetWorker, index: number) => {
        progress.stackStarted(stack, wave, index);
        const t0 = now();
        let report: StackReport;
        try {
            const outcome = await worker.run(stack, operation, {
                previewOnly,
                refresh: !!options.refresh,
                onProgress: (line) => progress.stackProgress(stack, line),
            });
            const changes = changesFromOpMap(outcome.changeSummary);
            report = {
                stack, wave, result: "succeeded", changes, policyViolations: outcome.policyViolations,
                drift: operation === "refresh" ? driftOf(changes) : null, durationMs: Math.max(0, Math.round(now() - t0)),
            };
        } catch (e) {
            const busy = e instanceof StackBusyError;
            report = {
                stack, wave, result: busy ? "busy" : "failed", changes: { ...NO_CHANGES }, policyViolations: 0,
                drift: null, durationMs: Math.max(0, Math.round(now() - t0)), error: errorSummary(e),
            };
        }
        results.set(stack, report);
        progress.stackFinished(report);
    };

    const finishWave = (group: Group) => {
        const failed = group.stacks.filter((s) => results.get(s)?.result === "failed").length;
        // The foundation must be complete before any tenant uses it: a busy foundation stack halts too.
        const incomplete = group.wave === 0 ? group.stacks.filter((s) => results.get(s)?.result !== "succeeded").length : failed;
        const halts = isRollout(operation) && incomplete > group.failureBudget;
        const report: WaveReport = { wave: group.wave, stacks: group.stacks, failed, failureBudget: group.failureBudget, halted: halts };
        waves.push(report);
        progress.waveFinished(report);
        if (halts) {
            halted = {
                wave: group.wave,
                reason: group.wave === 0
                    ? `${group.stacks.join(", ")} did not succeed, and every tenant depends on ${group.stacks.length > 1 ? "them" : "it"}`
                    : `${failed} of ${group.stacks.length} stacks failed, more than the failure budget of ${group.failureBudget}`,
            };
        }
    };

    try {
        if (isRollout(operation)) {
            for (const group of groups) {
                if (halted) break;
                await pool.runAll(group.stacks, (stack, worker, index) => runStack(stack, group.wave, worker, index));
                finishWave(group);
            }
        } else {
            // Nothing changes, so nothing waits: the foundation first, then every tenant through one pool, in wave order.
            const [foundation, tenantGroups] = groups[0]?.wave === 0 ? [groups[0], groups.slice(1)] : [undefined, groups];
            if (foundation) {
                await pool.runAll(foundation.stacks, (stack, worker, index) => runStack(stack, 0, worker, index));
                finishWave(foundation);
            }
            const queue = tenantGroups.flatMap((g) => g.stacks.map((stack) => ({ stack, wave: g.wave })));
            await pool.runAll(queue, ({ stack, wave }, worker, index) => runStack(stack, wave, worker, index));
            tenantGroups.forEach(finishWave);
        }
    } finally {
        await pool.close();
    }

    const stacks = groups.flatMap((g) => g.stacks.map((stack): StackReport => results.get(stack) ?? {
        stack, wave: g.wave, result: "skipped", changes: { ...NO_CHANGES }, policyViolations: 0, drift: null, durationMs: 0,
    }));
    for (const s of stacks) if (s.result === "skipped") progress.stackFinished(s);
    return {
        schemaVersion: 1, operation, previewOnly, startedAt, durationMs: Math.max(0, Math.round(now() - started)),
        waves, halted, stacks,
    };
}
