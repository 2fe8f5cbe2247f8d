import * as assert from "assert";
import { FleetEnvironmentError } from "../../tools/lib/fleet/backend";
import { exitCodeOf, EXIT, StackReport, StepReport } from "../../tools/lib/fleet/report";
import { FleetProgress, RolloutPlan, RolloutStepPlan, errorSummary, runFleet } from "../../tools/lib/fleet/runner";
import { rolloutPlanOf } from "../../tools/lib/fleet/selection";
import { FleetStack } from "../../tools/lib/rollout";
import { FakeFleetBackend } from "../support/fake-fleet-backend";

const tenants = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}-${i + 1}`);

/** The halt rule of tools/lib/rollout.ts in miniature: a failed or busy shared stack or canary failures halt, else a budget over all tenant steps. */
function haltOver(budget: number) {
    return (step: RolloutStepPlan, failedInStep: number, failedBefore: number, busyInStep: readonly string[]): string | undefined => {
        if (step.wave === "shared" && failedInStep > 0) return "shared failed";
        if (step.wave === "shared" && busyInStep.length) return "shared busy";
        if (step.wave === 0 && failedInStep > 0) return `${failedInStep} canary failed`;
        if (failedBefore + failedInStep > budget) return `${failedBefore + failedInStep} failed, budget ${budget}`;
        return undefined;
    };
}

/** shared, then 2 canaries (wave 0), then wave 1 in two batches of 6; budget 1. */
function plan(budget = 1): RolloutPlan {
    return {
        steps: [
            { wave: "shared", label: "shared", stacks: ["shared"] },
            { wave: 0, label: "wave 0 (canary)", stacks: tenants("canary", 2) },
            { wave: 1, label: "wave 1 batch 1/2", stacks: tenants("w2", 6) },
            { wave: 1, label: "wave 1 batch 2/2", stacks: tenants("w3", 6) },
        ],
        haltReason: haltOver(budget),
    };
}

function byStack(stacks: StackReport[]): Record<string, StackReport> {
    return Object.fromEntries(stacks.map((s) => [s.stack, s]));
}

/** Different latencies so that stacks finish out of order. */
const jitter = (stack: string) => 5 + ((stack.length * 7 + stack.charCodeAt(stack.length - 1)) % 4) * 5;

describe("fleet runner: scheduling, waves, halting, with the workspace faked", function () {
    this.timeout(20000);

    it("runs shared first, then each wave only after the previous one finished, at most N at once", async () => {
        const backend = new FakeFleetBackend({ latencyMs: jitter });
        const report = await runFleet({ operation: "up", plan: plan(), backend, parallel: 3, now: () => backend.now() });

        assert.deepStrictEqual(
            report.stacks.map((s) => s.result),
            Array(15).fill("succeeded"),
        );
        assert.deepStrictEqual(
            report.stacks.map((s) => s.stack),
            ["shared", ...tenants("canary", 2), ...tenants("w2", 6), ...tenants("w3", 6)],
        );
        const order = (names: string[]) => names.map((s) => backend.call(s));
        const lastEnd = (names: string[]) => Math.max(...order(names).map((c) => c.endedAt!));
        const firstStart = (names: string[]) => Math.min(...order(names).map((c) => c.startedAt));
        assert.ok(firstStart(tenants("canary", 2)) >= lastEnd(["shared"]), "canaries after shared");
        assert.ok(firstStart(tenants("w2", 6)) >= lastEnd(tenants("canary", 2)), "wave 2 after the canaries");
        assert.ok(firstStart(tenants("w3", 6)) >= lastEnd(tenants("w2", 6)), "wave 3 after wave 2");
        assert.strictEqual(backend.maxRunning, 3, "bounded by --parallel, and using it");
        assert.deepStrictEqual(
            report.steps.map((w) => [w.label, w.wave, w.stacks.length, w.halted]),
            [
                ["shared", "shared", 1, false],
                ["wave 0 (canary)", 0, 2, false],
                ["wave 1 batch 1/2", 1, 6, false],
                ["wave 1 batch 2/2", 1, 6, false],
            ],
        );
        assert.deepStrictEqual(
            report.stacks.map((s) => s.wave),
            ["shared", 0, 0, ...Array(12).fill(1)],
        );
        assert.strictEqual(exitCodeOf(report), EXIT.ok);
    });

    it("installs once before fanning out, and gives each concurrent stack its own worker (workspace), reused across waves", async () => {
        const backend = new FakeFleetBackend({ latencyMs: jitter });
        await runFleet({ operation: "preview", plan: plan(), backend, parallel: 4 });
        assert.strictEqual(backend.prepared, 1);
        assert.strictEqual(backend.log[0], "prepare");
        assert.deepStrictEqual(backend.opened, [0, 1, 2, 3], "never more workspaces than --parallel");
        assert.deepStrictEqual([...backend.closed].sort(), [0, 1, 2, 3], "every workspace closed");
        // The fake throws if a worker is handed a stack while it runs another; check the overlap too.
        for (const a of backend.calls) {
            for (const b of backend.calls) {
                if (a !== b && a.worker === b.worker)
                    assert.ok(
                        a.endedAt! <= b.startedAt || b.endedAt! <= a.startedAt,
                        `${a.stack} and ${b.stack} overlapped on worker ${a.worker}`,
                    );
            }
        }
    });

    it("keeps going inside a step when a tenant fails, and continues while the failures are within the budget", async () => {
        const backend = new FakeFleetBackend({ latencyMs: jitter, failures: { "w2-3": "error" } });
        const report = await runFleet({ operation: "up", plan: plan(), backend, parallel: 2 });
        const r = byStack(report.stacks);
        assert.strictEqual(r["w2-3"].result, "failed");
        assert.match(r["w2-3"].error!, /error: the program of w2-3 failed: boom/);
        assert.doesNotMatch(r["w2-3"].error!, /some output/, "only the error lines");
        assert.deepStrictEqual(
            tenants("w2", 6)
                .filter((s) => s !== "w2-3")
                .map((s) => r[s].result),
            Array(5).fill("succeeded"),
        );
        assert.deepStrictEqual(
            tenants("w3", 6).map((s) => r[s].result),
            Array(6).fill("succeeded"),
            "1 failure is within the budget of 1",
        );
        assert.strictEqual(report.halted, null);
        assert.strictEqual(exitCodeOf(report), EXIT.failed);
    });

    it("halts the rollout when failures exceed the budget: the whole step still runs, later steps are skipped and reported", async () => {
        const backend = new FakeFleetBackend({ latencyMs: jitter, failures: { "w2-2": "error", "w2-5": "error" } });
        const finished: StackReport[] = [];
        const steps: StepReport[] = [];
        const progress: FleetProgress = {
            stackStarted() {},
            stackProgress() {},
            stackFinished: (s) => finished.push(s),
            stepFinished: (w) => steps.push(w),
        };
        const report = await runFleet({ operation: "up", plan: plan(), backend, parallel: 3, progress });
        const r = byStack(report.stacks);
        assert.deepStrictEqual(
            tenants("w2", 6).map((s) => r[s].result),
            ["succeeded", "failed", "succeeded", "succeeded", "failed", "succeeded"],
        );
        assert.deepStrictEqual(
            tenants("w3", 6).map((s) => r[s].result),
            Array(6).fill("skipped"),
        );
        assert.ok(
            backend.calls.every((c) => !c.stack.startsWith("w3")),
            "no stack of wave 3 started",
        );
        assert.deepStrictEqual(report.halted, { step: "wave 1 batch 1/2", reason: "2 failed, budget 1" });
        assert.deepStrictEqual(
            steps.map((w) => [w.label, w.failed, w.halted]),
            [
                ["shared", 0, false],
                ["wave 0 (canary)", 0, false],
                ["wave 1 batch 1/2", 2, true],
            ],
        );
        assert.deepStrictEqual(
            finished.filter((s) => s.result === "skipped").map((s) => s.stack),
            tenants("w3", 6),
            "skipped stacks are reported to the display too",
        );
        assert.strictEqual(exitCodeOf(report), EXIT.failed);
    });

    it("counts failures across steps against one budget", async () => {
        const backend = new FakeFleetBackend({ failures: { "w2-2": "error", "w3-4": "error" } });
        const report = await runFleet({ operation: "up", plan: plan(1), backend, parallel: 4 });
        assert.deepStrictEqual(report.halted, { step: "wave 1 batch 2/2", reason: "2 failed, budget 1" }, "1 + 1 failures exceed 1");
        assert.strictEqual(report.stacks.filter((s) => s.result === "skipped").length, 0, "the last step halted: nothing left to skip");
        const lenient = await runFleet({
            operation: "up",
            plan: plan(2),
            backend: new FakeFleetBackend({ failures: { "w2-2": "error", "w3-4": "error" } }),
            parallel: 4,
        });
        assert.strictEqual(lenient.halted, null);
    });

    it("halts after a failing canary before any other tenant is touched", async () => {
        const backend = new FakeFleetBackend({ failures: { "canary-1": "error" } });
        const report = await runFleet({ operation: "up", plan: plan(), backend, parallel: 4 });
        assert.deepStrictEqual(backend.calls.map((c) => c.stack).sort(), ["canary-1", "canary-2", "shared"]);
        assert.deepStrictEqual(report.halted, { step: "wave 0 (canary)", reason: "1 canary failed" });
        assert.strictEqual(report.stacks.filter((s) => s.result === "skipped").length, 12);
    });

    // This test once put a canary among the busy stacks and asserted the rollout went on: every later
    // wave was deployed without the change having run on that canary. A busy canary now halts (the
    // test of the real plan below); busy stacks of later waves still do not count against the budget.
    it("reports a stack of a later wave being updated elsewhere as busy: not a failure, not against the budget", async () => {
        const backend = new FakeFleetBackend({ failures: { "w2-1": "busy", "w2-2": "busy", "w2-4": "busy" } });
        const report = await runFleet({ operation: "up", plan: plan(1), backend, parallel: 4 });
        const r = byStack(report.stacks);
        assert.deepStrictEqual(
            ["w2-1", "w2-2", "w2-4"].map((s) => r[s].result),
            ["busy", "busy", "busy"],
        );
        assert.match(r["w2-1"].error!, /another update is in progress/);
        assert.strictEqual(report.halted, null, "3 busy stacks with a budget of 1: busy stacks of later waves never halt the rollout");
        assert.deepStrictEqual(
            report.steps.map((s) => s.failed),
            [0, 0, 0, 0],
        );
        assert.deepStrictEqual(
            tenants("w3", 6).map((s) => r[s].result),
            Array(6).fill("succeeded"),
        );
        assert.strictEqual(exitCodeOf(report), EXIT.busy);
    });

    it("halts every tenant when the shared stack does not come up (failed or busy)", async () => {
        for (const failure of ["error", "busy"] as const) {
            const backend = new FakeFleetBackend({ failures: { shared: failure } });
            const report = await runFleet({ operation: "up", plan: plan(), backend, parallel: 4 });
            assert.deepStrictEqual(
                backend.calls.map((c) => c.stack),
                ["shared"],
            );
            // Busy is not failed: the runner hands the busy stack to the rule, and exits 3 (run again later).
            assert.deepStrictEqual(
                report.halted,
                failure === "error"
                    ? { step: "shared", reason: "shared failed" }
                    : { step: "shared", reason: "shared busy", busy: ["shared"] },
            );
            assert.strictEqual(report.stacks.filter((s) => s.result === "skipped").length, 14);
            assert.strictEqual(exitCodeOf(report), failure === "error" ? EXIT.failed : EXIT.busy);
        }
    });

    it("previews every stack whatever fails (no halting, no barriers between waves), shared first", async () => {
        const backend = new FakeFleetBackend({
            latencyMs: jitter,
            failures: { "canary-1": "error", "canary-2": "error", "w2-1": "error" },
        });
        const report = await runFleet({ operation: "preview", plan: plan(), backend, parallel: 4 });
        assert.strictEqual(backend.calls.length, 15);
        assert.strictEqual(report.halted, null);
        assert.strictEqual(report.stacks.filter((s) => s.result === "failed").length, 3);
        const sharedEnd = backend.call("shared").endedAt!;
        assert.ok(backend.calls.filter((c) => c.stack !== "shared").every((c) => c.startedAt >= sharedEnd));
        // Without barriers a wave-2 stack starts while a canary still runs (canaries take longest here).
        const slow = new FakeFleetBackend({ latencyMs: (s) => (s.startsWith("canary") ? 60 : 5) });
        await runFleet({ operation: "preview", plan: plan(), backend: slow, parallel: 4 });
        assert.ok(slow.call("w2-1").startedAt < slow.call("canary-1").endedAt!, "preview does not wait for the canaries");
    });

    it("destroys tenants before the shared stack they use, last wave first", async () => {
        const backend = new FakeFleetBackend();
        const report = await runFleet({ operation: "destroy", plan: plan(), backend, parallel: 1 });
        assert.deepStrictEqual(
            backend.calls.map((c) => c.stack),
            [...tenants("w3", 6), ...tenants("w2", 6), ...tenants("canary", 2), "shared"],
        );
        assert.deepStrictEqual(
            report.stacks.map((s) => s.stack),
            backend.calls.map((c) => c.stack),
        );
    });

    it("carries changes, policy violations, drift and the injected clock's durations into the report", async () => {
        const backend = new FakeFleetBackend({
            latencyMs: (s) => (s === "shared" ? 30 : 10),
            outcome: (s) =>
                s === "canary-1"
                    ? { changeSummary: { update: 2, same: 9 }, policyViolations: 3 }
                    : { changeSummary: { same: 11 }, policyViolations: 0 },
        });
        const report = await runFleet({
            operation: "refresh",
            previewOnly: true,
            plan: plan(),
            backend,
            parallel: 2,
            now: () => backend.now(),
        });
        const r = byStack(report.stacks);
        assert.strictEqual(report.previewOnly, true);
        assert.deepStrictEqual(r["canary-1"].changes, { create: 0, update: 2, replace: 0, delete: 0, same: 9 });
        assert.strictEqual(r["canary-1"].policyViolations, 3);
        assert.strictEqual(r["canary-1"].drift, true);
        assert.strictEqual(r["canary-2"].drift, false);
        assert.ok(r.shared.durationMs >= 25 && r.shared.durationMs < 1000, `shared took ${r.shared.durationMs}ms`);
        assert.ok(report.durationMs >= r.shared.durationMs);
        assert.ok(backend.calls.every((c) => c.options.previewOnly === true && c.operation === "refresh"));
    });

    it("fails fast, before any workspace is opened, when the environment cannot run Pulumi", async () => {
        const backend = new FakeFleetBackend({ prepareError: new FleetEnvironmentError("no pulumi CLI") });
        await assert.rejects(runFleet({ operation: "preview", plan: plan(), backend, parallel: 2 }), FleetEnvironmentError);
        assert.deepStrictEqual(backend.log, ["prepare"]);
    });

    it("refuses a plan naming a stack twice, or a bad parallelism", async () => {
        const backend = new FakeFleetBackend();
        const twice = {
            ...plan(),
            steps: [
                { wave: "shared" as const, label: "shared", stacks: ["shared"] },
                { wave: 1, label: "wave 1", stacks: ["a", "shared"] },
            ],
        };
        await assert.rejects(runFleet({ operation: "up", plan: twice, backend, parallel: 1 }), /shared is in the rollout plan twice/);
        await assert.rejects(runFleet({ operation: "up", plan: plan(), backend, parallel: 0 }), /parallel must be/);
        assert.strictEqual(backend.calls.length, 0);
    });

    it("keeps error summaries short", () => {
        assert.strictEqual(errorSummary(new Error("a\nb\nerror: c\n")), "error: c");
        assert.strictEqual(errorSummary(new Error("plain failure")), "plain failure");
        assert.strictEqual(errorSummary("x".repeat(3000)).length, 1501);
    });
});

describe("fleet runner: the images stack first, with the real rollout plan and the workspace faked", function () {
    this.timeout(20000);

    /** images, shared, 2 canaries, wave 1 in two batches of 3 (batch size 3), budget 1. */
    const fleetPlan = () => {
        const stacks: FleetStack[] = [
            { name: "shared", role: "shared", wave: 0 },
            { name: "images", role: "images", wave: 0 },
            ...tenants("canary", 2).map((name): FleetStack => ({ name, role: "tenant", wave: 0 })),
            ...tenants("t", 6).map((name): FleetStack => ({ name, role: "tenant", wave: 1 })),
        ];
        return rolloutPlanOf({ policy: { batchSize: 3, failureBudget: 1 }, stacks, invalid: [] });
    };
    const all = ["images", "shared", ...tenants("canary", 2), ...tenants("t", 6)];

    it("rolls out images, then shared, then the waves, each step after the previous one finished", async () => {
        const backend = new FakeFleetBackend({ latencyMs: jitter });
        const report = await runFleet({ operation: "up", plan: fleetPlan(), backend, parallel: 4, now: () => backend.now() });
        assert.deepStrictEqual(
            report.steps.map((s) => [s.label, s.wave]),
            [
                ["images", "images"],
                ["shared", "shared"],
                ["wave 0 (canary)", 0],
                ["wave 1 batch 1/2", 1],
                ["wave 1 batch 2/2", 1],
            ],
        );
        assert.deepStrictEqual(
            report.stacks.map((s) => [s.stack, s.wave, s.result]),
            all.map((s) => [s, s === "images" || s === "shared" ? s : s.startsWith("canary") ? 0 : 1, "succeeded"]),
        );
        assert.ok(backend.call("shared").startedAt >= backend.call("images").endedAt!, "shared after images");
        for (const t of all.slice(2)) assert.ok(backend.call(t).startedAt >= backend.call("shared").endedAt!, `${t} after shared`);
        assert.strictEqual(exitCodeOf(report), EXIT.ok);
    });

    it("halts everything after the images stack when it fails or is busy: no shared stack, no tenant", async () => {
        for (const failure of ["error", "busy"] as const) {
            const backend = new FakeFleetBackend({ failures: { images: failure } });
            const report = await runFleet({ operation: "up", plan: fleetPlan(), backend, parallel: 4 });
            assert.deepStrictEqual(
                backend.calls.map((c) => c.stack),
                ["images"],
            );
            assert.strictEqual(report.halted?.step, "images");
            if (failure === "error") {
                assert.match(report.halted.reason, /the images stack failed \(1 of 1\): it pushes the backend image every tenant deploys/);
                assert.strictEqual(report.halted.busy, undefined);
            } else {
                assert.match(
                    report.halted.reason,
                    /the images stack images was busy .*no tenant is deployed.*`pulumi cancel -s images` only if it is stale.*run the rollout again/,
                );
                assert.deepStrictEqual(report.halted.busy, ["images"]);
            }
            assert.deepStrictEqual(
                report.stacks.map((s) => [s.stack, s.result]),
                all.map((s) => [s, s === "images" ? (failure === "error" ? "failed" : "busy") : "skipped"]),
            );
            assert.strictEqual(exitCodeOf(report), failure === "error" ? EXIT.failed : EXIT.busy, "a busy images stack: run again later");
        }
    });

    it("halts after the canary wave when a canary is busy: the change ran on no canary, so no later wave is deployed", async () => {
        const backend = new FakeFleetBackend({ failures: { "canary-2": "busy" } });
        const report = await runFleet({ operation: "up", plan: fleetPlan(), backend, parallel: 4 });
        assert.deepStrictEqual(backend.calls.map((c) => c.stack).sort(), ["canary-1", "canary-2", "images", "shared"]);
        assert.strictEqual(report.halted?.step, "wave 0 (canary)");
        assert.deepStrictEqual(report.halted.busy, ["canary-2"]);
        assert.match(report.halted.reason, /canary stack canary-2 was busy in wave 0 \(canary\)/);
        assert.match(report.halted.reason, /ran on 1 of 2 canaries/);
        assert.match(
            report.halted.reason,
            /wait for that update to finish.*pulumi cancel -s canary-2` only if it is stale.*run the rollout again/,
        );
        assert.deepStrictEqual(
            report.stacks.map((s) => [s.stack, s.result]),
            all.map((s) => [s, s === "canary-2" ? "busy" : s.startsWith("t-") ? "skipped" : "succeeded"]),
        );
        assert.deepStrictEqual(
            report.steps.map((s) => [s.label, s.failed, s.halted]),
            [
                ["images", 0, false],
                ["shared", 0, false],
                ["wave 0 (canary)", 0, true],
            ],
        );
        assert.strictEqual(exitCodeOf(report), EXIT.busy, "nothing failed: exit 3, run again later");

        // A canary failing as well as one being busy: a failure, exit 1, and both named.
        const both = await runFleet({
            operation: "up",
            plan: fleetPlan(),
            backend: new FakeFleetBackend({ failures: { "canary-1": "error", "canary-2": "busy" } }),
            parallel: 4,
        });
        assert.match(both.halted!.reason, /1 canary stack failed in wave 0 \(canary\).*busy: canary-2/);
        assert.strictEqual(both.halted!.busy, undefined);
        assert.strictEqual(exitCodeOf(both), EXIT.failed);
    });

    it("previews images and shared first, in that order, and goes on when the images preview fails", async () => {
        const backend = new FakeFleetBackend({ latencyMs: jitter, failures: { images: "error" } });
        const report = await runFleet({ operation: "preview", plan: fleetPlan(), backend, parallel: 4 });
        assert.strictEqual(report.halted, null);
        assert.strictEqual(backend.calls.length, all.length);
        assert.ok(backend.call("shared").startedAt >= backend.call("images").endedAt!);
        for (const t of all.slice(2)) assert.ok(backend.call(t).startedAt >= backend.call("shared").endedAt!);
        assert.deepStrictEqual(
            report.stacks.filter((s) => s.result !== "succeeded").map((s) => s.stack),
            ["images"],
        );
    });

    it("destroys the images stack last, after the shared stack", async () => {
        const backend = new FakeFleetBackend();
        await runFleet({ operation: "destroy", plan: fleetPlan(), backend, parallel: 1 });
        assert.deepStrictEqual(backend.calls.map((c) => c.stack).slice(-2), ["shared", "images"]);
    });
});
