import * as assert from "assert";
import * as fc from "fast-check";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { shardStacks } from "../../tools/lib/affected";
import {
    GITHUB_COMMENT_LIMIT,
    PREVIEW_COMMENT_MARKER,
    PreviewShard,
    driftSummary,
    previewComment,
    rolloutSummary,
} from "../../tools/lib/fleet-markdown";
import { FleetReport, StackReport, parseFleetReport } from "../../tools/lib/fleet/report";
import { main } from "../../tools/fleet-summary";

const stack = (name: string, over: Partial<StackReport> = {}): StackReport => ({
    stack: name,
    wave: 1,
    result: "succeeded",
    changes: { create: 0, update: 0, replace: 0, delete: 0, same: 12 },
    policyViolations: 0,
    drift: null,
    durationMs: 4200,
    ...over,
});

/** A report as `npm run fleet -- <operation> --json` prints it, checked against the runner's own schema. */
function report(stacks: StackReport[], over: Partial<FleetReport> = {}): FleetReport {
    return parseFleetReport(
        JSON.stringify({
            schemaVersion: 2,
            operation: "preview",
            previewOnly: false,
            startedAt: "2026-12-01T08:00:00.000Z",
            durationMs: 61000,
            steps: [
                {
                    label: "wave 1",
                    wave: 1,
                    stacks: stacks.map((s) => s.stack),
                    failed: stacks.filter((s) => s.result === "failed").length,
                    halted: false,
                },
            ],
            halted: null,
            stacks,
            ...over,
        }),
    );
}

const RUN = "https://github.com/acme/stock-deploy/actions/runs/42";
const shardOf = (name: string, stacks: StackReport[], withReport = true): PreviewShard => ({
    name,
    url: `${RUN}/job/${name.replace(/\D/g, "")}`,
    stacks: stacks.map((s) => s.stack),
    report: withReport ? report(stacks) : undefined,
});

