/**
 * A fleet worker's copy of the project (tools/lib/fleet/worker-dir.ts): the program run from it
 * must see what it sees from the repository, build contexts outside the repository included
 * (`stock:backendSource: ../stock/backend`, README "Add a customer").
 */
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { AutomationBackend } from "../../tools/lib/fleet/automation";
import { main as plan } from "../../tools/plan";
import { main as tenant } from "../../tools/tenant";
import { createWorkerDir } from "../../tools/lib/fleet/worker-dir";
import { scratchCopy } from "../../tools/lib/scratch";
import { REPO_ROOT } from "../../tools/lib/stack-files";

const sink = () => {
    let text = "";
    return { write: (t: string) => (text += t), text: () => text };
};

describe("fleet worker copies: build contexts outside the repository", function () {
    this.timeout(120000);
    let dir: string;
    let root: string;
    before(async () => {
        // The repository, the real app's checkout next to it (../stock, as the README onboards it),
        // and a backend two levels up.
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "stock-worker-dir-"));
        fs.mkdirSync(path.join(dir, "deploy"));
        fs.cpSync(path.join(REPO_ROOT, "fixtures", "upstream-app"), path.join(dir, "deploy", "stock"), { recursive: true });
        fs.cpSync(path.join(REPO_ROOT, "fixtures", "upstream-app", "backend"), path.join(dir, "far-backend"), { recursive: true });
        root = scratchCopy("unused-", REPO_ROOT, path.join(dir, "deploy", "stock-deploy")).root;
        const err = sink();
        const code = await tenant(
            [
                "add",
                "client-d",
                "--host",
                "app.client-d.example.com",
                "--backend-source",
                "../stock/backend",
                "--frontend-source",
                "../stock/frontend",
                "--root",
                root,
            ],
            { stdout: sink(), stderr: err },
        );
        assert.strictEqual(code, 0, err.text());
        const code2 = await tenant(
            [
                "add",
                "client-e",
                "--host",
                "app.client-e.example.com",
                "--backend-source",
                "../../far-backend",
                "--frontend-source",
                "../stock/frontend",
                "--root",
                root,
            ],
            { stdout: sink(), stderr: err },
        );
        assert.strictEqual(code2, 0, err.text());
    });
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    it("resolves ../ build contexts from the worker as from the repository, at the same relative paths", async () => {
        const workerDir = path.join(root, ".cache", "fleet", "run-test", "worker-0");
        const project = createWorkerDir(root, workerDir);
        try {
            for (const ref of ["../stock/backend", "../stock/frontend", "../../far-backend"]) {
                const fromWorker = path.resolve(project, ref);
                assert.ok(fs.existsSync(fromWorker), `${ref} from the worker (${fromWorker})`);
                assert.strictEqual(fs.realpathSync(fromWorker), fs.realpathSync(path.resolve(root, ref)), ref);
            }
            // The program itself, run from the worker's copy, accepts the stacks and plans the same images.
            for (const stack of ["client-d", "client-e", "images"]) {
                const fromRepo = sink();
                const fromWorker = sink();
                const err = sink();
                assert.strictEqual(await plan(["--stack", stack, "--root", root], fromRepo, err), 0, err.text());
                assert.strictEqual(await plan(["--stack", stack, "--root", project], fromWorker, err), 0, err.text());
                const images = (text: string) => text.split("\n").filter((l) => /:ctx-[0-9a-f]{16}/.test(l));
                assert.ok(images(fromRepo.text()).length > 0, fromRepo.text());
                assert.deepStrictEqual(images(fromWorker.text()), images(fromRepo.text()), stack);
            }
        } finally {
            fs.rmSync(workerDir, { recursive: true, force: true });
        }
        assert.ok(fs.existsSync(path.join(dir, "deploy", "stock", "backend", "Dockerfile")), "removing the worker leaves the app alone");
        assert.ok(fs.existsSync(path.join(dir, "far-backend", "Dockerfile")));
    });

    it("the Automation API backend runs each stack in that copy", async () => {
        const bin = path.join(dir, "bin");
        fs.mkdirSync(bin, { recursive: true });
        const node = fs.realpathSync(path.join(REPO_ROOT, "node_modules", ".bin", "node"));
        fs.writeFileSync(
            path.join(bin, "pulumi"),
            `#!/bin/sh\nexec "${node}" "${path.join(REPO_ROOT, "tests/support/fake-pulumi-cli.js")}" "$@"\n`,
            {
                mode: 0o755,
            },
        );
        const log = path.join(dir, "calls.jsonl");
        fs.writeFileSync(log, "");
        const backend = new AutomationBackend({
            root,
            env: { ...process.env, PATH: `${bin}${path.delimiter}${process.env.PATH}`, FAKE_PULUMI_LOG: log },
        });
        await backend.prepare();
        const worker = await backend.openWorker(0);
        let cwd: string | undefined;
        try {
            await worker.run("client-d", "preview", { previewOnly: false, refresh: false, onProgress() {} });
            const previews = fs
                .readFileSync(log, "utf8")
                .split("\n")
                .filter(Boolean)
                .map((l) => JSON.parse(l) as { args: string[]; cwd: string })
                .filter((c) => c.args[0] === "preview");
            assert.strictEqual(previews.length, 1);
            cwd = previews[0].cwd;
            assert.ok(fs.existsSync(path.join(cwd, "Pulumi.client-d.yaml")), cwd);
            assert.strictEqual(
                fs.realpathSync(path.resolve(cwd, "../stock/backend")),
                fs.realpathSync(path.resolve(root, "../stock/backend")),
            );
            assert.strictEqual(fs.realpathSync(path.resolve(cwd, "../../far-backend")), fs.realpathSync(path.join(dir, "far-backend")));
        } finally {
            await worker.close();
        }
        assert.ok(!fs.existsSync(cwd), "the copy is removed");
        assert.ok(fs.existsSync(path.join(dir, "deploy", "stock", "backend", "Dockerfile")), "and nothing it linked to");
    });
});
