/**
 * Markdown for the workflows from fleet reports (`npm run fleet -- ... --json`):
 *
 * `npm run fleet-summary -- preview-comment --shards JSON --reports DIR --sha SHA --run-url URL [--jobs FILE] [--all] [--removed JSON]`
 *     the one PR comment: --shards is the `shards` output of `npm run affected -- --github-output`,
 *     DIR holds `fleet-report-<index>.json` per shard, FILE the run's jobs as lines of name, tab,
 *     URL (.github/scripts/run-jobs.sh), so each row links the job that previewed it.
 * `npm run fleet-summary -- rollout REPORT`                  the deploy job's summary
 * `npm run fleet-summary -- drift REPORT [--fail-on-drift]`  the drift job's summary; exit 1 on drift
 *     or an unchecked stack with --fail-on-drift
 * --help prints the usage. Exit code: 0 done, 1 unreadable report (or drift, above), 2 bad arguments.
 */
import * as fs from "fs";
import * as path from "path";
import { PreviewShard, driftSummary, previewComment, rolloutSummary } from "./lib/fleet-markdown";
import { FleetReport, parseFleetReport } from "./lib/fleet/report";
import { Output, parseCli } from "./lib/cli";

const USAGE = [
    "usage: npm run fleet-summary -- preview-comment --shards JSON --reports DIR --sha SHA --run-url URL [--jobs FILE] [--all] [--removed JSON]",
    "       npm run fleet-summary -- rollout REPORT",
    "       npm run fleet-summary -- drift REPORT [--fail-on-drift]",
].join("\n");

class UsageError extends Error {}

function readReport(file: string): FleetReport {
    try {
        return parseFleetReport(fs.readFileSync(file, "utf8"));
    } catch (e) {
        throw new Error(`${file}: ${(e as Error).message}`, { cause: e });
    }
}

function shardsFrom(json: string): Array<{ index: number; of: number; stacks: string }> {
    let shards: unknown;
    try {
        shards = JSON.parse(json);
    } catch {
        throw new UsageError(`--shards is not JSON: ${json.slice(0, 80)}`);
    }
    const ok =
        Array.isArray(shards) &&
        shards.every((s) => s && Number.isInteger(s.index) && Number.isInteger(s.of) && typeof s.stacks === "string");
    if (!ok)
        throw new UsageError(
            "--shards must be a JSON list of {index, of, stacks} (the `shards` output of npm run affected -- --github-output)",
        );
    return shards as Array<{ index: number; of: number; stacks: string }>;
}

function jobUrls(file: string | undefined): Map<string, string> {
    const urls = new Map<string, string>();
    if (!file) return urls;
    for (const line of fs.readFileSync(file, "utf8").split("\n")) {
        const [name, url] = line.split("\t");
        if (name && url?.startsWith("https://")) urls.set(name, url.trim());
    }
    return urls;
}

/** The CLI, callable in-process: returns the exit code. */
export function main(argv: string[], stdout: Output = process.stdout, stderr: Output = process.stderr): number {
    const parsed = parseCli(argv, {
        options: {
            shards: { type: "string" },
            reports: { type: "string" },
            sha: { type: "string" },
            "run-url": { type: "string" },
            jobs: { type: "string" },
            all: { type: "boolean" },
            removed: { type: "string" },
            "fail-on-drift": { type: "boolean" },
            help: { type: "boolean" },
        },
        allowPositionals: true,
        usage: USAGE,
        stdout,
        stderr,
    });
    if (typeof parsed === "number") return parsed;
    const { values: args, positionals } = parsed;
    const [command, file, ...extra] = positionals;
    try {
        if (extra.length) throw new UsageError(`unexpected argument(s): ${extra.join(" ")}`);
        switch (command) {
            case "preview-comment": {
                const missing = (["shards", "reports", "sha", "run-url"] as const).filter((k) => args[k] === undefined);
                if (missing.length) throw new UsageError(`preview-comment needs --${missing.join(", --")}`);
                const runUrl = args["run-url"]!;
                const urls = jobUrls(args.jobs);
                const shards: PreviewShard[] = shardsFrom(args.shards!).map((s) => {
                    const name = `preview ${s.index}/${s.of}`;
                    const reportFile = path.join(args.reports!, `fleet-report-${s.index}.json`);
                    let report: FleetReport | undefined;
                    if (fs.existsSync(reportFile)) {
                        try {
                            report = readReport(reportFile);
                        } catch (e) {
                            stderr.write(`${(e as Error).message}\n`); // the rows say "no report"
                        }
                    }
                    return { name, url: urls.get(name) ?? runUrl, stacks: s.stacks.split(",").filter(Boolean), report };
                });
                const removed = args.removed ? (JSON.parse(args.removed) as string[]) : [];
                const selection = args.all
                    ? "affected by this pull request: all of them (it changes the program or what every stack builds)"
                    : "affected by this pull request (npm run affected)";
                stdout.write(previewComment({ shards, sha: args.sha!, selection, removed, artifactsUrl: `${runUrl}#artifacts` }));
                return 0;
            }
            case "rollout":
            case "drift": {
                if (!file) throw new UsageError(`${command} needs the report file`);
                const report = readReport(file);
                if (command === "rollout") {
                    stdout.write(rolloutSummary(report));
                    return 0;
                }
                stdout.write(driftSummary(report));
                const bad = report.stacks.some((s) => s.drift === true || s.result !== "succeeded");
                return args["fail-on-drift"] && bad ? 1 : 0;
            }
            default:
                throw new UsageError(command ? `unknown command '${command}'` : "which command?");
        }
    } catch (e) {
        if (e instanceof UsageError) {
            stderr.write(`${e.message}\n${USAGE}\n`);
            return 2;
        }
        stderr.write(`${(e as Error).message}\n`);
        return 1;
    }
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