describe("fleet summaries: the one preview comment", () => {
    const first = [stack("client-a", { changes: { create: 2, update: 1, replace: 0, delete: 0, same: 3 } }), stack("client-b")];
    const second = [
        stack("client-c", { result: "failed", error: "config problem | stock:host\nsecond line" }),
        stack("client-d", { policyViolations: 2, changes: { create: 0, update: 1, replace: 1, delete: 1, same: 0 } }),
        stack("client-e", { result: "busy" }),
    ];
    const comment = previewComment({
        shards: [shardOf("preview 1/2", first), shardOf("preview 2/2", second)],
        sha: "0123456789abcdef0123",
        selection: "affected by this pull request",
        artifactsUrl: `${RUN}#artifacts`,
    });
    const rowsOf = (text: string) => text.split("\n").filter((l) => l.startsWith("| `"));

    it("starts with the marker the workflow finds it by, and counts what it shows", () => {
        assert.strictEqual(comment.split("\n")[0], PREVIEW_COMMENT_MARKER);
        assert.match(comment, /### Pulumi preview of 5 stacks at 0123456789ab/);
        assert.match(comment, /1 failed, 1 busy, 1 with policy violations, 2 with changes, 1 without/);
    });

    it("counts a stack whose only finding is a policy violation as one without changes", () => {
        const text = previewComment({
            shards: [shardOf("preview 1/1", [stack("client-a", { policyViolations: 1 }), stack("client-b")])],
            sha: "abc",
            selection: "x",
            artifactsUrl: "u",
        });
        assert.match(text, /0 failed, 0 busy, 1 with policy violations, 0 with changes, 2 without/);
        assert.match(rowsOf(text)[0], /^\| `client-a` \| no changes \| 0 \| 0 \| 0 \| 0 \| 1 \|/);
    });

    it("one row per stack: failures first, then busy, policy violations, changes; counts and its job's link", () => {
        const rows = rowsOf(comment);
        assert.deepStrictEqual(
            rows.map((r) => /`([^`]+)`/.exec(r)![1]),
            ["client-c", "client-e", "client-d", "client-a", "client-b"],
        );
        assert.strictEqual(
            rows[0],
            `| \`client-c\` | **failed**: config problem \\| stock:host second line | 0 | 0 | 0 | 0 | 0 | [preview 2/2](${RUN}/job/22) |`,
        );
        assert.strictEqual(rows[2], `| \`client-d\` | changes | 0 | 1 | 1 | 1 | 2 | [preview 2/2](${RUN}/job/22) |`);
        assert.strictEqual(rows[3], `| \`client-a\` | changes | 2 | 1 | 0 | 0 | 0 | [preview 1/2](${RUN}/job/12) |`);
        assert.match(rows[1], /busy .* \| - \| - \| - \| - \| - \|/);
    });

    it("a job that wrote no report still shows its stacks, linked to its output", () => {
        const text = previewComment({ shards: [shardOf("preview 1/1", first, false)], sha: "abc", selection: "x", artifactsUrl: "u" });
        assert.deepStrictEqual(
            rowsOf(text).map((r) => r.includes("**no report**") && r.includes("[preview 1/1]")),
            [true, true],
        );
    });

    it("says so when nothing is affected, and lists deleted stacks", () => {
        const text = previewComment({
            shards: [],
            sha: "abc",
            selection: "affected by this pull request",
            artifactsUrl: "u",
            removed: ["client-z"],
        });
        assert.match(text, /No stack is affected \(affected by this pull request\): nothing to preview\./);
        assert.match(text, /Deleted by this change: `client-z`/);
        assert.deepStrictEqual(rowsOf(text), []);
    });

    it("500 stacks with long errors stay under GitHub's 65,536 characters, saying how many rows are left out", () => {
        const many = Array.from({ length: 500 }, (_, i) =>
            stack(`tenant-with-a-rather-long-name-${String(i).padStart(4, "0")}`, {
                result: i % 3 === 0 ? "failed" : "succeeded",
                error: "x".repeat(5000),
            }),
        );
        const text = previewComment({
            shards: [shardOf("preview 1/1", many)],
            sha: "abc",
            selection: "all",
            artifactsUrl: `${RUN}#artifacts`,
        });
        assert.ok(Buffer.byteLength(text) <= GITHUB_COMMENT_LIMIT, `${Buffer.byteLength(text)} bytes`);
        const shown = rowsOf(text).length;
        const note = /_(\d+) more rows left out to stay under GitHub's 65536-character comment limit/.exec(text);
        assert.ok(note, "a note on the truncation");
        assert.strictEqual(shown + Number(note[1]), 500);
        assert.ok(
            rowsOf(text)
                .slice(0, 167)
                .every((r) => r.includes("**failed**")),
            "the failures come first",
        );
    });

    it("any limit: never longer, and no room left for one more row", () => {
        const stacks = Array.from({ length: 40 }, (_, i) =>
            stack(`s-${i}`, { changes: { create: i, update: 0, replace: 0, delete: 0, same: 0 } }),
        );
        const full = previewComment({
            shards: [shardOf("preview 1/1", stacks)],
            sha: "abc",
            selection: "x",
            artifactsUrl: "u",
            limit: 1e9,
        });
        assert.strictEqual(rowsOf(full).length, 40);
        fc.assert(
            fc.property(fc.integer({ min: 1200, max: 6000 }), (limit) => {
                const text = previewComment({
                    shards: [shardOf("preview 1/1", stacks)],
                    sha: "abc",
                    selection: "x",
                    artifactsUrl: "u",
                    limit,
                });
                assert.ok(Buffer.byteLength(text) <= limit, `${Buffer.byteLength(text)} > ${limit}`);
                const shown = rowsOf(text).length;
                assert.deepStrictEqual(rowsOf(text), rowsOf(full).slice(0, shown), "the first rows, in order");
                if (shown < 40) {
                    assert.match(text, new RegExp(`_${40 - shown} more rows? left out`));
                    // A row is about 70 characters: 200 more are room for at least one more.
                    const bigger = previewComment({
                        shards: [shardOf("preview 1/1", stacks)],
                        sha: "abc",
                        selection: "x",
                        artifactsUrl: "u",
                        limit: Buffer.byteLength(text) + 200,
                    });
                    assert.ok(rowsOf(bigger).length > shown, "rows are dropped only for lack of room");
                }
            }),
            { numRuns: 200 },
        );
    });
});

