/**
 * The scripts the fleet workflows (preview, deploy, drift) call, run for real against stand-ins on
 * PATH: a fake `gh` that answers from canned API pages through the real `jq` (as gh's --jq does per
 * page), a fake `npm` standing in for the fleet runner, a fake `pulumi`. And the workflows' own
 * command lines for our CLIs, run as written against a scratch git repository.
 */
import * as assert from "assert";
import { execFile, execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";
import { main as affectedMain } from "../../tools/affected";
import { main as fleetMain } from "../../tools/fleet";
import { main as summaryMain } from "../../tools/fleet-summary";
import { FleetBackend, StackRunOptions } from "../../tools/lib/fleet/backend";
import { syntheticRepo, writeTenantStack } from "../support/synthetic-repo";

import { REPO_ROOT as ROOT } from "../../components/names";
const SCRIPTS = path.join(ROOT, ".github", "scripts");
const MARKER = "<!-- stock-deploy:fleet-preview -->";

type Run = { status: number; stdout: string; stderr: string };

function runScript(script: string, args: string[], env: NodeJS.ProcessEnv, cwd: string): Promise<Run> {
    return new Promise((resolve) => {
        execFile(
            "bash",
            [path.join(SCRIPTS, script), ...args],
            { env: { PATH: process.env.PATH, HOME: os.tmpdir(), ...env }, cwd, timeout: 20000 },
            (error, stdout, stderr) => {
                resolve({
                    status: error ? (typeof (error as { code?: unknown }).code === "number" ? (error as { code: number }).code : 1) : 0,
                    stdout: String(stdout),
                    stderr: String(stderr),
                });
            },
        );
    });
}

const haveJq = spawnSync("bash", ["-c", "command -v jq"]).status === 0;

/** A scratch folder with a bin/ for stand-ins, removed after each test. */
function sandbox() {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "stock-fleet-wf-"));
    const bin = path.join(dir, "bin");
    fs.mkdirSync(bin);
    const tool = (name: string, script: string) =>
        fs.writeFileSync(path.join(bin, name), `#!/usr/bin/env bash\nset -euo pipefail\n${script}\n`, { mode: 0o755 });
    const log = path.join(dir, "calls.log");
    const calls = () => (fs.existsSync(log) ? fs.readFileSync(log, "utf8").trim().split("\n") : []);
    return {
        dir,
        bin,
        tool,
        log,
        calls,
        env: { PATH: `${bin}:${process.env.PATH}`, CALLS_LOG: log },
        remove: () => fs.rmSync(dir, { recursive: true, force: true }),
    };
}

/**
 * `gh api`: GET with --paginate prints every page of $GH_PAGES/<n>.json through `jq -r <filter>`;
 * POST and PATCH record the endpoint and the body read from `-F body=@file`.
 */
const FAKE_GH = `
printf '%s\\n' "$*" >> "$CALLS_LOG"
[[ "\${GH_FAIL:-}" == 1 ]] && { echo "gh: HTTP 403" >&2; exit 1; }
method=GET; filter=.; endpoint=""; body=""
shift # api
while [[ $# -gt 0 ]]; do
  case "$1" in
    --method) method="$2"; shift 2 ;;
    --jq) filter="$2"; shift 2 ;;
    --paginate) shift ;;
    -F) body="\${2#body=@}"; shift 2 ;;
    *) endpoint="$1"; shift ;;
  esac
done
if [[ "$method" == GET ]]; then
  for page in $(ls "$GH_PAGES" | sort -n); do jq -r "$filter" "$GH_PAGES/$page"; done
else
  printf '%s %s\\n' "$method" "$endpoint" >> "$GH_WRITES"
  cat "$body" >> "$GH_WRITES"
  echo '{"id": 1}'
fi`;

