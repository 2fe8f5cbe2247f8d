/**
 * A fake FleetBackend for the fleet runner's tests and the bench: records every call (which worker
 * ran which stack, when), takes a latency per stack and fails the stacks it is told to, as the
 * Automation API would (a program error, or another update running: busy). A run stopped by a
 * signal aborts the operations' `cancel`: the fake records it and, like `pulumi` after its first
 * Ctrl-C, ends the operation with "update canceled" (unless told to hang on regardless).
 */
import { FleetBackend, FleetWorker, StackBusyError, StackOutcome, StackRunOptions } from "../../tools/lib/fleet/backend";
import { FleetOperation } from "../../tools/lib/fleet/report";

export interface FakeCall {
    stack: string;
    operation: FleetOperation;
    worker: number;
    options: Omit<StackRunOptions, "onProgress">;
    startedAt: number;
    endedAt?: number;
    /** When the operation's cancel signal was aborted (undefined: never, or it had ended). */
    cancelledAt?: number;
}

export interface FakeBackendOptions {
    /** Milliseconds each stack's operation takes (default 0: resolves on the next turn of the event loop). */
    latencyMs?: (stack: string) => number;
    /** Stacks whose operation fails, with what. */
    failures?: Record<string, "error" | "busy">;
    /** What each stack's operation reports (default: one resource created, ten unchanged). */
    outcome?: (stack: string) => StackOutcome;
    /** Thrown by prepare(), e.g. a FleetEnvironmentError. */
    prepareError?: Error;
    /** A stack's operation finishes only once this promise resolves (a stack that hangs until the test lets it go). */
    gate?: (stack: string) => Promise<void> | undefined;
    /** Stacks that keep running when cancelled (an in-flight resource operation that takes long): only their gate ends them. */
    ignoresCancel?: (stack: string) => boolean;
}

export class FakeFleetBackend implements FleetBackend {
    readonly calls: FakeCall[] = [];
    readonly log: string[] = [];
    prepared = 0;
    opened: number[] = [];
    closed: number[] = [];
    running = 0;
    maxRunning = 0;
    private readonly busyWorkers = new Set<number>();
    private readonly clockStart = performance.now();

    constructor(private readonly options: FakeBackendOptions = {}) {}

    now(): number {
        return performance.now() - this.clockStart;
    }

    prepare(): Promise<void> {
        this.log.push("prepare");
        if (this.options.prepareError) return Promise.reject(this.options.prepareError);
        this.prepared++;
        return Promise.resolve();
    }

    openWorker(index: number): Promise<FleetWorker> {
        this.log.push(`open ${index}`);
        if (this.prepared === 0) return Promise.reject(new Error("a worker was opened before prepare()"));
        this.opened.push(index);
        return Promise.resolve({
            run: (stack, operation, options) => this.run(index, stack, operation, options),
            close: () => {
                this.closed.push(index);
                return Promise.resolve();
            },
        });
    }

    private async run(worker: number, stack: string, operation: FleetOperation, options: StackRunOptions): Promise<StackOutcome> {
        if (this.busyWorkers.has(worker)) throw new Error(`worker ${worker} was given ${stack} while it was running another stack`);
        this.busyWorkers.add(worker);
        const { previewOnly, refresh } = options;
        const rest = { previewOnly, refresh };
        const call: FakeCall = { stack, operation, worker, options: rest, startedAt: this.now() };
        this.calls.push(call);
        this.log.push(`start ${stack}`);
        this.running++;
        this.maxRunning = Math.max(this.maxRunning, this.running);
        try {
            options.onProgress(`${operation} ${stack}: working`);
            const latency = this.options.latencyMs?.(stack) ?? 0;
            await new Promise((resolve) => (latency > 0 ? setTimeout(resolve, latency) : setImmediate(resolve)));
            const gate = this.options.gate?.(stack);
            if (gate) {
                const cancelled = new Promise<never>((_, reject) => {
                    const onCancel = () => {
                        call.cancelledAt = this.now();
                        this.log.push(`cancel ${stack}`);
                        if (!this.options.ignoresCancel?.(stack))
                            reject(
                                new Error(
                                    `Updating stack '${stack}'\nerror: update canceled: ${stack} stopped after its in-flight operations`,
                                ),
                            );
                    };
                    if (options.cancel?.aborted) onCancel();
                    else options.cancel?.addEventListener("abort", onCancel, { once: true });
                });
                cancelled.catch(() => undefined);
                await Promise.race([gate, cancelled]);
            }
            const failure = this.options.failures?.[stack];
            if (failure === "busy") throw new StackBusyError(stack, "[409] Conflict: Another update is currently in progress.");
            if (failure === "error")
                throw new Error(`Updating stack '${stack}'\n  some output\nerror: the program of ${stack} failed: boom`);
            return this.options.outcome?.(stack) ?? { changeSummary: { create: 1, same: 10 }, policyViolations: 0 };
        } finally {
            this.running--;
            this.busyWorkers.delete(worker);
            call.endedAt = this.now();
            this.log.push(`end ${stack}`);
        }
    }

    /** The call that ran `stack` (throws if it never ran). */
    call(stack: string): FakeCall {
        const c = this.calls.find((x) => x.stack === stack);
        if (!c) throw new Error(`${stack} never ran`);
        return c;
    }
}
