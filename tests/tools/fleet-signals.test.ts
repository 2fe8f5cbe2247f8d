/**
 * A fleet run stopped from outside: a CI job cancelled or timed out gets SIGINT, then SIGTERM
 * 7.5 s later, then is killed. The runner starts no stack after the first signal, cancels the
 * running operations gracefully, writes a final report naming what it left, and exits 130/143; a
 * second signal exits at once. In-process with the fake backend, then the whole process
 * (fleet-run.sh, npm, the CLI, the Automation API) against the stand-in pulumi CLI.
 */
import * as assert from "assert";
import { ChildProcess, spawn } from "child_process";
import { EventEmitter } from "events";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { main } from "../../tools/fleet";
import { main as summaryMain } from "../../tools/fleet-summary";
import { EXIT, FleetReport, exitCodeOf, parseFleetReport } from "../../tools/lib/fleet/report";
import { FleetStopRequest, RolloutPlan, runFleet } from "../../tools/lib/fleet/runner";
import { REPO_ROOT } from "../../tools/lib/stack-files";
import { FakeBackendOptions, FakeFleetBackend } from "../support/fake-fleet-backend";
import { waitUntil } from "../support/real-servers";
import { syntheticRepo, tenantName } from "../support/synthetic-repo";

const NODE = path.join(REPO_ROOT, "node_modules", ".bin", "node");
const t = tenantName;

/** A promise that never settles unless the test lets it go (a stack mid-update). */
function held(): { promise: Promise<void>; release(): void } {
    let release!: () => void;
    const promise = new Promise<void>((resolve) => (release = resolve));
    return { promise, release };
}

