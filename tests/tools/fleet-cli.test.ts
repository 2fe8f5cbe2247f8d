import * as assert from "assert";
import { execFile } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { PassThrough } from "stream";
import { promisify } from "util";
import { main } from "../../tools/fleet";
import { main as summaryMain } from "../../tools/fleet-summary";
import { ListrProgress } from "../../tools/lib/fleet/progress";
import { EXIT, parseFleetReport } from "../../tools/lib/fleet/report";
import { runFleet } from "../../tools/lib/fleet/runner";
import { REPO_ROOT } from "../../tools/lib/stack-files";
import { FakeBackendOptions, FakeFleetBackend } from "../support/fake-fleet-backend";
import { waitUntil } from "../support/real-servers";
import { syntheticRepo, tenantName } from "../support/synthetic-repo";

const run = promisify(execFile);
const NODE = path.join(REPO_ROOT, "node_modules", ".bin", "node");

interface CliResult {
    code: number;
    stdout: string;
    stderr: string;
    backend: FakeFleetBackend;
}

async function fleet(args: string[], fake: FakeBackendOptions = {}, affected: string[] = [], root?: string): Promise<CliResult> {
    let stdout = "";
    let stderr = "";
    const backend = new FakeFleetBackend(fake);
    const code = await main(
        args,
        { write: (t: string) => (stdout += t) },
        { write: (t: string) => (stderr += t) },
        {
            backend: () => backend,
            affected: () => affected,
            interactive: false,
            root,
        },
    );
    return { code, stdout, stderr, backend };
}

