/**
 * The real Automation API backend, driven against a stand-in `pulumi` executable (this machine has
 * no Pulumi CLI): what it runs, where, in which order, and how it reads the answers.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { AutomationBackend, findPulumiOnPath, resourcePlugins } from "../../tools/lib/fleet/automation";
import { FleetEnvironmentError } from "../../tools/lib/fleet/backend";
import { runFleet } from "../../tools/lib/fleet/runner";
import { REPO_ROOT } from "../../tools/lib/stack-files";

const NODE = path.join(REPO_ROOT, "node_modules", ".bin", "node");

interface CliCall {
    args: string[];
    cwd: string;
    started: number;
    ended: number;
    failed?: boolean;
}

function fakeCli(): { env: NodeJS.ProcessEnv; calls(): CliCall[]; workersDir: string; remove(): void } {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-cli-"));
    fs.mkdirSync(path.join(dir, "bin"));
    const bin = path.join(dir, "bin", "pulumi");
    fs.writeFileSync(
        bin,
        `#!/bin/sh\nexec "${fs.realpathSync(NODE)}" "${path.join(REPO_ROOT, "tests/support/fake-pulumi-cli.js")}" "$@"\n`,
        { mode: 0o755 },
    );
    const log = path.join(dir, "calls.jsonl");
    fs.writeFileSync(log, "");
    const workersDir = path.join(REPO_ROOT, ".cache", `fleet-test-${process.pid}`);
    return {
        env: {
            ...process.env,
            PATH: `${path.join(dir, "bin")}${path.delimiter}${process.env.PATH}`,
            FAKE_PULUMI_LOG: log,
            FAKE_PULUMI_LATENCY_MS: "150",
        },
        calls: () =>
            fs
                .readFileSync(log, "utf8")
                .split("\n")
                .filter(Boolean)
                .map((l) => JSON.parse(l)),
        workersDir,
        remove: () => {
            fs.rmSync(dir, { recursive: true, force: true });
            fs.rmSync(workersDir, { recursive: true, force: true });
        },
    };
}

describe("fleet runner on the Automation API (against a stand-in pulumi CLI)", function () {
    this.timeout(60000);

    it("fails fast with a clear message when there is no Pulumi CLI", async () => {
        const backend = new AutomationBackend({ root: REPO_ROOT, env: { ...process.env, PATH: "/nonexistent" } });
        await assert.rejects(backend.prepare(), (e: Error) => {
            assert.ok(e instanceof FleetEnvironmentError);
            assert.match(e.message, /needs the Pulumi CLI, and there is no `pulumi` on PATH/);
            assert.match(e.message, /pulumi login/);
            assert.match(e.message, /npm run plan -- --stack/);
            return true;
        });
        assert.strictEqual(findPulumiOnPath({ PATH: "/nonexistent" }), null);
    });

    it("fails fast when the CLI is not logged in", async () => {
        const cli = fakeCli();
        try {
            const backend = new AutomationBackend({
                root: REPO_ROOT,
                env: { ...cli.env, FAKE_PULUMI_LOGGED_OUT: "1" },
                workersDir: cli.workersDir,
            });
            await assert.rejects(backend.prepare(), /not logged in to a backend \(pulumi login\): error: PULUMI_ACCESS_TOKEN must be set/);
            assert.ok(!cli.calls().some((c) => c.args[0] === "plugin"), "nothing installed");
        } finally {
            cli.remove();
        }
    });

    it("installs each plugin once before fanning out, runs each worker in its own copy of the project, and reads changes, policy events, 409s and errors", async () => {
        const cli = fakeCli();
        try {
            const backend = new AutomationBackend({ root: REPO_ROOT, env: cli.env, organization: "acme", workersDir: cli.workersDir });
            const progress: string[] = [];
            const report = await runFleet({
                operation: "preview",
                backend,
                parallel: 3,
                plan: {
                    steps: [
                        { wave: "shared", label: "shared", stacks: ["shared"] },
                        { wave: 1, label: "wave 1", stacks: ["client-a", "client-b", "x-busy", "x-fail", "x-policy"] },
                    ],
                    haltReason: () => undefined,
                },
                progress: {
                    stackStarted() {},
                    stackProgress: (s, l) => progress.push(`${s}: ${l}`),
                    stackFinished() {},
                    stepFinished() {},
                },
            });
            const calls = cli.calls();

            const plugins = resourcePlugins(REPO_ROOT);
            assert.ok(
                plugins.some((p) => p.name === "kubernetes"),
                "the program's plugins are found in node_modules",
            );
            const installs = calls.filter((c) => c.args[0] === "plugin");
            assert.deepStrictEqual(
                installs.map((c) => c.args.slice(2, 5)),
                plugins.map((p) => ["resource", p.name, p.version]),
            );
            const stackCalls = calls.filter((c) => c.args[0] === "stack" || c.args[0] === "preview");
            assert.ok(
                Math.min(...stackCalls.map((c) => c.started)) >= Math.max(...installs.map((c) => c.ended)),
                "every install finished before the first stack",
            );
            for (let i = 1; i < installs.length; i++) assert.ok(installs[i].started >= installs[i - 1].ended, "installs never overlap");

            const previews = calls.filter((c) => c.args[0] === "preview");
            assert.deepStrictEqual(previews.map((c) => c.args[c.args.indexOf("--stack") + 1]).sort(), [
                "acme/stock/client-a",
                "acme/stock/client-b",
                "acme/stock/shared",
                "acme/stock/x-busy",
                "acme/stock/x-fail",
                "acme/stock/x-policy",
            ]);
            const cwds = new Set(stackCalls.map((c) => c.cwd));
            assert.ok(![...cwds].includes(REPO_ROOT), "no stack runs in the shared project directory");
            assert.ok(cwds.size >= 2 && cwds.size <= 3, `one directory per worker (${[...cwds].join(", ")})`);
            for (const a of stackCalls) {
                for (const b of stackCalls) {
                    const overlap = a !== b && a.started < b.ended && b.started < a.ended;
                    if (overlap)
                        assert.notStrictEqual(a.cwd, b.cwd, `${a.args.join(" ")} and ${b.args.join(" ")} ran at once in one directory`);
                }
            }
            for (const c of previews) {
                assert.strictEqual(c.args[c.args.indexOf("--policy-pack") + 1], path.join(c.cwd, "policy"));
            }
            assert.ok(!fs.existsSync(cli.workersDir) || fs.readdirSync(cli.workersDir).length === 0, "worker copies removed");

            const r = Object.fromEntries(report.stacks.map((s) => [s.stack, s]));
            assert.deepStrictEqual(r["client-a"].changes, { create: 2, update: 1, replace: 0, delete: 0, same: 5 });
            assert.strictEqual(r["client-a"].result, "succeeded");
            assert.strictEqual(r["x-busy"].result, "busy");
            assert.strictEqual(r["x-fail"].result, "failed");
            assert.match(r["x-fail"].error!, /has 1 configuration problem/);
            assert.strictEqual(r["x-policy"].policyViolations, 1);
            assert.strictEqual(r["client-a"].policyViolations, 0);
            assert.ok(progress.includes("client-a: create kubernetes:apps/v1:Deployment client-a-api"), progress.join("\n"));
            assert.ok(progress.some((l) => l.startsWith("x-policy: policy image-from-allowed-registry (mandatory)")));
        } finally {
            cli.remove();
        }
    });

    it("copies a worker's project faithfully (same relative paths), and up reads the update's summary", async () => {
        const cli = fakeCli();
        try {
            const backend = new AutomationBackend({ root: REPO_ROOT, env: cli.env, workersDir: cli.workersDir });
            await backend.prepare();
            const worker = await backend.openWorker(0);
            const runDir = fs.readdirSync(cli.workersDir).map((d) => path.join(cli.workersDir, d))[0];
            const dir = path.join(runDir, "worker-0");
            for (const f of [
                "Pulumi.yaml",
                "Pulumi.client-a.yaml",
                "index.ts",
                "components/program.ts",
                "charts/backend-api/Chart.yaml",
                "policy/config.json",
            ]) {
                assert.ok(fs.readFileSync(path.join(dir, f)).equals(fs.readFileSync(path.join(REPO_ROOT, f))), f);
            }
            assert.strictEqual(fs.realpathSync(path.join(dir, "node_modules")), fs.realpathSync(path.join(REPO_ROOT, "node_modules")));
            assert.ok(!fs.existsSync(path.join(dir, ".git")) && !fs.existsSync(path.join(dir, ".cache")));
            const outcome = await worker.run("client-a", "up", { previewOnly: false, refresh: false, onProgress() {} });
            assert.deepStrictEqual(outcome.changeSummary, { create: 2, update: 1, same: 5 });
            await worker.close();
            assert.ok(!fs.existsSync(dir));
        } finally {
            cli.remove();
        }
    });
});