describe("npm run fleet stopped by SIGTERM or SIGINT (in-process, workspace faked)", function () {
    this.timeout(30000);
    let repo: { root: string; remove(): void };
    let dir: string;
    let file: string;
    let hold: ReturnType<typeof held>;
    beforeEach(() => {
        hold = held();
        // images, shared, 2 canaries, then 4 tenants of wave 1 in one batch.
        repo = syntheticRepo(Array.from({ length: 6 }, (_, i) => ({ name: t(i + 1), wave: i < 2 ? 0 : 1 })));
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-signals-"));
        file = path.join(dir, "fleet-report.json");
    });
    afterEach(() => {
        hold.release();
        repo.remove();
        fs.rmSync(dir, { recursive: true, force: true });
    });

    function start(args: string[], fake: FakeBackendOptions, exit?: (code: number) => void) {
        const backend = new FakeFleetBackend(fake);
        const signals = new EventEmitter();
        let stdout = "";
        let stderr = "";
        const done = main(
            [...args, "--report-file", file],
            { write: (s: string) => (stdout += s) },
            { write: (s: string) => (stderr += s) },
            { backend: () => backend, interactive: false, root: repo.root, signals, exit },
        );
        return { backend, signals, done, stdout: () => stdout, stderr: () => stderr };
    }
    const read = (): FleetReport => parseFleetReport(fs.readFileSync(file, "utf8"));
    const started = (backend: FakeFleetBackend, stacks: string[]) => () => stacks.every((s) => backend.calls.some((c) => c.stack === s));

    it("up, SIGTERM while the canaries run: no new stack, both cancelled, the final report names them, exit 143", async () => {
        const run = start(["up", "--parallel", "2"], { gate: (s) => (s === t(1) || s === t(2) ? hold.promise : undefined) });
        await waitUntil("both canaries running", started(run.backend, [t(1), t(2)]), { timeoutMs: 10_000, intervalMs: 5 });
        run.signals.emit("SIGTERM");
        assert.strictEqual(await run.done, EXIT.sigterm, run.stderr());

        assert.deepStrictEqual(
            run.backend.calls.map((c) => c.stack),
            ["images", "shared", t(1), t(2)],
            "no stack started after the signal",
        );
        for (const s of [t(1), t(2)]) assert.ok(run.backend.call(s).cancelledAt !== undefined, `${s}'s operation was cancelled`);
        const report = read();
        assert.strictEqual(report.complete, false);
        assert.strictEqual(report.interrupted?.signal, "SIGTERM");
        assert.deepStrictEqual(report.interrupted.running, [t(1), t(2)]);
        assert.strictEqual(report.interrupted.gracePeriodExpired, false);
        assert.match(
            report.interrupted.reason,
            /stopped by SIGTERM .*no stack started after it; 2 running stack\(s\) asked to cancel gracefully/,
        );
        assert.deepStrictEqual(
            report.stacks.map((s) => [s.stack, s.result]),
            [
                ["images", "succeeded"],
                ["shared", "succeeded"],
                [t(1), "interrupted"],
                [t(2), "interrupted"],
            ],
        );
        assert.match(
            report.stacks[2].error!,
            /^interrupted by SIGTERM: the operation was asked to cancel gracefully; run it again\. .*update canceled/,
        );
        assert.deepStrictEqual(
            report.unfinished,
            [3, 4, 5, 6].map((i) => ({
                stack: t(i),
                wave: 1,
                step: "wave 1",
                running: false,
                reason: "not started: the run was stopped by SIGTERM",
            })),
        );
        assert.deepStrictEqual(
            report.steps.map((s) => s.label),
            ["images", "shared"],
            "the canary step did not finish",
        );
        assert.strictEqual(exitCodeOf(report), EXIT.sigterm);
        assert.match(
            run.stderr(),
            /fleet up: SIGTERM received: starting no new stack, cancelling the running ones gracefully \(up to 60 s\)/,
        );
        assert.match(
            run.stderr(),
            /fleet up: 2\/8 succeeded; stopped by SIGTERM .*; interrupted: t-0001, t-0002; not started: t-0003, t-0004, t-0005, t-0006\n$/,
        );
        assert.match(run.stdout(), /│ t-0001 +│ 0 +│ interrupted +│/);
        assert.match(run.stdout(), /│ t-0006 +│ 1 +│ not started +│/);
        let summary = "";
        assert.strictEqual(summaryMain(["rollout", file], { write: (s: string) => (summary += s) }, { write: () => true }), 0);
        assert.match(summary, /\*\*Stopped by SIGTERM\*\* at .*: stopped by SIGTERM/);
        assert.match(summary, /\*\*Partial report\*\*/);
        assert.match(summary, /\| cut short \| `t-0001` \| \*\*interrupted\*\*: interrupted by SIGTERM/);
        assert.match(summary, /\| wave 1 \| `t-0003` \| not started \|/);
    });

    it("preview, SIGINT while tenants run: no new tenant, the running ones cancelled, exit 130", async () => {
        const run = start(["preview", "--parallel", "2"], { gate: (s) => (s === t(3) || s === t(4) ? hold.promise : undefined) });
        await waitUntil("t-0003 and t-0004 running", started(run.backend, [t(3), t(4)]), { timeoutMs: 10_000, intervalMs: 5 });
        run.signals.emit("SIGINT");
        assert.strictEqual(await run.done, EXIT.sigint, run.stderr());
        const ran = run.backend.calls.map((c) => c.stack);
        assert.deepStrictEqual(ran.slice(0, 2), ["images", "shared"]);
        // Preview runs every tenant through one pool: t-0001 and t-0002 finished before t-0003 and t-0004 were started.
        assert.deepStrictEqual(ran.slice(2).sort(), [t(1), t(2), t(3), t(4)]);
        assert.deepStrictEqual(
            run.backend.calls.filter((c) => c.cancelledAt !== undefined).map((c) => c.stack),
            [t(3), t(4)],
        );
        const report = read();
        assert.strictEqual(report.interrupted?.signal, "SIGINT");
        assert.deepStrictEqual(
            report.stacks.filter((s) => s.result === "interrupted").map((s) => s.stack),
            [t(3), t(4)],
        );
        assert.deepStrictEqual(
            report.unfinished?.map((u) => [u.stack, u.running]),
            [
                [t(5), false],
                [t(6), false],
            ],
        );
    });

    it("reports the stacks still running when the grace period ends, locks possibly held, and keeps their workspaces", async () => {
        const run = start(["up", "--parallel", "2", "--grace-period", "0.2"], {
            gate: (s) => (s === t(1) || s === t(2) ? hold.promise : undefined),
            ignoresCancel: (s) => s === t(1),
        });
        await waitUntil("both canaries running", started(run.backend, [t(1), t(2)]), { timeoutMs: 10_000, intervalMs: 5 });
        run.signals.emit("SIGTERM");
        assert.strictEqual(await run.done, EXIT.sigterm, run.stderr());
        const report = read();
        assert.strictEqual(report.interrupted?.gracePeriodExpired, true);
        assert.match(report.interrupted.reason, /the 0.2 s grace period ended with 1 still running/);
        assert.deepStrictEqual(
            report.stacks.slice(2).map((s) => [s.stack, s.result]),
            [[t(2), "interrupted"]],
        );
        assert.deepStrictEqual(report.unfinished?.[0], {
            stack: t(1),
            wave: 0,
            step: "wave 0 (canary)",
            running: true,
            reason: "still running when the 0.2 s grace period ended: its update may hold the stack's lock (it shows as busy; `pulumi cancel -s t-0001` only once no update runs)",
        });
        assert.deepStrictEqual(run.backend.closed, [], "a worker still running keeps its workspace");
        assert.match(run.stderr(), /still running at exit .*: t-0001/);
    });

    it("a second signal writes the report file and exits at once, with the first signal's code", async () => {
        let exited: number | undefined;
        let reportAtExit: FleetReport | undefined;
        const run = start(
            ["up", "--parallel", "2"],
            { gate: (s) => (s === t(1) || s === t(2) ? hold.promise : undefined), ignoresCancel: () => true },
            (code) => {
                exited = code;
                reportAtExit = read();
            },
        );
        await waitUntil("both canaries running", started(run.backend, [t(1), t(2)]), { timeoutMs: 10_000, intervalMs: 5 });
        fs.rmSync(file);
        run.signals.emit("SIGTERM");
        assert.ok(fs.existsSync(file), "the first signal rewrites the report at once");
        // npm passes a terminal's Ctrl-C on as well: the same signal at once again is the same stop.
        run.signals.emit("SIGTERM");
        assert.strictEqual(exited, undefined, "the first signal does not exit");
        run.signals.emit("SIGINT");
        assert.strictEqual(exited, EXIT.sigterm, "exits at once (synchronously), with the first signal's code");
        assert.strictEqual(reportAtExit?.interrupted?.signal, "SIGTERM");
        assert.deepStrictEqual(
            reportAtExit.unfinished?.filter((u) => u.running).map((u) => [u.stack, u.reason]),
            [t(1), t(2)].map((s) => [s, "asked to cancel gracefully on SIGTERM: finishing its in-flight resource operations"]),
        );
        assert.match(
            run.stderr(),
            /second signal \(SIGINT\): exiting at once; still running, .*pulumi cancel -s <stack>.*: t-0001, t-0002\n/,
        );
        hold.release();
        assert.strictEqual(await run.done, EXIT.sigterm);
    });
});