describe("fleet summaries: deploy and drift job summaries", () => {
    it("the rollout summary names each stack's step and where it halted", () => {
        const r = report(
            [
                stack("shared", { wave: "shared" }),
                stack("client-a", { wave: 0, result: "failed", error: "boom" }),
                stack("client-b", { result: "skipped", durationMs: 0 }),
            ],
            {
                operation: "up",
                steps: [
                    { label: "shared", wave: "shared", stacks: ["shared"], failed: 0, halted: false },
                    { label: "wave 0 (canary)", wave: 0, stacks: ["client-a"], failed: 1, halted: true },
                ],
                halted: { step: "wave 0 (canary)", reason: "1 canary stack failed in wave 0 (canary)" },
            },
        );
        const text = rolloutSummary(r);
        assert.match(text, /\*\*Halted after wave 0 \(canary\)\*\*: 1 canary stack failed/);
        assert.match(text, /^\| shared \| `shared` \| succeeded \| \+0 ~0 ±0 -0 \| 4\.2 s \|$/m);
        assert.match(text, /^\| wave 0 \(canary\) \| `client-a` \| \*\*failed\*\*: boom \|/m);
        assert.match(text, /^\| not started \| `client-b` \| skipped \| - \| 0\.0 s \|$/m);
    });

    it("the drift summary lists the drifted stacks with their changes, and those it could not check", () => {
        const r = report(
            [
                stack("client-a", { drift: true, changes: { create: 0, update: 2, replace: 0, delete: 1, same: 9 } }),
                stack("client-b", { drift: false }),
                stack("client-c", { result: "failed", error: "no access" }),
            ],
            { operation: "refresh", previewOnly: true },
        );
        const text = driftSummary(r);
        assert.match(text, /### Drift: 1 of 3 stacks drifted/);
        assert.match(text, /^\| `client-a` \| 0 \| 2 \| 0 \| 1 \|$/m);
        assert.doesNotMatch(text, /`client-b` \|/);
        assert.match(text, /\*\*Not checked\*\* \(1\):\n\n- `client-c`: failed: no access/);
        assert.match(
            driftSummary(report([stack("client-b", { drift: false })], { operation: "refresh", previewOnly: true })),
            /No stack drifted\./,
        );
    });
});

describe("fleet summaries: the CLI", () => {
    let dir: string;
    beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "stock-summary-"))));
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));
    const cli = (args: string[]) => {
        let stdout = "";
        let stderr = "";
        const code = main(args, { write: (t: string) => (stdout += t) }, { write: (t: string) => (stderr += t) });
        return { code, stdout, stderr };
    };

    it("preview-comment reads each shard's report and links each row to its job", () => {
        fs.writeFileSync(
            path.join(dir, "fleet-report-1.json"),
            JSON.stringify(report([stack("shared", { wave: "shared" }), stack("client-a")])),
        );
        fs.writeFileSync(path.join(dir, "fleet-report-2.json"), "{ not a report");
        fs.writeFileSync(path.join(dir, "jobs.tsv"), `test\t${RUN}/job/100\npreview 1/2\t${RUN}/job/101\n`);
        const shards = JSON.stringify([
            { index: 1, of: 2, stacks: "shared,client-a" },
            { index: 2, of: 2, stacks: "client-b" },
        ]);
        const r = cli([
            "preview-comment",
            "--shards",
            shards,
            "--reports",
            dir,
            "--sha",
            "abcdef",
            "--run-url",
            RUN,
            "--jobs",
            path.join(dir, "jobs.tsv"),
            "--all",
            "--removed",
            '["old"]',
        ]);
        assert.strictEqual(r.code, 0, r.stderr);
        assert.match(
            r.stdout,
            /^\| `client-a` \| no changes \|.*\[preview 1\/2\]\(https:\/\/github\.com\/acme\/stock-deploy\/actions\/runs\/42\/job\/101\) \|$/m,
        );
        assert.match(
            r.stdout,
            /^\| `client-b` \| \*\*no report\*\*.*\[preview 2\/2\]\(https:\/\/github\.com\/acme\/stock-deploy\/actions\/runs\/42\) \|$/m,
            "a job without a known URL links the run",
        );
        assert.match(r.stdout, /all of them/);
        assert.match(r.stdout, /Deleted by this change: `old`/);
        assert.match(r.stderr, /fleet-report-2\.json: /);
    });

    it("drift --fail-on-drift exits 1 on drift, 0 without; bad input exits 1 or 2", () => {
        const drifted = path.join(dir, "drift.json");
        fs.writeFileSync(
            drifted,
            JSON.stringify(report([stack("client-a", { drift: true })], { operation: "refresh", previewOnly: true })),
        );
        const clean = path.join(dir, "clean.json");
        fs.writeFileSync(clean, JSON.stringify(report([stack("client-a", { drift: false })], { operation: "refresh", previewOnly: true })));
        assert.strictEqual(cli(["drift", drifted, "--fail-on-drift"]).code, 1);
        assert.strictEqual(cli(["drift", drifted]).code, 0);
        assert.strictEqual(cli(["drift", clean, "--fail-on-drift"]).code, 0);
        assert.match(cli(["rollout", clean]).stdout, /### fleet refresh: 1 stacks in 1 steps/);
        assert.strictEqual(cli(["rollout", path.join(dir, "missing.json")]).code, 1);
        assert.strictEqual(cli(["preview-comment", "--shards", "[]"]).code, 2);
        assert.strictEqual(cli(["preview-comment", "--shards", "{}", "--reports", dir, "--sha", "a", "--run-url", RUN]).code, 2);
        assert.strictEqual(cli(["nope"]).code, 2);
    });
});

describe("fleet summaries: preview shards", () => {
    it("few stacks share one job; many are split into at most N balanced jobs, in order", () => {
        const names = (n: number) => Array.from({ length: n }, (_, i) => `s${String(i).padStart(3, "0")}`);
        assert.deepStrictEqual(shardStacks([], 4), []);
        assert.deepStrictEqual(shardStacks(names(3), 4), [{ index: 1, of: 1, stacks: "s000,s001,s002" }]);
        assert.deepStrictEqual(
            shardStacks(names(25), 4).map((s) => s.stacks.split(",").length),
            [9, 8, 8],
        );
        const big = shardStacks(names(500), 4);
        assert.deepStrictEqual(
            big.map((s) => [s.index, s.of, s.stacks.split(",").length]),
            [
                [1, 4, 125],
                [2, 4, 125],
                [3, 4, 125],
                [4, 4, 125],
            ],
        );
        assert.deepStrictEqual(
            big.flatMap((s) => s.stacks.split(",")),
            names(500),
        );
        assert.throws(() => shardStacks(names(3), 0), /at least 1/);
    });
});
