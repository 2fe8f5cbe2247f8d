import * as assert from "assert";
import {
    EXIT,
    FleetReport,
    NO_CHANGES,
    StackReport,
    changesFromOpMap,
    driftOf,
    exitCodeOf,
    formatFleetJson,
    formatFleetTable,
    outcomeLine,
    parseFleetReport,
} from "../../tools/lib/fleet/report";

function stack(name: string, wave: StackReport["wave"], result: StackReport["result"], extra: Partial<StackReport> = {}): StackReport {
    return { stack: name, wave, result, changes: { ...NO_CHANGES }, policyViolations: 0, drift: null, durationMs: 0, ...extra };
}

function report(stacks: StackReport[], extra: Partial<FleetReport> = {}): FleetReport {
    return {
        schemaVersion: 2,
        operation: "up",
        previewOnly: false,
        startedAt: "2026-12-01T08:00:00.000Z",
        durationMs: 1234,
        steps: [],
        halted: null,
        stacks,
        ...extra,
    };
}

describe("fleet report: the --json contract and the summary", () => {
    it("counts the engine's change summary once per resource (a replacement is one replace, not a create and a delete)", () => {
        const changes = changesFromOpMap({
            same: 20,
            create: 2,
            update: 3,
            replace: 1,
            "create-replacement": 1,
            "delete-replaced": 1,
            delete: 4,
            import: 1,
            discard: 1,
            read: 2,
        });
        assert.deepStrictEqual(changes, { create: 3, update: 3, replace: 1, delete: 5, same: 22 });
        assert.deepStrictEqual(changesFromOpMap(undefined), NO_CHANGES);
    });

    it("calls a refresh drifted only when it changes the state", () => {
        assert.strictEqual(driftOf(changesFromOpMap({ same: 12 })), false);
        assert.strictEqual(driftOf(changesFromOpMap({ same: 11, update: 1 })), true);
        assert.strictEqual(driftOf(changesFromOpMap({ same: 11, delete: 1 })), true);
    });

    it("round-trips through JSON and refuses a document of another shape, naming the field", () => {
        const r = report([
            stack("images", "images", "succeeded", { durationMs: 90000 }),
            stack("shared", "shared", "succeeded", { changes: { create: 1, update: 0, replace: 0, delete: 0, same: 9 }, durationMs: 5000 }),
            stack("client-a", 1, "failed", { error: "boom" }),
        ]);
        assert.deepStrictEqual(parseFleetReport(formatFleetJson(r)), r);
        const bad = JSON.parse(formatFleetJson(r));
        bad.stacks[2].result = "exploded";
        assert.throws(() => parseFleetReport(JSON.stringify(bad)), /stacks\.2\.result/);
        // Version 1 had no "images" wave: a reader of version 2 refuses it rather than guess.
        assert.throws(() => parseFleetReport(JSON.stringify({ ...r, schemaVersion: 1 })), /schemaVersion/);
        const unknownWave = JSON.parse(formatFleetJson(r));
        unknownWave.stacks[0].wave = "registry";
        assert.throws(() => parseFleetReport(JSON.stringify(unknownWave)), /stacks\.0\.wave/);
        assert.throws(() => formatFleetJson({ ...r, durationMs: -1 }), /durationMs|too small/i);
    });

    it("exits 0 when every stack succeeded, 1 on a failure or a halt, 3 when stacks were only busy", () => {
        assert.strictEqual(exitCodeOf(report([stack("shared", "shared", "succeeded"), stack("client-a", 1, "succeeded")])), EXIT.ok);
        assert.strictEqual(exitCodeOf(report([stack("shared", "shared", "succeeded"), stack("client-a", 1, "failed")])), EXIT.failed);
        assert.strictEqual(exitCodeOf(report([stack("shared", "shared", "succeeded"), stack("client-a", 1, "busy")])), EXIT.busy);
        assert.strictEqual(exitCodeOf(report([stack("client-a", 1, "busy"), stack("client-b", 1, "failed")])), EXIT.failed);
        assert.strictEqual(
            exitCodeOf(
                report([stack("client-a", 1, "succeeded"), stack("client-b", 2, "skipped")], { halted: { step: "wave 1", reason: "x" } }),
            ),
            EXIT.failed,
        );
        const busyCanary = report([stack("canary", 0, "busy"), stack("client-b", 1, "skipped")], {
            halted: { step: "wave 0 (canary)", reason: "canary stack canary was busy", busy: ["canary"] },
        });
        assert.strictEqual(exitCodeOf(busyCanary), EXIT.busy, "halted by a busy canary alone: nothing failed, run again later");
        assert.match(outcomeLine(busyCanary), /busy \(another update running, run again later\): canary; halted after wave 0 \(canary\)/);
    });

    it("names every stack that did not succeed in the closing line", () => {
        const line = outcomeLine(
            report(
                [
                    stack("shared", "shared", "succeeded"),
                    stack("client-a", 1, "failed"),
                    stack("client-b", 1, "busy"),
                    stack("client-c", 2, "skipped"),
                ],
                { halted: { step: "wave 0 (canary)", reason: "1 canary stack failed" } },
            ),
        );
        assert.strictEqual(
            line,
            "fleet up: 1/4 succeeded; failed: client-a; busy (another update running, run again later): client-b; halted after wave 0 (canary): 1 canary stack failed; skipped: client-c",
        );
    });

    it("tabulates stack, result, changes, policy violations, drift and duration", () => {
        const table = formatFleetTable(
            report(
                [
                    stack("shared", "shared", "succeeded", {
                        changes: { create: 0, update: 0, replace: 0, delete: 0, same: 14 },
                        drift: false,
                        durationMs: 900,
                    }),
                    stack("client-a", 0, "succeeded", {
                        changes: { create: 2, update: 1, replace: 1, delete: 3, same: 20 },
                        policyViolations: 2,
                        drift: true,
                        durationMs: 61_500,
                    }),
                    stack("client-b", 2, "skipped"),
                ],
                { operation: "refresh" },
            ),
        );
        const rows = table
            .split("\n")
            .filter((l) => /client-|shared/.test(l))
            .map((l) =>
                l
                    .split("│")
                    .map((c) => c.trim())
                    .filter(Boolean),
            );
        assert.deepStrictEqual(rows, [
            ["shared", "shared", "succeeded", "+0 ~0 ±0 -0 =14", "0", "none", "900ms"],
            ["client-a", "0", "succeeded", "+2 ~1 ±1 -3 =20", "2", "drifted", "1m02s"],
            ["client-b", "2", "skipped", "-", "0", "-", "0ms"],
        ]);
        assert.ok(!table.includes(`${String.fromCharCode(27)}[`), "no colour codes in CI logs");
    });
});