describe("fleet runner: a stop that must not be passed on", function () {
    it("a terminal's Ctrl-C (cancelOperations false: the pulumi children had the SIGINT already) stops scheduling without a second SIGINT", async () => {
        const hold = held();
        const backend = new FakeFleetBackend({ gate: (s) => (s === "a" ? hold.promise : undefined) });
        const plan: RolloutPlan = {
            steps: [
                { wave: 1, label: "wave 1 batch 1/2", stacks: ["a"] },
                { wave: 1, label: "wave 1 batch 2/2", stacks: ["b"] },
            ],
            haltReason: () => undefined,
        };
        const stop = new AbortController();
        const running = runFleet({ operation: "up", plan, backend, parallel: 1, stop: stop.signal });
        await waitUntil("a running", () => backend.calls.length === 1, { timeoutMs: 5000, intervalMs: 5 });
        stop.abort({ signal: "SIGINT", cancelOperations: false } satisfies FleetStopRequest);
        hold.release();
        const report = await running;
        assert.strictEqual(backend.call("a").cancelledAt, undefined, "no cancellation passed on");
        assert.deepStrictEqual(
            backend.calls.map((c) => c.stack),
            ["a"],
        );
        assert.deepStrictEqual(
            report.stacks.map((s) => [s.stack, s.result]),
            [["a", "succeeded"]],
            "it finished on its own",
        );
        assert.deepStrictEqual(report.interrupted?.running, ["a"]);
        assert.strictEqual(exitCodeOf(report), EXIT.sigint);
    });
});

interface CliCall {
    args: string[];
    holding?: boolean;
    signal?: string;
    pid?: number;
    failed?: boolean;
}

