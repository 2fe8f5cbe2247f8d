/**
 * Markdown for GitHub from fleet reports (`npm run fleet -- ... --json`, tools/lib/fleet/report.ts):
 * the ONE pull-request comment of the preview workflow, and the job summaries of deploy and drift.
 * Pure: reports and links in, text out. GitHub refuses a comment over 65,536 characters, so the
 * comment drops rows from its end (the least interesting: rows are sorted failures first, then
 * stacks with changes) and says how many it left out and where they are.
 */
import { FleetReport, StackReport, isPartial } from "./fleet/report";

/** GitHub's limit on an issue or pull-request comment body. */
export const GITHUB_COMMENT_LIMIT = 65_536;
/** The first line of the preview comment; the workflow finds its earlier comment by it. */
export const PREVIEW_COMMENT_MARKER = "<!-- stock-deploy:fleet-preview -->";

/** One preview job of the workflow: the stacks it previewed, its report (undefined when it wrote none) and its log. */
export interface PreviewShard {
    stacks: string[];
    report?: FleetReport;
    /** The job's page (its full output). */
    url: string;
    /** e.g. `preview 2/4`. */
    name: string;
}

export interface PreviewCommentInput {
    shards: PreviewShard[];
    /** The commit previewed. */
    sha: string;
    /** How the stacks were chosen, e.g. `affected by this pull request (npm run affected)`. */
    selection: string;
    /** Stacks the change deletes (npm run affected's `removed`). */
    removed?: string[];
    /** Where the full JSON reports are (the run's artifacts). */
    artifactsUrl: string;
    /** Default {@link GITHUB_COMMENT_LIMIT}. */
    limit?: number;
}

/** A table cell: no line breaks, pipes escaped, at most `max` characters. */
export function cell(text: string, max = 120): string {
    const flat = text.replace(/\s+/g, " ").trim();
    const short = flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
    return short.replace(/\\/g, "\\\\").replace(/\|/g, "\\|").replace(/</g, "&lt;");
}

interface Row {
    stack: string;
    rank: number;
    /** Resources would change (a policy violation alone changes nothing). */
    changes: boolean;
    line: string;
}

const changed = (s: StackReport) => s.changes.create + s.changes.update + s.changes.replace + s.changes.delete > 0;

function resultText(s: StackReport): string {
    if (s.result === "failed") return `**failed**: ${cell(s.error ?? "see the output")}`;
    if (s.result === "busy") return "busy (another update was running; re-run the job)";
    if (s.result === "interrupted") return `**interrupted**: ${cell(s.error ?? "the job was stopped")}`;
    if (s.result === "skipped") return "skipped";
    return changed(s) ? "changes" : "no changes";
}

function rows(shards: PreviewShard[]): Row[] {
    const result: Row[] = [];
    for (const shard of shards) {
        const link = `[${shard.name}](${shard.url})`;
        const reported = new Map((shard.report?.stacks ?? []).map((s) => [s.stack, s]));
        for (const stack of shard.stacks) {
            const s = reported.get(stack);
            if (!s) {
                // A partial report lists it as unfinished: the job was stopped while it ran or before it started.
                const why = shard.report
                    ? "**not finished**: the job stopped before its preview finished"
                    : "**no report**: the job ended before reporting";
                result.push({
                    stack,
                    rank: 0,
                    changes: false,
                    line: `| \`${stack}\` | ${why} | - | - | - | - | - | ${link} |`,
                });
                continue;
            }
            const c = s.changes;
            const counts =
                s.result === "succeeded" || s.result === "failed"
                    ? [c.create, c.update, c.replace, c.delete, s.policyViolations].map(String)
                    : ["-", "-", "-", "-", "-"];
            const rank =
                s.result === "failed" || s.result === "interrupted"
                    ? 0
                    : s.result === "busy"
                      ? 1
                      : s.policyViolations > 0
                        ? 2
                        : changed(s)
                          ? 3
                          : 4;
            result.push({
                stack,
                rank,
                changes: changed(s),
                line: `| \`${stack}\` | ${resultText(s)} | ${counts.join(" | ")} | ${link} |`,
            });
        }
    }
    return result.sort((a, b) => a.rank - b.rank || (a.stack < b.stack ? -1 : a.stack > b.stack ? 1 : 0));
}

function removedList(removed: string[]): string {
    const shown = removed.slice(0, 50).map((s) => `\`${s}\``);
    return removed.length > shown.length ? `${shown.join(", ")} and ${removed.length - shown.length} more` : shown.join(", ");
}

/** Length in UTF-8 bytes: never less than GitHub's count of characters, and what pr-comment.sh checks. */
const size = (text: string) => Buffer.byteLength(text, "utf8");

