/**
 * What the fleet runner needs from Pulumi, as an interface: the real one drives the Automation
 * API (automation.ts), the tests inject a fake that records calls, with latencies and failures.
 */
import { FleetOperation } from "./report";

export interface StackRunOptions {
    /** refresh only: detect drift without writing the state. */
    previewOnly: boolean;
    /** preview and up: refresh the state first (as `pulumi preview --refresh`). */
    refresh: boolean;
    /** One human-readable line per noteworthy engine event (a resource step, an error). */
    onProgress(line: string): void;
    /**
     * Aborted when the run is stopped (a signal): the operation should cancel the way `pulumi`'s
     * first Ctrl-C does (finish the in-flight resource operations, write the checkpoint, release the
     * lock) and then reject. Absent: nothing can stop it.
     */
    cancel?: AbortSignal;
}

export interface StackOutcome {
    /** The engine's change summary (operation → count), as the Automation API returns it. */
    changeSummary: Record<string, number | undefined>;
    policyViolations: number;
}

/** One worker: its own workspace, running one stack at a time. */
export interface FleetWorker {
    run(stack: string, operation: FleetOperation, options: StackRunOptions): Promise<StackOutcome>;
    close(): Promise<void>;
}

export interface FleetBackend {
    /** Once, before any worker starts: check the CLI, install the plugins. Throws FleetEnvironmentError. */
    prepare(): Promise<void>;
    /** A worker with a workspace of its own (never shared with another worker). */
    openWorker(index: number): Promise<FleetWorker>;
}

/** Another update of the stack is running (HTTP 409): nothing was done, the program did not fail. */
export class StackBusyError extends Error {
    constructor(stack: string, detail: string) {
        super(`stack ${stack} is busy: another update is in progress (${detail})`);
        this.name = "StackBusyError";
    }
}

/** The machine cannot run the fleet at all (no Pulumi CLI, too old a CLI): reported before any stack starts. */
export class FleetEnvironmentError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "FleetEnvironmentError";
    }
}
