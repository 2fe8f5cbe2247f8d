import * as assert from "assert";
import { execFile } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { promisify } from "util";
import * as YAML from "yaml";
import { renderChart } from "../../tools/lib/helm";
import { UNKNOWN, runProgram } from "../../tools/lib/mock-run";
import { FAKE_SECRET_MARKER, REPO_ROOT, loadStackConfig } from "../../tools/lib/stack-files";
import { buildPlan, formatPlan, objectKey, redact } from "../../tools/lib/plan";
import { redisPasswords } from "../../components/redis/passwords";
import { main } from "../../tools/plan";
import { diffPlans, formatDiff } from "../../tools/lib/plan-diff";

const run = promisify(execFile);
const NODE = path.join(REPO_ROOT, "node_modules", ".bin", "node");

interface CliResult {
    code: number;
    stdout: string;
    stderr: string;
}

/** Runs the plan CLI in its own process, as `npm run plan` does. */
async function planProcess(args: string[]): Promise<CliResult> {
    try {
        const { stdout, stderr } = await run(
            NODE,
            ["-r", "ts-node/register/transpile-only", path.join(REPO_ROOT, "tools/plan.ts"), ...args],
            { cwd: REPO_ROOT, maxBuffer: 16 << 20 },
        );
        return { code: 0, stdout, stderr };
    } catch (e: any) {
        return { code: e.code ?? 1, stdout: e.stdout ?? "", stderr: e.stderr ?? "" };
    }
}

/** Runs the same CLI in this process (the same code path, without a second Node start-up). */
async function planCli(args: string[]): Promise<CliResult> {
    let stdout = "";
    let stderr = "";
    const code = await main(args, { write: (t: string) => (stdout += t) }, { write: (t: string) => (stderr += t) });
    return { code, stdout, stderr };
}

