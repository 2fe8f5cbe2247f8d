import * as assert from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { affectedStacks, readStackFiles } from "../../tools/lib/affected";
import { stackNames } from "../../tools/lib/stack-files";
import { main } from "../../tools/affected";
import { syntheticRepo, tenantName, writeTenantStack } from "../support/synthetic-repo";

describe("affected stacks: the rules, on this repository's stacks", () => {
    const repo = readStackFiles();
    const everyStack = ["images", "shared", ...stackNames().filter((s) => s !== "shared" && s !== "images")];
    const tenantStacks = everyStack.slice(2);
    const stacksOf = (...files: string[]) => affectedStacks(files, repo).stacks;

    it("a stack file → that stack", () => {
        assert.deepStrictEqual(stacksOf("Pulumi.client-a.yaml"), ["client-a"]);
        assert.deepStrictEqual(stacksOf("Pulumi.shared.yaml"), ["shared"]);
        assert.deepStrictEqual(stacksOf("Pulumi.client-b.yaml", "Pulumi.shared.yaml"), ["shared", "client-b"], "shared first");
    });

    it("the images stack's file → the images stack and every tenant, which check their backend image against it", () => {
        const result = affectedStacks(["Pulumi.images.yaml"], repo);
        assert.deepStrictEqual(result.stacks, ["images", ...tenantStacks]);
        assert.match(result.files[0].why, /images stack's file/);
        assert.deepStrictEqual(stacksOf("Pulumi.client-b.yaml", "Pulumi.shared.yaml", "Pulumi.images.yaml").slice(0, 2), [
            "images",
            "shared",
        ]);
    });

    it("a tenant's frontend dotenv → that tenant; a dotenv no one builds with → none", () => {
        assert.deepStrictEqual(stacksOf("app/frontend/envs/client-b"), ["client-b"]);
        assert.deepStrictEqual(stacksOf("app/frontend/envs/nobody-builds-this"), []);
    });

    it("the program, charts, app, runtime, fixtures, policy, Pulumi.yaml, package files, patches → every stack", () => {
        for (const file of [
            "index.ts",
            "components/tenant/tenant.ts",
            "charts/celery/values.yaml",
            "app/backend/manage.py",
            "app/frontend/Dockerfile",
            "app/README.md",
            "runtime/shim.py",
            "fixtures/stock/settings.py",
            "policy/policies.ts",
            "Pulumi.yaml",
            "package.json",
            "package-lock.json",
            "patches/@pulumi+pulumi+3.270.0.patch",
            "tsconfig.json",
        ]) {
            const result = affectedStacks([file], repo);
            assert.ok(result.all, file);
            assert.doesNotMatch(result.files[0].why, /unclassified/, file);
            assert.deepStrictEqual(result.stacks, everyStack, file);
        }
    });

    it("docs, tests, tools and CI config → none; an unclassified file → every stack, saying so", () => {
        assert.deepStrictEqual(
            stacksOf(
                "README.md",
                "SECURITY.md",
                "docs/ci.md",
                "tests/tools/plan.test.ts",
                "tools/plan.ts",
                ".github/workflows/preview.yml",
                ".ci/run",
                "bench/results.md",
            ),
            [],
        );
        const unknown = affectedStacks(["somewhere/new.txt"], repo);
        assert.deepStrictEqual(unknown.stacks, everyStack);
        assert.match(unknown.files[0].why, /unclassified/);
    });

    it("a deleted stack file names the stack as removed, not as one to preview", () => {
        const repoWithout = {
            stacks: repo.stacks.filter((s) => s !== "client-b"),
            tenants: repo.tenants.filter((t) => t.stack !== "client-b"),
        };
        const result = affectedStacks(["Pulumi.client-b.yaml"], repoWithout, ["Pulumi.client-b.yaml"]);
        assert.deepStrictEqual(result.stacks, []);
        assert.deepStrictEqual(result.removed, ["client-b"]);
    });
});

describe("affected stacks: read from stack files", function () {
    this.timeout(60000);

    it("a tenant's own build context outside app/ → that tenant only", () => {
        const repo = syntheticRepo([
            {
                name: "acme",
                config: { "stock:backendSource": "customers/acme/backend", "stock:frontendSource": "customers/acme/frontend" },
            },
            { name: "other" },
        ]);
        try {
            const files = readStackFiles(repo.root);
            assert.deepStrictEqual(
                affectedStacks(["customers/acme/backend/app.py"], files).stacks,
                ["acme"],
                "no images stack builds it yet",
            );
            assert.deepStrictEqual(affectedStacks(["customers/acme/frontend/envs/acme"], files).stacks, ["acme"]);
            assert.deepStrictEqual(affectedStacks(["app/frontend/envs/other"], files).stacks, ["other"]);
            assert.deepStrictEqual(affectedStacks(["app/frontend/envs/acme"], files).stacks, [], "acme builds its own frontend");
        } finally {
            repo.remove();
        }
    });

    it("a backend build context outside app/ → the images stack, which builds it, and every tenant that deploys it", () => {
        const backend = { "stock:backendSource": "customers/shared-backend" };
        const repo = syntheticRepo([{ name: "acme", config: backend }, { name: "bolt", config: backend }, { name: "other" }]);
        try {
            fs.writeFileSync(
                path.join(repo.root, "Pulumi.images.yaml"),
                "config:\n  stock:role: images\n  stock:backendSources: [app/backend, customers/shared-backend]\n",
            );
            const files = readStackFiles(repo.root);
            assert.deepStrictEqual(files.images, { stack: "images", contexts: ["app/backend/", "customers/shared-backend/"] });
            const result = affectedStacks(["customers/shared-backend/fin/models.py"], files);
            assert.deepStrictEqual(result.stacks, ["images", "acme", "bolt"]);
            assert.match(result.files[0].why, /build context/);
        } finally {
            repo.remove();
        }
    });

    it("a 500-tenant repository: exact selection, all in a bounded time", () => {
        const tenants = Array.from({ length: 500 }, (_, i) => ({ name: tenantName(i + 1), wave: i % 5 }));
        const repo = syntheticRepo(tenants);
        try {
            const started = process.hrtime.bigint();
            const files = readStackFiles(repo.root);
            const one = affectedStacks(["Pulumi.t-0250.yaml", "app/frontend/envs/t-0400", "docs/ci.md"], files);
            const all = affectedStacks(["components/tenant/tenant.ts"], files);
            const elapsedMs = Number(process.hrtime.bigint() - started) / 1e6;
            assert.strictEqual(files.stacks.length, 502);
            assert.deepStrictEqual(one.stacks, ["t-0250", "t-0400"]);
            assert.strictEqual(all.stacks.length, 502);
            assert.deepStrictEqual(all.stacks.slice(0, 2), ["images", "shared"]);
            assert.ok(elapsedMs < 20000, `selection over 500 stacks took ${elapsedMs} ms`);
        } finally {
            repo.remove();
        }
    });
});

describe("affected stacks: npm run affected over git", function () {
    this.timeout(60000);
    let repo: { root: string; remove(): void };
    const git = (...args: string[]) =>
        execFileSync("git", ["-C", repo.root, "-c", "user.name=test", "-c", "user.email=test@example.invalid", ...args], {
            encoding: "utf8",
            stdio: ["ignore", "pipe", "pipe"],
        });
    const cli = (args: string[]) => {
        let stdout = "";
        let stderr = "";
        const code = main([...args, "--root", repo.root], { write: (t: string) => (stdout += t) }, { write: (t: string) => (stderr += t) });
        return { code, stdout, stderr };
    };

    beforeEach(() => {
        repo = syntheticRepo([{ name: "t-0001" }, { name: "t-0002" }, { name: "t-0003" }]);
        git("init", "-q", "-b", "main");
        git("add", "-A");
        git("commit", "-qm", "base");
        git("checkout", "-qb", "change");
    });
    afterEach(() => repo.remove());

    it("prints the stacks the branch's commits affect (not main's since), one per line, or JSON", () => {
        git("checkout", "-q", "main");
        writeTenantStack(repo.root, { name: "t-0001", wave: 3 });
        git("commit", "-qam", "main moves on");
        git("checkout", "-q", "change");
        writeTenantStack(repo.root, { name: "t-0002", wave: 0 });
        fs.mkdirSync(path.join(repo.root, "docs"));
        fs.writeFileSync(path.join(repo.root, "docs", "new.md"), "# notes\n");
        git("add", "-A");
        git("commit", "-qm", "canary t-0002, docs");
        const plain = cli(["--base", "main", "--why"]);
        assert.strictEqual(plain.code, 0, plain.stderr);
        assert.strictEqual(plain.stdout, "t-0002\n");
        assert.match(plain.stderr, /^Pulumi\.t-0002\.yaml: t-0002 \(its stack file\)$/m);
        assert.match(plain.stderr, /^docs\/new\.md: no stack \(read by no deployment\)$/m);
        const json = JSON.parse(cli(["--base", "main", "--json"]).stdout);
        assert.deepStrictEqual([json.base, json.all, json.stacks], ["main", false, ["t-0002"]]);
    });

    it("a program change affects every stack; a deleted stack is noted; docs only prints nothing", () => {
        fs.writeFileSync(path.join(repo.root, "README.md"), "# readme\n");
        git("add", "-A");
        git("commit", "-qm", "docs");
        assert.strictEqual(cli(["--base", "main"]).stdout, "");
        fs.rmSync(path.join(repo.root, "Pulumi.t-0003.yaml"));
        fs.appendFileSync(path.join(repo.root, "Pulumi.yaml"), "# touched\n");
        git("add", "-A");
        git("commit", "-qm", "program, drop t-0003");
        const r = cli(["--base", "main"]);
        assert.strictEqual(r.stdout, "images\nshared\nt-0001\nt-0002\n");
        assert.match(r.stderr, /deletes Pulumi\.t-0003\.yaml; stack t-0003 cannot be previewed/);
    });

    it("an unknown ref exits 1 saying how to fetch it; no --base exits 2", () => {
        const r = cli(["--base", "no-such-ref"]);
        assert.strictEqual(r.code, 1);
        assert.match(r.stderr, /cannot diff against 'no-such-ref'.*fetch-depth: 0/s);
        assert.strictEqual(cli([]).code, 2);
        assert.strictEqual(cli(["--base", "main", "--nope"]).code, 2);
    });
});