describe("workflows: fleet scripts", function () {
    this.timeout(30000);
    let box: ReturnType<typeof sandbox>;
    beforeEach(() => (box = sandbox()));
    afterEach(() => box.remove());

    describe("pr-comment.sh: exactly one preview comment per pull request", function () {
        before(function () {
            if (!haveJq) this.skip();
        });
        const pages = (...list: Array<Array<{ id: number; body: string }>>) => {
            const dir = fs.mkdtempSync(path.join(box.dir, "pages-"));
            list.forEach((p, i) => fs.writeFileSync(path.join(dir, `${i + 1}.json`), JSON.stringify(p)));
            return dir;
        };
        const post = async (comments: Array<Array<{ id: number; body: string }>>, body: string, args = ["7", "comment.md"]) => {
            box.tool("gh", FAKE_GH);
            fs.writeFileSync(path.join(box.dir, "comment.md"), body);
            const writes = path.join(box.dir, "writes");
            const r = await runScript(
                "pr-comment.sh",
                args,
                { ...box.env, GH_PAGES: pages(...comments), GH_WRITES: writes, GITHUB_REPOSITORY: "acme/stock-deploy" },
                box.dir,
            );
            return { r, writes: fs.existsSync(writes) ? fs.readFileSync(writes, "utf8") : "" };
        };
        const body = `${MARKER}\n### Pulumi preview of 2 stacks\n`;

        it("posts a new comment when none of the PR's comments starts with the marker", async function () {
            const { r, writes } = await post(
                [
                    [
                        { id: 11, body: "LGTM" },
                        { id: 12, body: `quoting: ${MARKER}` },
                    ],
                ],
                body,
            );
            assert.strictEqual(r.status, 0, r.stderr);
            assert.strictEqual(writes, `POST repos/acme/stock-deploy/issues/7/comments\n${body}`);
        });

        it("edits the earlier comment, found on any page", async function () {
            const { r, writes } = await post([[{ id: 11, body: "LGTM" }], [{ id: 99, body: `${MARKER}\nold table` }]], body);
            assert.strictEqual(r.status, 0, r.stderr);
            assert.strictEqual(writes, `PATCH repos/acme/stock-deploy/issues/comments/99\n${body}`);
            assert.match(r.stdout, /updated comment 99 on pull request #7/);
        });

        it("refuses a body without a marker, one over 65,536 bytes, and bad arguments, writing nothing", async function () {
            const noMarker = await post([[]], "### no marker\n");
            assert.strictEqual(noMarker.r.status, 1);
            assert.match(noMarker.r.stderr, /does not start with a marker line/);
            const big = await post([[]], `${MARKER}\n${"x".repeat(65_536)}`);
            assert.strictEqual(big.r.status, 1);
            assert.match(big.r.stderr, /over GitHub's 65,536-character limit/);
            assert.strictEqual((await post([[]], body, ["seven", "comment.md"])).r.status, 2);
            assert.strictEqual(big.writes + noMarker.writes, "");
        });
    });

    describe("run-jobs.sh", function () {
        it("prints each job's name and page, tab-separated; warns and prints nothing when the API refuses", async function () {
            if (!haveJq) this.skip();
            box.tool("gh", FAKE_GH);
            const dir = path.join(box.dir, "pages");
            fs.mkdirSync(dir);
            fs.writeFileSync(
                path.join(dir, "1.json"),
                JSON.stringify({ jobs: [{ name: "preview 1/2", html_url: "https://github.com/acme/r/actions/runs/5/job/1", id: 1 }] }),
            );
            fs.writeFileSync(
                path.join(dir, "2.json"),
                JSON.stringify({ jobs: [{ name: "preview 2/2", html_url: "https://github.com/acme/r/actions/runs/5/job/2", id: 2 }] }),
            );
            const env = { ...box.env, GH_PAGES: dir, GITHUB_REPOSITORY: "acme/r", GITHUB_RUN_ID: "5", GITHUB_RUN_ATTEMPT: "1" };
            const r = await runScript("run-jobs.sh", [], env, box.dir);
            assert.strictEqual(r.status, 0, r.stderr);
            assert.strictEqual(
                r.stdout,
                "preview 1/2\thttps://github.com/acme/r/actions/runs/5/job/1\npreview 2/2\thttps://github.com/acme/r/actions/runs/5/job/2\n",
            );
            assert.match(box.calls()[0], /^api --paginate repos\/acme\/r\/actions\/runs\/5\/attempts\/1\/jobs --jq/);
            const refused = await runScript("run-jobs.sh", [], { ...env, GH_FAIL: "1" }, box.dir);
            assert.deepStrictEqual([refused.status, refused.stdout], [0, ""]);
            assert.match(refused.stderr, /::warning::could not list this run's jobs/);
        });
    });

    describe("fleet-run.sh", function () {
        // Writes `json` (when not empty) where --report-file says, as the fleet runner does.
        const fakeRunner = (json: string, exit: number) =>
            box.tool(
                "npm",
                [
                    `printf '%s\\n' "$*" >> "$CALLS_LOG"`,
                    'echo "progress on stderr" >&2',
                    'echo "the table on stdout"',
                    'file=""; while [[ $# -gt 0 ]]; do [[ "$1" == --report-file ]] && file="$2"; shift; done',
                    json ? `printf '%s' '${json}' > "$file"` : "true",
                    `exit ${exit}`,
                ].join("\n"),
            );

        it("keeps the report, records the runner's exit code, and succeeds so later steps run", async function () {
            fakeRunner('{"schemaVersion":1}', 1);
            const out = path.join(box.dir, "github_output");
            const r = await runScript(
                "fleet-run.sh",
                ["report.json", "preview", "--stacks", "a,b", "--parallel", "4"],
                { ...box.env, GITHUB_OUTPUT: out },
                box.dir,
            );
            assert.strictEqual(r.status, 0, r.stderr);
            assert.deepStrictEqual(box.calls(), [`run --silent fleet -- preview --stacks a,b --parallel 4 --report-file report.json`]);
            assert.strictEqual(fs.readFileSync(path.join(box.dir, "report.json"), "utf8"), '{"schemaVersion":1}');
            assert.strictEqual(fs.readFileSync(out, "utf8"), "exit=1\n");
            assert.match(r.stderr, /progress on stderr/, "progress stays in the log");
        });

        it("says so when the runner wrote no report, leaving no empty file nor an earlier run's report", async function () {
            fakeRunner("", 2);
            fs.writeFileSync(path.join(box.dir, "report.json"), '{"schemaVersion":2,"from":"an earlier run"}');
            const out = path.join(box.dir, "github_output");
            const r = await runScript("fleet-run.sh", ["report.json", "up"], { ...box.env, GITHUB_OUTPUT: out }, box.dir);
            assert.strictEqual(r.status, 0);
            assert.match(r.stderr, /::error::npm run fleet -- up wrote no report \(exit 2\)/);
            assert.ok(!fs.existsSync(path.join(box.dir, "report.json")));
            assert.strictEqual(fs.readFileSync(out, "utf8"), "exit=2\n");
            assert.strictEqual((await runScript("fleet-run.sh", ["report.json"], { ...box.env, GITHUB_OUTPUT: out }, box.dir)).status, 2);
        });
    });

    describe("app-ref.sh: which ref of the app a job checks out (.github/actions/app-checkout)", function () {
        const SHA = "0123456789abcdef0123456789abcdef01234567";
        const appRef = async (env: Record<string, string>) => {
            const out = path.join(box.dir, "github_output");
            fs.rmSync(out, { force: true });
            const r = await runScript("app-ref.sh", [], { APP_REPOSITORY: "fengxia41103/stock", GITHUB_OUTPUT: out, ...env }, box.dir);
            return { ...r, output: fs.existsSync(out) ? fs.readFileSync(out, "utf8") : "" };
        };

        it("checks out a pinned commit as it is, without a warning", async function () {
            for (const require of ["true", "false"]) {
                const r = await appRef({ APP_REF: SHA, REQUIRE_COMMIT: require });
                assert.strictEqual(r.status, 0, r.stderr);
                assert.strictEqual(r.output, `ref=${SHA}\n`);
                assert.strictEqual(r.stderr, "");
            }
        });

        it("without APP_REF checks out the default branch, warning that it moves; a branch or tag is taken with the same warning", async function () {
            const unset = await appRef({ DEFAULT_REF: "dev" });
            assert.strictEqual(unset.status, 0, unset.stderr);
            assert.strictEqual(unset.output, "ref=dev\n");
            assert.match(
                unset.stderr,
                /::warning::the repository variable APP_REF is not set: checking out fengxia41103\/stock at dev, which moves/,
            );
            const branch = await appRef({ APP_REF: "release-2", REQUIRE_COMMIT: "false" });
            assert.strictEqual(branch.output, "ref=release-2\n");
            assert.match(branch.stderr, /::warning::APP_REF 'release-2' is not a commit SHA/);
        });

        it("when a commit is required (deploy), refuses an unset APP_REF, a branch or a short SHA, naming the variable and the fix", async function () {
            for (const ref of ["", "dev", SHA.slice(0, 12), SHA.toUpperCase()]) {
                const r = await appRef({ APP_REF: ref, REQUIRE_COMMIT: "true", DEFAULT_REF: "dev" });
                assert.strictEqual(r.status, 1, `APP_REF='${ref}'`);
                assert.strictEqual(r.output, "", "no ref for the checkout");
                assert.match(r.stderr, /::error::the repository variable APP_REF must be a full commit SHA of fengxia41103\/stock/);
                assert.match(r.stderr, /git ls-remote https:\/\/github\.com\/fengxia41103\/stock dev/);
            }
        });
    });

    describe("pulumi-login.sh", function () {
        beforeEach(() => box.tool("pulumi", `printf '%s\\n' "$*" >> "$CALLS_LOG"`));

        it("logs in to PULUMI_BACKEND_URL when set, else to Pulumi Cloud with the token, else fails clearly", async function () {
            assert.strictEqual(
                (await runScript("pulumi-login.sh", [], { ...box.env, PULUMI_BACKEND_URL: "s3://state-bucket" }, box.dir)).status,
                0,
            );
            assert.strictEqual(
                (
                    await runScript(
                        "pulumi-login.sh",
                        [],
                        { ...box.env, PULUMI_BACKEND_URL: "", PULUMI_ACCESS_TOKEN: "pul-fake-token" },
                        box.dir,
                    )
                ).status,
                0,
            );
            assert.deepStrictEqual(box.calls(), ["login --non-interactive s3://state-bucket", "login --non-interactive"]);
            const neither = await runScript("pulumi-login.sh", [], { ...box.env, PULUMI_BACKEND_URL: "" }, box.dir);
            assert.strictEqual(neither.status, 1);
            assert.match(neither.stderr, /::error::neither the variable PULUMI_BACKEND_URL nor the secret PULUMI_ACCESS_TOKEN/);
            assert.strictEqual(box.calls().length, 2);
        });
    });
});

/** The words of a `run:` command line after `marker`, up to a redirection, with $VARS replaced. */
function commandArgs(run: string, marker: string, vars: Record<string, string>): string[] {
    const line = run.split("\n").find((l) => l.includes(marker))!;
    assert.ok(line, `a line with ${marker}`);
    const rest = line.slice(line.indexOf(marker) + marker.length).split(/\s+(?:>>?|\|)\s+/)[0];
    return [...rest.matchAll(/"([^"]*)"|(\S+)/g)]
        .map((m) => m[1] ?? m[2])
        .filter((w) => w !== '"${all_flag[@]}"' && w !== "${all_flag[@]}")
        .map((w) =>
            w.replace(/\$\{?([A-Z_]+)\}?/g, (_, name: string) => {
                assert.ok(name in vars, `a value for $${name}`);
                return vars[name];
            }),
        );
}

describe("workflows: the preview workflow's own command lines, run as written", function () {
    this.timeout(60000);
    const wf = YAML.parse(fs.readFileSync(path.join(ROOT, ".github", "workflows", "preview.yml"), "utf8"));
    let repo: { root: string; remove(): void };
    beforeEach(() => {
        repo = syntheticRepo(Array.from({ length: 25 }, (_, i) => ({ name: `t-${String(i + 1).padStart(4, "0")}` })));
        const git = (...args: string[]) =>
            execFileSync("git", ["-C", repo.root, "-c", "user.name=t", "-c", "user.email=t@example.invalid", ...args], { stdio: "ignore" });
        git("init", "-q", "-b", "main");
        git("add", "-A");
        git("commit", "-qm", "base");
        git("update-ref", "refs/remotes/origin/main", "HEAD");
        git("checkout", "-qb", "pr");
        writeTenantStack(repo.root, { name: "t-0003", wave: 0 });
        fs.appendFileSync(path.join(repo.root, "Pulumi.yaml"), "# every stack\n");
        git("commit", "-qam", "change");
    });
    afterEach(() => repo.remove());

    it("affected → shards for the matrix → the comment, with the workflow's own arguments", () => {
        const select = wf.jobs.affected.steps.find((s: { id?: string }) => s.id === "select");
        const args = commandArgs(select.run, "npm run --silent affected --", { BASE_REF: "main", PREVIEW_JOBS: wf.env.PREVIEW_JOBS });
        let out = "";
        assert.strictEqual(affectedMain([...args, "--root", repo.root], { write: (t: string) => (out += t) }, { write: () => true }), 0);
        const outputs = Object.fromEntries(
            out
                .trim()
                .split("\n")
                .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
        );
        assert.deepStrictEqual(Object.keys(outputs).sort(), Object.keys(wf.jobs.affected.outputs).sort(), "the outputs the job declares");
        const shards = JSON.parse(outputs.shards);
        assert.strictEqual(outputs.count, "27");
        assert.strictEqual(shards.length, 3, "27 stacks (images, shared, 25 tenants): 3 jobs of at least 10 (at most PREVIEW_JOBS)");
        assert.strictEqual(shards[0].stacks.split(",")[0], "images", "the images stack first, in the first job");
        assert.strictEqual(outputs.all, "true");

        const reports = fs.mkdtempSync(path.join(os.tmpdir(), "stock-reports-"));
        try {
            const build = wf.jobs.comment.steps.find((s: { name?: string }) => s.name === "Build the comment");
            const jobs = path.join(reports, "jobs.tsv");
            fs.writeFileSync(jobs, "");
            const commentArgs = commandArgs(build.run, "npm run --silent fleet-summary --", {
                SHARDS: outputs.shards,
                SHA: "0123456789abcdef",
                RUN_URL: "https://github.com/acme/r/actions/runs/5",
                REMOVED: outputs.removed,
            }).map((a) => (a === "reports" ? reports : a === "jobs.tsv" ? jobs : a));
            let comment = "";
            assert.strictEqual(summaryMain(commentArgs, { write: (t: string) => (comment += t) }, { write: () => true }), 0);
            assert.ok(comment.startsWith(`${MARKER}\n`));
            assert.strictEqual(
                comment.split("\n").filter((l) => l.includes("**no report**")).length,
                27,
                "every affected stack has a row, linked to its job",
            );
        } finally {
            fs.rmSync(reports, { recursive: true, force: true });
        }
    });
});

describe("workflows: the fleet runner's command lines in preview, deploy and drift, run as written", function () {
    this.timeout(60000);
    let repo: { root: string; remove(): void };
    beforeEach(() => (repo = syntheticRepo([{ name: "t-0001", wave: 0 }, { name: "t-0002" }])));
    afterEach(() => repo.remove());

    /** A Pulumi side that records what it was asked and reports three unchanged resources per stack. */
    function recordingBackend() {
        const calls: Array<{ stack: string; operation: string; options: Omit<StackRunOptions, "onProgress"> }> = [];
        let organization: string | undefined;
        const factory = (o: { root: string; organization?: string }): FleetBackend => {
            organization = o.organization;
            return {
                prepare: () => Promise.resolve(),
                openWorker: () =>
                    Promise.resolve({
                        run: (stack, operation, { previewOnly, refresh }) => {
                            calls.push({ stack, operation, options: { previewOnly, refresh } });
                            return Promise.resolve({ changeSummary: { same: 3 }, policyViolations: 0 });
                        },
                        close: () => Promise.resolve(),
                    }),
            };
        };
        return { factory, calls, organization: () => organization };
    }

    for (const [file, job, vars, expected] of [
        [
            "preview.yml",
            "preview",
            { SHARD: "1", STACKS: "shared,t-0001", PREVIEW_PARALLEL: "4", PULUMI_ORG: "acme" },
            { operation: "preview", stacks: ["shared", "t-0001"], previewOnly: false, refresh: true },
        ],
        [
            "deploy.yml",
            "rollout",
            { DEPLOY_PARALLEL: "8", PULUMI_ORG: "acme" },
            { operation: "up", stacks: ["images", "shared", "t-0001", "t-0002"], previewOnly: false, refresh: true },
        ],
        [
            "drift.yml",
            "drift",
            { DRIFT_PARALLEL: "8", PULUMI_ORG: "acme" },
            { operation: "refresh", stacks: ["images", "shared", "t-0001", "t-0002"], previewOnly: true, refresh: false },
        ],
    ] as const) {
        it(`${file}: the fleet runner accepts the arguments, and the summary reads its report`, async () => {
            const wf = YAML.parse(fs.readFileSync(path.join(ROOT, ".github", "workflows", file), "utf8"));
            const step = wf.jobs[job].steps.find((s: { run?: string }) => (s.run ?? "").includes(".github/scripts/fleet-run.sh"));
            const [, ...args] = commandArgs(step.run, ".github/scripts/fleet-run.sh", { ...wf.env, ...vars });
            const backend = recordingBackend();
            let stdout = "";
            let stderr = "";
            const code = await fleetMain(
                [...args, "--json"],
                { write: (t: string) => (stdout += t) },
                { write: (t: string) => (stderr += t) },
                { root: repo.root, backend: backend.factory, interactive: false },
            );
            assert.strictEqual(code, 0, stderr);
            assert.strictEqual(backend.organization(), "acme");
            assert.deepStrictEqual([...new Set(backend.calls.map((c) => c.operation))], [expected.operation]);
            assert.deepStrictEqual(backend.calls.map((c) => c.stack).sort(), [...expected.stacks].sort());
            assert.deepStrictEqual(backend.calls[0].options, { previewOnly: expected.previewOnly, refresh: expected.refresh });
            const reportFile = path.join(repo.root, "report.json");
            fs.writeFileSync(reportFile, stdout);
            const summaryArgs = file === "drift.yml" ? ["drift", reportFile, "--fail-on-drift"] : ["rollout", reportFile];
            let summary = "";
            assert.strictEqual(summaryMain(summaryArgs, { write: (t: string) => (summary += t) }, { write: () => true }), 0);
            assert.match(
                summary,
                file === "drift.yml"
                    ? /### Drift: 0 of 4 stacks drifted/
                    : new RegExp(`### fleet ${expected.operation}: ${expected.stacks.length} stacks`),
            );
        });
    }
});