/** The preview comment, never longer than the limit (in UTF-8 bytes). */
export function previewComment(input: PreviewCommentInput): string {
    const limit = input.limit ?? GITHUB_COMMENT_LIMIT;
    const all = rows(input.shards);
    const count = (rank: number) => all.filter((r) => r.rank === rank).length;
    // Policy-violating stacks sort apart, but count as with or without changes like the rest.
    const previewed = all.filter((r) => r.rank >= 2);
    const withChanges = previewed.filter((r) => r.changes).length;
    const head = [
        PREVIEW_COMMENT_MARKER,
        `### Pulumi preview of ${all.length} stack${all.length === 1 ? "" : "s"} at ${input.sha.slice(0, 12)}`,
        "",
        all.length === 0
            ? `No stack is affected (${input.selection}): nothing to preview.`
            : `Stacks ${input.selection}. ${count(0)} failed, ${count(1)} busy, ${count(2)} with policy violations, ${withChanges} with changes, ${previewed.length - withChanges} without. Full output: the job links; every report as JSON: [the run's artifacts](${input.artifactsUrl}).`,
        ...(input.removed?.length
            ? [
                  "",
                  `Deleted by this change: ${removedList(input.removed)}. Their resources stay until the stacks are destroyed (\`npm run fleet -- destroy --stacks ...\`).`,
              ]
            : []),
    ].join("\n");
    if (all.length === 0) return `${head}\n`;
    const table = [
        "",
        "| stack | result | create | update | replace | delete | policy violations | output |",
        "|---|---|---:|---:|---:|---:|---:|---|",
    ].join("\n");
    const note = (left: number) =>
        `\n\n_${left} more row${left === 1 ? "" : "s"} left out to stay under GitHub's ${limit}-character comment limit (rows are sorted: failures, busy, policy violations and changes first). All of them are in the job outputs and [the JSON reports](${input.artifactsUrl})._\n`;

    let body = `${head}\n${table}`;
    for (let i = 0; i < all.length; i++) {
        const next = `${body}\n${all[i].line}`;
        const left = all.length - i - 1;
        // Room for this row and, if rows remain after it, the note saying so.
        if (size(next) + (left > 0 ? size(note(left)) : 1) > limit) return body + note(all.length - i);
        body = next;
    }
    return `${body}\n`;
}

const changesCell = (s: StackReport) =>
    s.result === "succeeded" || s.result === "failed"
        ? `+${s.changes.create} ~${s.changes.update} ±${s.changes.replace} -${s.changes.delete}`
        : "-";
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** The paragraph a partial report (written before the run ended: the job was stopped, or is still going) opens with. */
function partialNote(report: FleetReport): string[] {
    if (!isPartial(report)) return [];
    const unfinished = report.unfinished ?? [];
    const stop = report.interrupted;
    const stopped = stop
        ? [`**Stopped by ${stop.signal}** at ${stop.at}: ${cell(stop.reason, 400)}. Its final report: nothing ran after it.`, ""]
        : [];
    const running = unfinished.filter((u) => u.running).map((u) => `\`${u.stack}\``);
    const total = report.stacks.length + unfinished.length;
    return [
        ...stopped,
        `**Partial report**: the run had not finished when this was written (the job timed out or was cancelled, or is still running): ${report.stacks.length} of ${total} stacks finished, ${unfinished.length} did not.` +
            (running.length
                ? ` Running then, possibly stopped mid-operation (check \`pulumi stack history -s <stack>\`; \`pulumi cancel -s <stack>\` if its lock stayed behind, then run again): ${running.slice(0, 50).join(", ")}${running.length > 50 ? ` and ${running.length - 50} more` : ""}.`
                : ""),
        "",
    ];
}

/** The deploy job's summary: every step of the rollout, what each stack did, and where it halted. */
export function rolloutSummary(report: FleetReport): string {
    const unfinished = report.unfinished ?? [];
    const lines = [
        `### fleet ${report.operation}${isPartial(report) ? " (partial)" : ""}: ${report.stacks.length + unfinished.length} stacks in ${report.steps.length} steps, ${seconds(report.durationMs)}`,
        "",
        ...partialNote(report),
    ];
    if (report.halted)
        lines.push(`**Halted after ${report.halted.step}**: ${cell(report.halted.reason, 400)}. Later stacks were not touched.`, "");
    lines.push("| step | stack | result | changes | duration |", "|---|---|---|---|---:|");
    const stepOf = new Map(report.steps.flatMap((step) => step.stacks.map((s) => [s, step.label])));
    const finished = report.stacks.map((s) => {
        const result = s.result === "failed" || s.result === "interrupted" ? `**${s.result}**: ${cell(s.error ?? "")}` : s.result;
        // An interrupted stack's step never finished, so it is not among the report's steps.
        const step = stepOf.get(s.stack) ?? (s.result === "interrupted" ? "cut short" : "not started");
        return `| ${step} | \`${s.stack}\` | ${result} | ${changesCell(s)} | ${seconds(s.durationMs)} |`;
    });
    const open = unfinished.map(
        (u) => `| ${u.step} | \`${u.stack}\` | ${u.running ? "**running** when the report was written" : "not started"} | - | - |`,
    );
    lines.push(...finished, ...open);
    return `${lines.join("\n")}\n`;
}

/** The drift job's summary: which stacks drifted and how, which could not be checked. */
export function driftSummary(report: FleetReport): string {
    const drifted = report.stacks.filter((s) => s.drift === true);
    const unchecked = [
        ...report.stacks.filter((s) => s.result !== "succeeded"),
        ...(report.unfinished ?? []).map((u) => ({ stack: u.stack, result: u.running ? "not finished" : "not started", error: undefined })),
    ];
    const total = report.stacks.length + (report.unfinished?.length ?? 0);
    const lines = [`### Drift: ${drifted.length} of ${total} stacks drifted`, "", ...partialNote(report)];
    if (drifted.length) {
        lines.push(
            "The live resources differ from the state. Review the refresh in the job log, then `pulumi refresh -s <stack>` to accept the live state, or `pulumi up -s <stack>` to restore the program's.",
            "",
        );
        lines.push("| stack | would create | would update | would replace | would delete |", "|---|---:|---:|---:|---:|");
        for (const s of drifted)
            lines.push(`| \`${s.stack}\` | ${s.changes.create} | ${s.changes.update} | ${s.changes.replace} | ${s.changes.delete} |`);
        lines.push("");
    } else {
        lines.push("No stack drifted.", "");
    }
    if (unchecked.length) {
        lines.push(`**Not checked** (${unchecked.length}):`, "");
        for (const s of unchecked) lines.push(`- \`${s.stack}\`: ${s.result}${s.error ? `: ${cell(s.error, 300)}` : ""}`);
        lines.push("");
    }
    return lines.join("\n");
}