describe("npm run fleet: arguments, selection, report and exit codes (workspace faked, the repository's stacks)", function () {
    this.timeout(30000);

    it("refuses bad arguments with exit 2 and the usage, before any stack runs", async () => {
        const cases: [string[], RegExp][] = [
            [[], /give one operation: preview, up, refresh, destroy/],
            [["deploy"], /give one operation.*\(got deploy\)/],
            [["preview", "--parallel", "0"], /--parallel must be a whole number from 1 to 64 \(got 0\)/],
            [["up", "--preview-only"], /--preview-only goes with refresh only/],
            [["refresh", "--refresh"], /--refresh goes with preview and up only/],
            [["destroy"], /add --yes/],
            [["preview", "--stacks", "client-a", "--affected-by", "main"], /either --stacks or --affected-by/],
            [["preview", "--stacks", "client-z"], /no stack file for client-z \(expected Pulumi\.client-z\.yaml/],
            [["preview", "--stacks", "client-a,client-a"], /names client-a twice/],
            [["preview", "--bogus"], /Unknown option '--bogus'/],
        ];
        for (const [args, message] of cases) {
            const r = await fleet(args);
            assert.strictEqual(r.code, EXIT.usage, args.join(" "));
            assert.match(r.stderr, message, args.join(" "));
            assert.match(r.stderr, /usage: npm run fleet/);
            assert.strictEqual(r.backend.log.length, 0, `${args.join(" ")}: nothing ran`);
        }
    });

    it("previews every stack, images and shared first, and prints the JSON report on stdout with progress and the table on stderr", async () => {
        const r = await fleet(["preview", "--json", "--parallel", "2"], {
            outcome: (s) => ({ changeSummary: s === "client-b" ? { update: 1, same: 20 } : { same: 20 }, policyViolations: 0 }),
        });
        assert.strictEqual(r.code, EXIT.ok, r.stderr);
        const report = parseFleetReport(r.stdout);
        assert.deepStrictEqual(
            report.stacks.map((s) => [s.stack, s.wave, s.result]),
            [
                ["images", "images", "succeeded"],
                ["shared", "shared", "succeeded"],
                ["client-a", 1, "succeeded"],
                ["client-b", 1, "succeeded"],
                ["client-c", 1, "succeeded"],
            ],
        );
        assert.deepStrictEqual(report.stacks[3].changes, { create: 0, update: 1, replace: 0, delete: 0, same: 20 });
        assert.deepStrictEqual(
            r.backend.calls.slice(0, 2).map((c) => c.stack),
            ["images", "shared"],
        );
        assert.match(r.stderr, /fleet preview: every stack/);
        assert.match(r.stderr, /\] client-a: started \(wave 1, worker \d\)/);
        assert.match(r.stderr, /\] client-b: succeeded \+0 ~1 ±0 -0/);
        assert.match(r.stderr, /│ client-b │ 1 +│ succeeded │ \+0 ~1 ±0 -0 =20/);
        assert.match(r.stderr, /fleet preview: 5\/5 succeeded\n$/);
    });

    it("names the failed stacks and exits 1; a stack busy elsewhere exits 3", async () => {
        const failed = await fleet(["up", "--stacks", "client-a,client-b"], { failures: { "client-b": "error" } });
        assert.strictEqual(failed.code, EXIT.failed);
        assert.deepStrictEqual(failed.backend.calls.map((c) => c.stack).sort(), ["client-a", "client-b"], "only the stacks asked for");
        assert.match(
            failed.stderr,
            /fleet up: 1\/2 succeeded; failed: client-b; halted after wave 1: 1 tenant stack failed, over the failure budget of 0 \(stock:rolloutFailureBudget in the shared stack\)\n/,
        );
        assert.match(failed.stdout, /│ client-b │ 1 +│ failed/);

        const busy = await fleet(["up"], { failures: { "client-a": "busy" } });
        assert.strictEqual(busy.code, EXIT.busy);
        assert.match(busy.stderr, /busy \(another update running, run again later\): client-a/);
    });

    it("with --affected-by runs only what the change affects, and nothing when it affects nothing", async () => {
        const some = await fleet(["preview", "--affected-by", "origin/main"], {}, ["client-b"]);
        assert.strictEqual(some.code, EXIT.ok);
        assert.deepStrictEqual(
            some.backend.calls.map((c) => c.stack),
            ["client-b"],
        );
        assert.match(some.stderr, /stacks affected since origin\/main: client-b/);

        const none = await fleet(["preview", "--affected-by", "origin/main", "--json"], {}, []);
        assert.strictEqual(none.code, EXIT.ok);
        assert.deepStrictEqual(parseFleetReport(none.stdout).stacks, []);
        assert.match(none.stderr, /affected since origin\/main: none/);
    });

    it("passes --preview-only and --refresh through to each stack", async () => {
        const drift = await fleet(["refresh", "--preview-only", "--json"], {
            outcome: (s) => ({ changeSummary: s === "client-a" ? { update: 1, same: 3 } : { same: 4 }, policyViolations: 0 }),
        });
        assert.ok(drift.backend.calls.every((c) => c.operation === "refresh" && c.options.previewOnly));
        const report = parseFleetReport(drift.stdout);
        assert.strictEqual(report.previewOnly, true);
        assert.deepStrictEqual(
            report.stacks.map((s) => [s.stack, s.drift]),
            [
                ["images", false],
                ["shared", false],
                ["client-a", true],
                ["client-b", false],
                ["client-c", false],
            ],
        );
        const refreshed = await fleet(["preview", "--refresh"]);
        assert.ok(refreshed.backend.calls.every((c) => c.options.refresh));
    });

    it("rolls a fleet out as its stack files say: canaries, then waves in batches, halting over the failure budget", async () => {
        // 2 canaries (wave 0), 10 tenants in wave 1 (batches of 4: 4+3+3), 3 in wave 2; budget 1.
        const tenants = Array.from({ length: 15 }, (_, i) => ({ name: tenantName(i + 1), wave: i < 2 ? 0 : i < 12 ? 1 : 2 }));
        const repo = syntheticRepo(tenants, { "stock:rolloutBatchSize": 4, "stock:rolloutFailureBudget": 1 });
        try {
            const ok = await fleet(["up", "--json", "--parallel", "3"], {}, [], repo.root);
            assert.strictEqual(ok.code, EXIT.ok, ok.stderr);
            const steps = parseFleetReport(ok.stdout).steps;
            assert.deepStrictEqual(
                steps.map((s) => [s.label, s.stacks.length]),
                [
                    ["images", 1],
                    ["shared", 1],
                    ["wave 0 (canary)", 2],
                    ["wave 1 batch 1/3", 4],
                    ["wave 1 batch 2/3", 3],
                    ["wave 1 batch 3/3", 3],
                    ["wave 2", 3],
                ],
            );

            // One failure in batch 1 is within the budget; a second in batch 2 is over it: batch 3 and wave 2 are skipped.
            const halted = await fleet(
                ["up", "--json"],
                { failures: { [tenantName(3)]: "error", [tenantName(8)]: "error" } },
                [],
                repo.root,
            );
            assert.strictEqual(halted.code, EXIT.failed);
            const report = parseFleetReport(halted.stdout);
            assert.deepStrictEqual(report.halted, {
                step: "wave 1 batch 2/3",
                reason: "2 tenant stacks failed, over the failure budget of 1 (stock:rolloutFailureBudget in the shared stack)",
            });
            assert.deepStrictEqual(
                report.stacks.filter((s) => s.result === "skipped").map((s) => s.stack),
                [10, 11, 12, 13, 14, 15].map(tenantName),
            );
            assert.match(halted.stderr, new RegExp(`failed: ${tenantName(3)}, ${tenantName(8)}; halted after wave 1 batch 2/3`));

            // A canary failing halts before wave 1, whatever the budget.
            const canary = await fleet(["up"], { failures: { [tenantName(2)]: "error" } }, [], repo.root);
            assert.strictEqual(canary.code, EXIT.failed);
            assert.deepStrictEqual(canary.backend.calls.map((c) => c.stack).sort(), ["images", "shared", tenantName(1), tenantName(2)]);

            // The images stack failing halts before the shared stack and every tenant.
            const images = await fleet(["up", "--json"], { failures: { images: "error" } }, [], repo.root);
            assert.strictEqual(images.code, EXIT.failed);
            assert.deepStrictEqual(
                images.backend.calls.map((c) => c.stack),
                ["images"],
            );
            assert.match(images.stderr, /failed: images; halted after images: the images stack failed/);
        } finally {
            repo.remove();
        }
    });

    it("with --report-file leaves a valid partial report while a stack hangs (a job stopped mid-rollout), the full one at the end", async () => {
        // 2 canaries, then wave 1 in batches of 3: t-0003..t-0005, t-0006..t-0008. t-0004 hangs until released.
        const tenants = Array.from({ length: 8 }, (_, i) => ({ name: tenantName(i + 1), wave: i < 2 ? 0 : 1 }));
        const repo = syntheticRepo(tenants, { "stock:rolloutBatchSize": 3 });
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-report-file-"));
        const file = path.join(dir, "fleet-report.json");
        let release!: () => void;
        const hung = new Promise<void>((resolve) => (release = resolve));
        const backend = new FakeFleetBackend({ gate: (s) => (s === tenantName(4) ? hung : undefined) });
        let stderr = "";
        const running = main(
            ["up", "--parallel", "2", "--report-file", file],
            { write: () => true },
            { write: (t: string) => (stderr += t) },
            { backend: () => backend, interactive: false, root: repo.root },
        );
        try {
            const read = () => (fs.existsSync(file) ? parseFleetReport(fs.readFileSync(file, "utf8")) : undefined);
            // Every stack that can finish has finished: what a job killed now leaves behind.
            await waitUntil(
                "the report to show every stack but the hung one's batch-mates finished",
                () => read()?.stacks.some((s) => s.stack === tenantName(5)) === true,
                { timeoutMs: 10_000, intervalMs: 5 },
            );
            const partial = read()!;
            assert.strictEqual(partial.complete, false);
            assert.deepStrictEqual(
                partial.stacks.map((s) => [s.stack, s.result]),
                ["images", "shared", ...[1, 2, 3, 5].map(tenantName)].map((s) => [s, "succeeded"]),
            );
            assert.deepStrictEqual(partial.unfinished, [
                { stack: tenantName(4), wave: 1, step: "wave 1 batch 1/2", running: true },
                ...[6, 7, 8].map((i) => ({ stack: tenantName(i), wave: 1, step: "wave 1 batch 2/2", running: false })),
            ]);
            assert.deepStrictEqual(
                partial.steps.map((s) => s.label),
                ["images", "shared", "wave 0 (canary)"],
            );
            assert.strictEqual(partial.halted, null);
            assert.deepStrictEqual(fs.readdirSync(dir), ["fleet-report.json"], "no temporary file left next to it");

            let summary = "";
            assert.strictEqual(summaryMain(["rollout", file], { write: (t: string) => (summary += t) }, { write: () => true }), 0);
            assert.match(summary, /\*\*Partial report\*\*: the run had not finished when this was written/);
            assert.match(summary, new RegExp(`\\| wave 1 batch 1/2 \\| \`${tenantName(4)}\` \\| \\*\\*running\\*\\*`));
            assert.match(summary, new RegExp(`\\| wave 1 batch 2/2 \\| \`${tenantName(6)}\` \\| not started`));
        } finally {
            release();
        }
        try {
            assert.strictEqual(await running, EXIT.ok, stderr);
            const final = parseFleetReport(fs.readFileSync(file, "utf8"));
            assert.strictEqual(final.complete, true);
            assert.strictEqual(final.unfinished, undefined);
            assert.deepStrictEqual(
                final.stacks.map((s) => s.result),
                Array(10).fill("succeeded"),
            );
        } finally {
            repo.remove();
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    it("refuses to run when a selected stack file is refused by the config model, naming the stack and the problem", async () => {
        const repo = syntheticRepo([
            { name: "t-good", wave: 1 },
            { name: "t-bad", wave: 1, config: { "stock:host": "not a host" } },
        ]);
        try {
            const r = await fleet(["preview"], {}, [], repo.root);
            assert.strictEqual(r.code, EXIT.usage);
            assert.match(r.stderr, /1 stack file\(s\) are refused by the config model[^]*t-bad:\n {2}- stock:host/);
            assert.strictEqual(r.backend.log.length, 0);
        } finally {
            repo.remove();
        }
    });

    it("fails fast with exit 2 and the reason when there is no Pulumi CLI (whole process)", async () => {
        const result = await run(NODE, ["-r", "ts-node/register/transpile-only", path.join(REPO_ROOT, "tools/fleet.ts"), "preview"], {
            cwd: REPO_ROOT,
            env: { ...process.env, PATH: path.dirname(fs.realpathSync(NODE)), CI: "true" },
        }).then(
            () => ({ code: 0, stderr: "" }),
            (e) => ({ code: e.code as number, stderr: String(e.stderr) }),
        );
        assert.strictEqual(result.code, EXIT.usage, result.stderr);
        assert.match(result.stderr, /fleet preview: npm run fleet needs the Pulumi CLI, and there is no `pulumi` on PATH/);
    });

    it("draws the terminal display with listr2: one line per step, failures and skipped steps marked", async () => {
        const out = new PassThrough();
        let text = "";
        out.on("data", (d) => (text += d.toString()));
        const plan = {
            steps: [
                { wave: "shared" as const, label: "shared", stacks: ["shared"] },
                { wave: 0, label: "wave 0 (canary)", stacks: ["c-1", "c-2"] },
                { wave: 1, label: "wave 1", stacks: ["t-1", "t-2"] },
            ],
            haltReason: (_s: unknown, failedInStep: number) => (failedInStep > 0 ? "a canary failed" : undefined),
        };
        const display = new ListrProgress(plan.steps, {
            concurrent: false,
            renderer: "simple",
            output: out as unknown as NodeJS.WriteStream,
        });
        display.start();
        const report = await runFleet({
            operation: "up",
            plan,
            backend: new FakeFleetBackend({ failures: { "c-2": "error" } }),
            parallel: 2,
            progress: display,
        });
        await display.finish(report);
        assert.match(text, /shared: 1\/1 done/);
        assert.match(text, /wave 0 \(canary\): failed: c-2; the rollout halts here/);
        assert.match(text, /wave 1: skipped, the rollout halted/);
    });
});