describe("fleet-run.sh → npm run fleet → Automation API → pulumi, stopped by the job's signals (whole process, stand-in CLI)", function () {
    this.timeout(90000);
    let dir: string;
    let child: ChildProcess | undefined;
    let cacheBefore: Set<string>;
    const cache = path.join(REPO_ROOT, ".cache", "fleet");
    const log = () => path.join(dir, "calls.jsonl");
    const calls = (): CliCall[] =>
        fs
            .readFileSync(log(), "utf8")
            .split("\n")
            .filter(Boolean)
            .map((l) => JSON.parse(l));
    const stackOf = (c: CliCall) => c.args[c.args.indexOf("--stack") + 1];

    beforeEach(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-signals-cli-"));
        fs.mkdirSync(path.join(dir, "bin"));
        fs.writeFileSync(
            path.join(dir, "bin", "pulumi"),
            `#!/bin/sh\nexec "${fs.realpathSync(NODE)}" "${path.join(REPO_ROOT, "tests/support/fake-pulumi-cli.js")}" "$@"\n`,
            { mode: 0o755 },
        );
        fs.writeFileSync(log(), "");
        cacheBefore = new Set(fs.existsSync(cache) ? fs.readdirSync(cache) : []);
    });
    afterEach(() => {
        if (child && child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
        // The held stand-in a second signal left running (the job's runner would kill it next).
        for (const c of fs.existsSync(log()) ? calls() : []) {
            if (!c.pid) continue;
            try {
                process.kill(c.pid, "SIGKILL");
            } catch {
                // already gone
            }
        }
        for (const run of fs.existsSync(cache) ? fs.readdirSync(cache) : []) {
            if (!cacheBefore.has(run)) fs.rmSync(path.join(cache, run), { recursive: true, force: true });
        }
        fs.rmSync(dir, { recursive: true, force: true });
    });

    function fleetRun(args: string[], env: Record<string, string>) {
        let stderr = "";
        child = spawn("bash", [path.join(REPO_ROOT, ".github/scripts/fleet-run.sh"), path.join(dir, "report.json"), ...args], {
            cwd: REPO_ROOT,
            env: {
                ...process.env,
                PATH: `${path.join(dir, "bin")}${path.delimiter}${process.env.PATH}`,
                FAKE_PULUMI_LOG: log(),
                GITHUB_OUTPUT: path.join(dir, "github_output"),
                CI: "true",
                ...env,
            },
            stdio: ["ignore", "ignore", "pipe"],
        });
        child.stderr!.on("data", (d) => (stderr += String(d)));
        const exited = new Promise<number | null>((resolve) => child!.on("exit", (code) => resolve(code)));
        return { child, exited, stderr: () => stderr };
    }
    const holding = (stack: string) => () => calls().some((c) => c.holding && stackOf(c) === stack);
    const ups = () => calls().filter((c) => c.args[0] === "up" && !c.holding && !c.signal);

    it("SIGTERM to the step's process: the held stack's pulumi gets a SIGINT (cancel gracefully), nothing starts after, exit=143 and the report", async () => {
        const run = fleetRun(["up", "--parallel", "2"], { FAKE_PULUMI_HOLD: "shared" });
        await waitUntil("the shared stack's up held", holding("shared"), { timeoutMs: 60_000, intervalMs: 20 });
        const signalled = Date.now();
        run.child.kill("SIGTERM");
        assert.strictEqual(await run.exited, 0, run.stderr());
        const tookMs = Date.now() - signalled;

        assert.ok(
            calls().some((c) => c.signal === "SIGINT" && stackOf(c) === "shared"),
            "the cancellation reached the pulumi child as SIGINT",
        );
        assert.deepStrictEqual(ups().map(stackOf), ["images", "shared"], "images finished, shared cancelled, no tenant started");
        assert.strictEqual(fs.readFileSync(path.join(dir, "github_output"), "utf8"), `exit=${EXIT.sigterm}\n`);
        const report = parseFleetReport(fs.readFileSync(path.join(dir, "report.json"), "utf8"));
        assert.strictEqual(report.complete, false);
        assert.strictEqual(report.interrupted?.signal, "SIGTERM");
        assert.deepStrictEqual(
            report.stacks.map((s) => [s.stack, s.result]),
            [
                ["images", "succeeded"],
                ["shared", "interrupted"],
            ],
        );
        assert.match(report.stacks[1].error!, /update canceled: shared stopped after its in-flight operations/);
        assert.deepStrictEqual(
            report.unfinished?.map((u) => [u.stack, u.running]),
            ["client-a", "client-b", "client-c"].map((s) => [s, false]),
        );
        assert.ok(tookMs < 20_000, `stopped in ${tookMs} ms`);
    });

    it("SIGINT, then SIGTERM while the operation still runs: exits at once, exit=130, the report names the stack left running", async () => {
        const run = fleetRun(["up", "--parallel", "2", "--grace-period", "60"], {
            FAKE_PULUMI_HOLD: "shared",
            FAKE_PULUMI_IGNORE_SIGINT: "1",
        });
        await waitUntil("the shared stack's up held", holding("shared"), { timeoutMs: 60_000, intervalMs: 20 });
        run.child.kill("SIGINT");
        await waitUntil("the SIGINT passed on to the pulumi child", () => calls().some((c) => c.signal === "SIGINT"), {
            timeoutMs: 10_000,
            intervalMs: 20,
        });
        const second = Date.now();
        run.child.kill("SIGTERM");
        assert.strictEqual(await run.exited, 0, run.stderr());
        const tookMs = Date.now() - second;
        assert.ok(tookMs < 10_000, `the second signal exited in ${tookMs} ms, not after the 60 s grace period`);
        assert.match(run.stderr(), /second signal \(SIGTERM\): exiting at once; still running.*: shared/);
        assert.strictEqual(fs.readFileSync(path.join(dir, "github_output"), "utf8"), `exit=${EXIT.sigint}\n`);
        const report = parseFleetReport(fs.readFileSync(path.join(dir, "report.json"), "utf8"));
        assert.strictEqual(report.interrupted?.signal, "SIGINT");
        assert.deepStrictEqual(
            report.unfinished?.map((u) => [u.stack, u.running]),
            [
                ["shared", true],
                ["client-a", false],
                ["client-b", false],
                ["client-c", false],
            ],
        );
        assert.deepStrictEqual(ups().map(stackOf), ["images"]);
    });
});