describe("plan: an offline picture of what pulumi up would do", function () {
    this.timeout(120000);

    it("lists for client-a the namespace, env ConfigMap and Secret, pull secret, images and every object of the three charts", async () => {
        const plan = await buildPlan("client-a");
        const text = formatPlan(plan);
        for (const expected of [
            "v1/Namespace   ",
            "client-a/stock-backend-env",
            "client-a/stock-backend-secret",
            "client-a/harbor",
            "client-a/default-deny",
        ]) {
            assert.ok(text.includes(expected), `plan mentions ${expected}`);
        }
        assert.match(
            text,
            /Backend image \(built and pushed by stack images, Pulumi\.images\.yaml, never by this stack; `pulumi up` first checks that Harbor has it\)\n {2}backend +harbor\.feng\.local:9800\/library\/stock_backend:ctx-[0-9a-f]{16} +context app\/backend\n/,
        );
        assert.deepStrictEqual(
            plan.images.map((i) => i.name),
            ["frontend"],
            "the only image the tenant builds",
        );
        assert.match(
            text,
            /frontend +harbor\.feng\.local:9800\/library\/frontend_stock:ctx-[0-9a-f]{16} +context \.build\/client-a\/frontend +BUILD_FOR=client-a secret npm_token=\[secret\]/,
        );
        assert.ok(
            text.includes("Frontend dotenv (written into the staged build context)\n  REACT_APP_HOST_URL=http://app.client-a.feng.local\n"),
            text,
        );
        assert.ok(text.includes("frontend   http://app.client-a.feng.local/"));
        assert.ok(text.includes("server_name app.client-a.feng.local;"));

        // Every object the charts render with the program's values is in the plan.
        const program = await runProgram("client-a");
        for (const chart of program.ofType("kubernetes:helm.sh/v4:Chart")) {
            const objects = await renderChart(path.basename(chart.inputs.chart) as any, chart.inputs.values, "client-a", chart.inputs.name);
            assert.ok(objects.length >= 4, `${chart.name} renders objects`);
            for (const o of objects) {
                const key = objectKey({
                    apiVersion: o.apiVersion,
                    kind: o.kind,
                    namespace: o.metadata.namespace ?? "client-a",
                    name: o.metadata.name,
                });
                assert.ok(
                    plan.objects.some((p) => objectKey(p) === key),
                    `plan lists ${key}`,
                );
                assert.ok(text.includes(`${o.kind}`) && text.includes(`client-a/${o.metadata.name}`), `plan text lists ${key}`);
            }
        }
    });

    it("plans the images stack: every backend it would build when Harbor lacks the tags, and nothing on a cluster", async () => {
        const plan = await buildPlan("images");
        const text = formatPlan(plan);
        assert.match(text, /^Plan for stack images \(images\)/);
        assert.match(
            text,
            /Images \(built and pushed by `pulumi up` when Harbor does not have the tag yet; a preview never builds or pushes\)/,
        );
        assert.deepStrictEqual(
            plan.images.map((i) => [i.name, i.context]),
            [
                ["backend-app-backend", "app/backend"],
                ["backend-fixtures-upstream-app-backend", "fixtures/upstream-app/backend"],
            ],
        );
        const tenant = await buildPlan("client-c");
        assert.ok(
            plan.images.some((i) => i.image === tenant.backend?.image),
            "client-c deploys one of them",
        );
        assert.deepStrictEqual(plan.objects, [], "no Kubernetes object");
    });

    it("shows secret values as [secret], never their text, the seed-derived Redis passwords included", async () => {
        const shared = loadStackConfig("shared");
        assert.ok(shared.role === "shared");
        const passwords = redisPasswords(shared);
        const derived = [passwords.defaultPassword, ...Object.values(passwords.tenants)];
        assert.strictEqual(derived.length, 1 + shared.tenants.length);
        for (const stack of ["shared", "client-a", "client-b"]) {
            const plan = await buildPlan(stack);
            const all = formatPlan(plan) + JSON.stringify(plan);
            assert.ok(!all.includes(FAKE_SECRET_MARKER), `no secret in the plan of ${stack}`);
            for (const d of derived) assert.ok(!all.includes(d), `no derived Redis password in the plan of ${stack}`);
        }
        const sharedText = formatPlan(await buildPlan("shared"));
        assert.ok(sharedText.includes("  redisCredential-client-a = [secret]\n"), sharedText);
        const plan = await buildPlan("client-a");
        const pull = plan.objects.find((o) => o.kind === "Secret" && o.name === "harbor")!;
        assert.deepStrictEqual(pull.body.stringData, { ".dockerconfigjson": "[secret]" });
        // Its generated DJANGO_SECRET_KEY is unknown before the first up, so the data is shown whole.
        const env = plan.objects.find((o) => o.kind === "Secret" && o.name === "stock-backend-secret")!;
        assert.strictEqual(env.body.stringData, "[secret]");
    });

    it("redacts secret values wherever they sit, not only in Secrets", () => {
        const { specialSigKey, specialSecretSig } = require("@pulumi/pulumi/runtime/rpc");
        const secret = (value: unknown) => ({ [specialSigKey]: specialSecretSig, value });
        const planted = {
            kind: "ConfigMap",
            data: { PLAIN: "1", TOKEN: secret("FAKE-SECRET-planted") },
            list: [secret({ nested: "FAKE-SECRET-deep" }), "ok"],
        };
        assert.deepStrictEqual(redact(planted), { kind: "ConfigMap", data: { PLAIN: "1", TOKEN: "[secret]" }, list: ["[secret]", "ok"] });
        assert.strictEqual(redact(UNKNOWN), "[unknown until up]");
    });

    it("lists the secrets a stack still needs (exit 0), which pulumi up refuses without", async () => {
        const result = await planCli(["--stack", "client-a"]);
        assert.strictEqual(result.code, 0, result.stderr);
        const section = result.stdout.split("Secrets not set for stack client-a")[1]?.split("\n\n")[0] ?? "";
        assert.deepStrictEqual(
            section
                .split("\n")
                .slice(1)
                .map((l) => l.trim().split(/\s+/)[0]),
            ["stock:dbPassword", "stock:harborPassword", "stock:harborPullPassword", "stock:npmToken"],
            result.stdout,
        );
        assert.ok(section.includes("pulumi config set --secret stock:dbPassword -s client-a"), section);
        const plan = await buildPlan("client-a", { overrides: { "stock:npmToken": "set-by-the-user" }, secrets: ["stock:npmToken"] });
        assert.deepStrictEqual(plan.missingSecrets, ["stock:dbPassword", "stock:harborPassword", "stock:harborPullPassword"]);
        await assert.rejects(
            runProgram("client-a", {
                overrides: { "stock:dbPassword": "x", "stock:harborPassword": "x", "stock:npmToken": "x" },
                secrets: ["stock:dbPassword", "stock:harborPassword", "stock:npmToken"],
                fakeSecrets: false,
            }),
            /stock:harborPullUsername and stock:harborPullPassword .* go together/,
        );
        await assert.rejects(
            runProgram("client-a", { fakeSecrets: false }),
            (e: Error) =>
                ["stock:dbPassword", "stock:harborPassword", "stock:npmToken"].every((k) => e.message.includes(`${k} is required`)) ||
                assert.fail(e.message),
        );
    });

    it("prints the config model's warnings", async () => {
        const plan = await buildPlan("client-a", { overrides: { "stock:dbCidr": "10.0.0.0/16" } });
        assert.match(formatPlan(plan), /\nWarnings\n {2}- stock:dbCidr in Pulumi\.client-a\.yaml is 10\.0\.0\.0\/16/);
    });

    it("reports exactly the changed field between two configs", async () => {
        const before = await buildPlan("client-a");
        const after = await buildPlan("client-a", { overrides: { "stock:apiReplicas": 3 } });
        const diff = await diffPlans(before, after);
        assert.deepStrictEqual(diff.added, []);
        assert.deepStrictEqual(diff.removed, []);
        assert.deepStrictEqual(diff.stack, []);
        assert.deepStrictEqual(
            diff.changed.map((c) => c.key),
            ["apps/v1/Deployment client-a/stock-backend-api", "v1/ResourceQuota client-a/tenant-quota"],
        );
        assert.deepStrictEqual(diff.changed[0].changes, [{ op: "~", path: "spec.replicas", before: 2, after: 3 }]);
        // The namespace's quota follows the replicas (components/tenant/quota.ts): two more pods at the peak of an update.
        assert.deepStrictEqual(diff.changed[1].changes.map((c) => c.path).sort(), [
            "spec.hard.pods",
            'spec.hard["limits.cpu"]',
            'spec.hard["limits.memory"]',
            'spec.hard["requests.cpu"]',
            'spec.hard["requests.memory"]',
        ]);
        assert.deepStrictEqual(
            diff.changed[1].changes.find((c) => c.path === "spec.hard.pods"),
            { op: "~", path: "spec.hard.pods", before: "13", after: "15" },
        );
        assert.strictEqual(
            formatDiff(diff, "client-a", "fixture").split("\n").slice(0, 4).join("\n"),
            [
                "Changes for stack client-a against fixture: 0 to add, 2 to change, 0 to delete",
                "",
                "  ~ apps/v1/Deployment client-a/stock-backend-api   (chart stock-backend-api)",
                "    ~ spec.replicas: 2 -> 3",
            ].join("\n"),
        );
    });

    it("reports added and removed objects and changed images when workers are split", async () => {
        const before = await buildPlan("client-a");
        const after = await buildPlan("client-a", {
            overrides: {
                "stock:celeryWorkers": [
                    { name: "default", queues: ["summary", "stock", "statement", "news"], replicas: 2 },
                    { name: "price", queues: ["price"], replicas: 4 },
                ],
            },
        });
        const diff = await diffPlans(before, after);
        assert.deepStrictEqual(
            diff.added.map(objectKey).filter((k) => k.includes("Deployment")),
            ["apps/v1/Deployment client-a/stock-backend-celery-price"],
        );
        const changedDefault = diff.changed.find((c) => c.key === "apps/v1/Deployment client-a/stock-backend-celery-default")!;
        assert.ok(
            changedDefault.changes.some((c) => JSON.stringify(c).includes("summary,stock,statement,news")),
            JSON.stringify(changedDefault.changes),
        );
    });

    it("CLI: writes one manifest file per object with --out", async () => {
        const out = fs.mkdtempSync(path.join(os.tmpdir(), "plan-out-"));
        const result = await planProcess(["--stack", "client-a", "--out", out]);
        assert.strictEqual(result.code, 0, result.stderr);
        const files = fs.readdirSync(out);
        const plan = await buildPlan("client-a");
        assert.strictEqual(files.length, plan.objects.length);
        assert.ok(result.stdout.includes(`Wrote ${files.length} manifests to ${out}`));
        for (const f of files) {
            const doc = YAML.parse(fs.readFileSync(path.join(out, f), "utf8"));
            assert.ok(doc.apiVersion && doc.kind && doc.metadata?.name, f);
            assert.ok(!JSON.stringify(doc).includes(FAKE_SECRET_MARKER), `${f} holds no secret`);
        }
    });

    it("CLI: exits non-zero with the validation message for a stack that fails validation, and 2 for bad arguments", async () => {
        const repo = fs.mkdtempSync(path.join(os.tmpdir(), "plan-bad-"));
        for (const f of ["Pulumi.yaml", "Pulumi.shared.yaml", "index.ts"]) fs.copyFileSync(path.join(REPO_ROOT, f), path.join(repo, f));
        fs.symlinkSync(path.join(REPO_ROOT, "components"), path.join(repo, "components"));
        fs.writeFileSync(
            path.join(repo, "Pulumi.client-x.yaml"),
            "config:\n  stock:tenant: Client_X\n  stock:host: app.client-x.feng.local\n",
        );
        const result = await planCli(["--stack", "client-x", "--root", repo]);
        assert.strictEqual(result.code, 1);
        assert.match(result.stderr, /plan failed: Stack 'client-x' has \d+ configuration problems \(Pulumi\.client-x\.yaml\)/);
        assert.match(
            result.stderr,
            /stock:tenant in Pulumi\.client-x\.yaml: the tenant must be a DNS-1123 label.*Fix: pulumi config set stock:tenant 'client-x' -s client-x/,
        );
        assert.match(result.stderr, /stock:dbName is required/);
        assert.strictEqual((await planCli(["--stack", "nope"])).code, 2);
        assert.strictEqual((await planCli(["--bogus"])).code, 2);
    });

    it("CLI: --diff REF compares against the plan at a git ref", async () => {
        const clone = fs.mkdtempSync(path.join(os.tmpdir(), "plan-diff-"));
        await run("git", ["clone", "-q", REPO_ROOT, clone]);
        fs.symlinkSync(path.join(REPO_ROOT, "node_modules"), path.join(clone, "node_modules"));
        const file = path.join(clone, "Pulumi.client-b.yaml");
        const same = await planCli(["--stack", "client-b", "--root", clone, "--diff", "HEAD"]);
        assert.strictEqual(same.code, 0, same.stderr);
        assert.strictEqual(same.stdout, "No changes for stack client-b against HEAD.\n");
        fs.writeFileSync(file, fs.readFileSync(file, "utf8").replace("stock:apiReplicas: 3", "stock:apiReplicas: 5"));
        const changed = await planCli(["--stack", "client-b", "--root", clone, "--diff", "HEAD"]);
        assert.strictEqual(changed.code, 0, changed.stderr);
        assert.ok(
            changed.stdout.includes(
                "  ~ apps/v1/Deployment client-b/stock-backend-api   (chart stock-backend-api)\n    ~ spec.replicas: 3 -> 5\n",
            ),
            changed.stdout,
        );
        const unknown = await planCli(["--stack", "client-b", "--root", clone, "--diff", "no-such-ref"]);
        assert.strictEqual(unknown.code, 1);
        assert.match(unknown.stderr, /plan failed: cannot read git ref 'no-such-ref'/);
    });
});
