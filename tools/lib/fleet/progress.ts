/**
 * Live progress of a fleet run. In a terminal: a listr2 task list, one line per rollout step with
 * the stacks running in it underneath (so the display stays as tall as the plan, not the fleet).
 * In CI or a pipe: plain, timestamped lines, one per stack start, resource step and result.
 */
import { Listr, ListrLogger, ListrRendererValue, ListrTaskWrapper, ProcessOutput } from "listr2";
import { FleetReport, StackReport, StepReport } from "./report";
import { FleetProgress, RolloutStepPlan } from "./runner";

interface Output {
    write(text: string): unknown;
}

function changesText(s: StackReport): string {
    const c = s.changes;
    return `+${c.create} ~${c.update} ±${c.replace} -${c.delete}`;
}

function seconds(ms: number): string {
    return `${(ms / 1000).toFixed(1)}s`;
}

/** What a finished stack looks like in one line, in either display. */
export function stackLine(s: StackReport): string {
    switch (s.result) {
        case "succeeded":
            return `${s.stack}: succeeded ${changesText(s)}${s.policyViolations ? `, ${s.policyViolations} policy violation(s)` : ""}${s.drift ? ", drifted" : ""} (${seconds(s.durationMs)})`;
        case "skipped":
            return `${s.stack}: skipped (the rollout halted)`;
        default:
            return `${s.stack}: ${s.result} (${seconds(s.durationMs)}): ${(s.error ?? "").split("\n")[0]}`;
    }
}

export class PlainProgress implements FleetProgress {
    private readonly t0: number;

    constructor(
        private readonly out: Output,
        private readonly now: () => number = () => Date.now(),
    ) {
        this.t0 = now();
    }

    private line(text: string): void {
        this.out.write(`[${seconds(this.now() - this.t0).padStart(7)}] ${text}\n`);
    }

    stackStarted(stack: string, step: RolloutStepPlan, worker: number): void {
        this.line(`${stack}: started (${step.label}, worker ${worker + 1})`);
    }

    stackProgress(stack: string, line: string): void {
        this.line(`${stack}: ${line}`);
    }

    stackFinished(report: StackReport): void {
        this.line(stackLine(report));
    }

    stepFinished(step: StepReport): void {
        this.line(
            `-- ${step.label}: ${step.stacks.length - step.failed}/${step.stacks.length} without failure${step.halted ? "; the rollout halts here" : ""}`,
        );
    }
}

interface Deferred {
    promise: Promise<void>;
    resolve(): void;
}

function deferred(): Deferred {
    let resolve!: () => void;
    const promise = new Promise<void>((r) => (resolve = r));
    return { promise, resolve };
}

interface StepView {
    step: RolloutStepPlan;
    started: Deferred;
    finished: Deferred;
    task?: ListrTaskWrapper<unknown, never, never>;
    running: Map<string, string>;
    done: number;
    failed: string[];
    busy: string[];
    report?: StepReport;
}

export interface ListrProgressOptions {
    /** listr2 renderer: "default" in a terminal; tests use "simple" with their own output. */
    renderer?: ListrRendererValue;
    /** Where the renderer writes (default: the process's stderr; stdout may carry the JSON report). */
    output?: NodeJS.WriteStream;
    /** Whether steps may show as running at once (preview and refresh do not wait between steps). */
    concurrent: boolean;
}

/** The terminal display: one listr2 task per rollout step, driven by the runner's events. */
export class ListrProgress implements FleetProgress {
    private readonly views: StepView[];
    private readonly byStack = new Map<string, StepView>();
    private readonly list: Listr<unknown, ListrRendererValue, ListrRendererValue>;
    private running?: Promise<unknown>;

    constructor(steps: RolloutStepPlan[], options: ListrProgressOptions) {
        this.views = steps.map((step) => ({
            step,
            started: deferred(),
            finished: deferred(),
            running: new Map(),
            done: 0,
            failed: [],
            busy: [],
        }));
        for (const v of this.views) for (const s of v.step.stacks) this.byStack.set(s, v);
        const output = options.output ?? process.stderr;
        this.list = new Listr(
            this.views.map((view) => ({
                title: `${view.step.label}: ${view.step.stacks.length} stack(s), waiting`,
                task: async (_ctx: unknown, task: ListrTaskWrapper<unknown, never, never>) => {
                    view.task = task;
                    await Promise.race([view.started.promise, view.finished.promise]);
                    this.refresh(view);
                    await view.finished.promise;
                    if (!view.report) {
                        task.skip(`${view.step.label}: skipped, the rollout halted`);
                        return;
                    }
                    task.output = "";
                    this.refresh(view);
                    if (view.failed.length)
                        throw new Error(
                            `${view.step.label}: failed: ${view.failed.join(", ")}${view.report.halted ? "; the rollout halts here" : ""}`,
                        );
                },
            })),
            {
                concurrent: options.concurrent,
                exitOnError: false,
                renderer: options.renderer ?? "default",
                rendererOptions: { logger: new ListrLogger({ processOutput: new ProcessOutput(output, output) }) } as never,
                fallbackRendererOptions: { logger: new ListrLogger({ processOutput: new ProcessOutput(output, output) }) } as never,
            },
        );
    }

    /** Starts the display; call before the run. */
    start(): void {
        this.running = this.list.run().catch(() => undefined);
    }

    private refresh(view: StepView): void {
        const task = view.task;
        if (!task) return;
        const total = view.step.stacks.length;
        const extra = [view.failed.length ? `${view.failed.length} failed` : "", view.busy.length ? `${view.busy.length} busy` : ""]
            .filter(Boolean)
            .join(", ");
        task.title = `${view.step.label}: ${view.done}/${total} done${extra ? `, ${extra}` : ""}`;
        if (view.running.size) task.output = [...view.running].map(([stack, line]) => `${stack}: ${line}`).join("\n");
    }

    stackStarted(stack: string): void {
        const view = this.byStack.get(stack);
        if (!view) return;
        view.running.set(stack, "started");
        view.started.resolve();
        this.refresh(view);
    }

    stackProgress(stack: string, line: string): void {
        const view = this.byStack.get(stack);
        if (!view) return;
        view.running.set(stack, line);
        this.refresh(view);
    }

    stackFinished(report: StackReport): void {
        const view = this.byStack.get(report.stack);
        if (!view || report.result === "skipped") return;
        view.running.delete(report.stack);
        view.done++;
        if (report.result === "failed") view.failed.push(report.stack);
        if (report.result === "busy") view.busy.push(report.stack);
        this.refresh(view);
    }

    stepFinished(step: StepReport): void {
        const view = this.views.find((v) => v.step.label === step.label && v.step.stacks[0] === step.stacks[0]);
        if (!view) return;
        view.report = step;
        view.finished.resolve();
    }

    /** Ends the display after the run (steps that never ran show as skipped). */
    async finish(_report?: FleetReport): Promise<void> {
        for (const v of this.views) v.finished.resolve();
        await this.running;
    }
}
