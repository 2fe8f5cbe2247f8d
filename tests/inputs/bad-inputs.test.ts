// Bad input a new user would try, through the real program under mocks (or the plan CLI): each is
// refused before any resource, naming the key, the stack file and a fix that passes every other
// rule; or, where a user may mean it, accepted with a warning that says so.
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { z } from "zod";
import { ConfigError, KEYS, KeySpec } from "../../components/config";
import { RecordedResource, RunOptions, defaultSharedOutputs, runProgram } from "../../tools/lib/mock-run";
import { Scratch, scratchCopy } from "../../tools/lib/scratch";
import { REPO_ROOT, loadStackConfig } from "../../tools/lib/stack-files";
import { main } from "../../tools/plan";
import { withTenantUnlisted } from "../../tools/lib/tenants";
import * as YAML from "yaml";

/** Runs the stack and expects a refusal; returns the message. Nothing but the shared stack's reference was registered. */
async function refused(stack: string, options: RunOptions, ...fragments: Array<string | RegExp>): Promise<string> {
    const recorded: RecordedResource[] = [];
    let message = "";
    try {
        await runProgram(stack, { ...options, recorded });
    } catch (e) {
        message = (e as Error).message;
    }
    assert.ok(message, `expected ${stack} to be refused`);
    for (const f of fragments) {
        if (typeof f === "string") assert.ok(message.includes(f), `expected "${f}" in:\n${message}`);
        else assert.match(message, f);
    }
    assert.ok(message.includes(`Pulumi.${stack}.yaml`), `names the stack file:\n${message}`);
    assert.match(message, /Fix: /, "says how to fix it");
    assert.deepStrictEqual(
        recorded.map((r) => r.type).filter((t) => t !== "pulumi:pulumi:StackReference"),
        [],
        "nothing is created",
    );
    return message;
}

function problems(stack: string, overrides: Record<string, unknown>, secrets?: string[]): string[] {
    try {
        loadStackConfig(stack, { overrides, secrets });
    } catch (e) {
        if (e instanceof ConfigError) return e.problems;
        throw e;
    }
    return [];
}

async function planCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    let stdout = "";
    let stderr = "";
    const code = await main(args, { write: (t: string) => (stdout += t) }, { write: (t: string) => (stderr += t) });
    return { code, stdout, stderr };
}

describe("bad input: conflicts between stacks", function () {
    this.timeout(120000);
    let repo: Scratch;
    const edit = (file: string, from: string | RegExp, to: string) => {
        const text = fs.readFileSync(repo.file(file), "utf8");
        const next = text.replace(from, to);
        assert.notStrictEqual(next, text, `${file} contains ${from}`);
        fs.writeFileSync(repo.file(file), next);
    };
    beforeEach(() => {
        repo = scratchCopy("stock-conflicts-");
    });
    afterEach(() => repo.remove());

    it("refuses a second stack file deploying a tenant another stack file deploys", async () => {
        edit("Pulumi.client-b.yaml", "stock:tenant: client-b", "stock:tenant: client-a");
        await refused(
            "client-b",
            { root: repo.root },
            "stock:tenant in Pulumi.client-b.yaml is 'client-a', which Pulumi.client-a.yaml (stack client-a) already deploys",
            "Fix: pulumi config set stock:tenant 'client-b' -s client-b",
        );
    });

    it("refuses, at up, a stack the shared stack does not name as the tenant's stack (stack files kept elsewhere)", async () => {
        // Only the shared stack knows: this stack's file is the only tenant file here.
        fs.renameSync(repo.file("Pulumi.client-a.yaml"), repo.file("Pulumi.client-z.yaml"));
        fs.rmSync(repo.file("Pulumi.client-b.yaml"));
        await refused(
            "client-z",
            { root: repo.root },
            "tenant 'client-a' (stock:tenant in Pulumi.client-z.yaml) is deployed by stack 'client-a' according to stock:tenants of 'organization/stock/shared'",
            "to move the tenant here, change its entry in stock:tenants of Pulumi.shared.yaml to 'client-a@client-z'",
        );
        // Done that way, the shared stack hands the tenant to client-z.
        edit("Pulumi.shared.yaml", "    - client-a\n", "    - client-a@client-z\n");
        const run = await runProgram("client-z", { root: repo.root });
        assert.strictEqual(run.outputs.namespace, "client-a");
    });

    it("takes a shared stack without tenantStacks (an older version) to name each tenant's own stack, and refuses one whose list disagrees", async () => {
        const older = defaultSharedOutputs();
        delete older.tenantStacks;
        assert.strictEqual((await runProgram("client-a", { sharedOutputs: older })).outputs.namespace, "client-a");
        fs.renameSync(repo.file("Pulumi.client-a.yaml"), repo.file("Pulumi.client-z.yaml"));
        await refused("client-z", { root: repo.root, sharedOutputs: older }, "is deployed by stack 'client-a'");
        await refused(
            "client-a",
            { sharedOutputs: { ...older, tenantStacks: { "client-b": "client-b" } } },
            "does not say which stack deploys tenant 'client-a'",
        );
    });

    it("refuses two stacks serving one host, suggesting a host no stack uses", async () => {
        edit("Pulumi.client-b.yaml", "stock:host: app.client-b.feng.local", "stock:host: app.client-a.feng.local");
        await refused(
            "client-b",
            { root: repo.root },
            "stock:host in Pulumi.client-b.yaml is 'app.client-a.feng.local', which Pulumi.client-a.yaml (stack client-a) also serves",
            "Fix: pulumi config set stock:host 'app.client-b.feng.local' -s client-b",
        );
    });

    it("refuses a host another stack serves as its API host, and an API host another stack serves", async () => {
        edit(
            "Pulumi.client-a.yaml",
            "stock:host: app.client-a.feng.local",
            "stock:host: app.client-a.feng.local\n  stock:apiHost: api.client-a.feng.local",
        );
        edit("Pulumi.client-b.yaml", "stock:host: app.client-b.feng.local", "stock:host: api.client-a.feng.local");
        await refused(
            "client-b",
            { root: repo.root },
            "stock:host in Pulumi.client-b.yaml is 'api.client-a.feng.local', which Pulumi.client-a.yaml (stack client-a) also serves as its stock:apiHost",
            "Fix: pulumi config set stock:host 'api.client-b.feng.local' -s client-b",
        );
        edit(
            "Pulumi.client-b.yaml",
            "stock:host: api.client-a.feng.local",
            "stock:host: app.client-b.feng.local\n  stock:apiHost: api.client-a.feng.local",
        );
        await refused(
            "client-b",
            { root: repo.root },
            "stock:apiHost in Pulumi.client-b.yaml is 'api.client-a.feng.local', which Pulumi.client-a.yaml (stack client-a) also serves as its stock:apiHost",
        );
    });

    it("lets two stacks build with one buildFor: each stages its own computed dotenv, and no hint edits another tenant's file", async () => {
        edit("Pulumi.client-b.yaml", "stock:tenant: client-b", "stock:tenant: client-b\n  stock:buildFor: client-a");
        const b = await runProgram("client-b", { root: repo.root });
        const a = await runProgram("client-a", { root: repo.root });
        assert.strictEqual(b.outputs.frontendDotenv, "REACT_APP_HOST_URL=http://app.client-b.feng.local\n");
        assert.strictEqual(a.outputs.frontendDotenv, "REACT_APP_HOST_URL=http://app.client-a.feng.local\n");
        assert.notStrictEqual(a.outputs.frontendImage, b.outputs.frontendImage, "their images differ by the computed URL");
        // A hand-written envs/client-a serves client-a only: client-b is told to take its own buildFor.
        fs.mkdirSync(repo.file("app/frontend/envs"), { recursive: true });
        fs.writeFileSync(repo.file("app/frontend/envs/client-a"), "REACT_APP_HOST_URL=http://app.client-a.feng.local\n");
        const message = await refused(
            "client-b",
            { root: repo.root },
            "envs/client-a sets REACT_APP_HOST_URL=http://app.client-a.feng.local, but stack 'client-b' (Pulumi.client-b.yaml) computes REACT_APP_HOST_URL=http://app.client-b.feng.local",
            "Fix: leave",
            "pulumi config set stock:buildFor client-b -s client-b",
        );
        assert.ok(!/delete the line|put the line/.test(message), `no hint to edit envs/client-a:\n${message}`);
    });

    it("names the file of a YAML syntax error, in the stack's own file or a sibling's", async () => {
        fs.writeFileSync(repo.file("Pulumi.client-b.yaml"), "config:\n  stock:tenant: client-b\n   stock:host: [app\n");
        const own = await planCli(["--stack", "client-b", "--root", repo.root]);
        assert.strictEqual(own.code, 1);
        assert.match(
            own.stderr,
            /Pulumi\.client-b\.yaml is not valid YAML at line \d+, column \d+: .*Fix: correct .*Pulumi\.client-b\.yaml at line/,
        );
        const sibling = await planCli(["--stack", "client-a", "--root", repo.root]);
        assert.strictEqual(sibling.code, 1);
        assert.match(sibling.stderr, /Pulumi\.client-b\.yaml is not valid YAML at line \d+/);
        fs.appendFileSync(repo.file("Pulumi.yaml"), "  broken: [\n");
        const project = await planCli(["--stack", "client-a", "--root", repo.root]);
        assert.strictEqual(project.code, 1);
        assert.match(project.stderr, /Pulumi\.yaml is not valid YAML at line \d+, column \d+/);
    });

    it("notices a tenant removed from Pulumi.shared.yaml", async () => {
        edit("Pulumi.shared.yaml", "    - client-b\n", "");
        await refused(
            "client-b",
            { root: repo.root },
            "tenant 'client-b' (stock:tenant) is not allowed on the shared Redis",
            "Fix: add client-b to stock:tenants in Pulumi.shared.yaml",
        );
    });
});

describe("bad input: the app a stack builds", function () {
    this.timeout(60000);
    let dir: string;
    before(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "stock-sources-"))));
    after(() => fs.rmSync(dir, { recursive: true, force: true }));
    /** A copy of the stand-in laid out as the real app's checkout (backend/, frontend/). */
    const checkout = (name: string) => {
        const app = path.join(dir, name);
        fs.cpSync(path.join(REPO_ROOT, "fixtures", "upstream-app"), app, { recursive: true });
        return app;
    };

    it("refuses a tenant stack that names no app: no project default builds one; the fix names a checkout of the real app", async () => {
        for (const key of ["backendSource", "frontendSource"] as const) {
            const message = await refused(
                "client-c",
                { overrides: { [`stock:${key}`]: undefined } },
                `stock:${key} is required for tenant stacks but is not set in Pulumi.client-c.yaml. Fix: pulumi config set stock:${key} '../stock/${key === "backendSource" ? "backend" : "frontend"}' -s client-c`,
                "git clone -b dev https://github.com/fengxia41103/stock ../stock",
            );
            assert.strictEqual(message.split("\n").filter((l) => l.startsWith("  - ")).length, 1, message);
        }
        // The suggested value is one the model accepts (where the checkout is, is the operator's).
        assert.deepStrictEqual(problems("client-c", { "stock:backendSource": "../stock/backend" }), []);
    });

    it("refuses a source that does not exist, one without a Dockerfile, and a frontend source that is a backend (no ARG BUILD_FOR), naming key, file and fix", async () => {
        const app = checkout("no-dockerfile");
        await refused(
            "client-c",
            { overrides: { "stock:backendSource": path.join(app, "backnd") } },
            `stock:backendSource in Pulumi.client-c.yaml is ${path.join(app, "backnd")}, which does not exist. Fix: pulumi config set stock:backendSource '../stock/backend' -s client-c`,
        );
        fs.rmSync(path.join(app, "backend", "Dockerfile"));
        await refused(
            "client-c",
            { overrides: { "stock:backendSource": path.join(app, "backend") } },
            `stock:backendSource in Pulumi.client-c.yaml is ${path.join(app, "backend")}, which has no Dockerfile at its top: it is not a build context`,
            "Fix: pulumi config set stock:backendSource '../stock/backend' -s client-c",
        );
        const swapped = checkout("swapped");
        await refused(
            "client-c",
            { overrides: { "stock:frontendSource": path.join(swapped, "backend") } },
            `stock:frontendSource in Pulumi.client-c.yaml is ${path.join(swapped, "backend")}, whose Dockerfile declares no ARG BUILD_FOR`,
            "Fix: pulumi config set stock:frontendSource '../stock/frontend' -s client-c",
        );
        // A frontend whose envs/ the program cannot stage its dotenv into.
        const envsFile = checkout("envs-file");
        fs.rmSync(path.join(envsFile, "frontend", "envs"), { recursive: true });
        fs.writeFileSync(path.join(envsFile, "frontend", "envs"), "REACT_APP_HOST_URL=http://x.example.com\n");
        await refused(
            "client-c",
            { overrides: { "stock:frontendSource": path.join(envsFile, "frontend") } },
            `stock:frontendSource in Pulumi.client-c.yaml is ${path.join(envsFile, "frontend")}, whose envs is not a directory`,
            `Fix: move ${path.join(envsFile, "frontend", "envs")} aside`,
        );
        fs.rmSync(path.join(envsFile, "frontend", "envs"));
        fs.mkdirSync(path.join(envsFile, "frontend", "envs", "client-c"), { recursive: true });
        await refused(
            "client-c",
            { overrides: { "stock:frontendSource": path.join(envsFile, "frontend") } },
            "whose envs/client-c (stock:buildFor) is not a file",
            "or give this stack another stock:buildFor",
        );
        // The same checkout, named the right way round, deploys: its frontend here; its backend once
        // the images stack builds it (stock:backendSources of Pulumi.images.yaml), and not before.
        const run = await runProgram("client-c", { overrides: { "stock:frontendSource": path.join(swapped, "frontend") } });
        assert.strictEqual(run.outputs.namespace, "client-c");
        await refused(
            "client-c",
            { overrides: { "stock:backendSource": path.join(swapped, "backend"), "stock:frontendSource": path.join(swapped, "frontend") } },
            `stock:backendSource of Pulumi.client-c.yaml is '${path.join(swapped, "backend")}', which the images stack 'images' does not build`,
            `Fix: add '${path.join(swapped, "backend")}' to stock:backendSources in Pulumi.images.yaml and run pulumi up -s images`,
        );
    });
});

describe("bad input: one stack's keys", function () {
    this.timeout(60000);

    it("refuses a queue whose only worker has replicas 0", async () => {
        const workers = [
            { name: "default", queues: ["summary", "stock", "statement", "news"], replicas: 1 },
            { name: "price", queues: ["price"], replicas: 0 },
        ];
        const message = await refused(
            "client-a",
            { overrides: { "stock:celeryWorkers": workers } },
            "queue 'price' is consumed only by price (stock:celeryWorkers[1].replicas is 0)",
            "Fix: pulumi config set --path 'stock:celeryWorkers[1].replicas' 1 -s client-a",
        );
        // The suggested value passes.
        workers[1].replicas = 1;
        assert.deepStrictEqual(problems("client-a", { "stock:celeryWorkers": workers }), [], message);
    });

    it("refuses database egress to the whole internet, warns about a wide network, and the model refuses prefixes over 32", async () => {
        await refused(
            "client-a",
            { overrides: { "stock:dbCidr": "0.0.0.0/0" } },
            "stock:dbCidr in Pulumi.client-a.yaml is 0.0.0.0/0",
            "every address on the internet",
            "Fix: pulumi config set stock:dbCidr",
        );
        await refused("client-a", { overrides: { "stock:dbCidr": "10.0.0.0/4" } }, "2^28 addresses");
        for (const bad of ["10.0.0.5/33", "10.0.0.5/99", "10.0.0.5/"])
            assert.match(problems("client-a", { "stock:dbCidr": bad }).join("\n"), /stock:dbCidr .*must be an IPv4 CIDR/, bad);
        const wide = loadStackConfig("client-a", { overrides: { "stock:dbCidr": "10.0.0.0/16" } });
        assert.deepStrictEqual(
            wide.warnings.map((w) => w.split(":")[0] + ":" + w.split(":")[1]),
            ["stock:dbCidr in Pulumi.client-a.yaml is 10.0.0.0/16"],
        );
        assert.match(wide.warnings[0], /65536 addresses/);
        assert.deepStrictEqual(loadStackConfig("client-a").warnings, [], "the repo's stacks warn about nothing");
    });

    it("refuses a key in a mistyped namespace, with the key it means and the command that sets it", async () => {
        await refused(
            "client-a",
            { overrides: { "stok:apiReplicas": "3" } },
            "stok:apiReplicas in Pulumi.client-a.yaml is in namespace 'stok', which neither this program nor its providers read, so it would be ignored (did you mean stock:apiReplicas?)",
            "Fix: pulumi config rm stok:apiReplicas -s client-a and pulumi config set stock:apiReplicas '3' -s client-a",
        );
        assert.match(problems("client-a", { "Stock:hots": "x" }).join("\n"), /did you mean stock:host\?/);
        assert.match(
            problems("client-a", { "acme:thing": "x" }).join("\n"),
            /acme:thing in Pulumi\.client-a\.yaml is in namespace 'acme'.*Fix: pulumi config rm acme:thing -s client-a$/,
        );
        assert.deepStrictEqual(
            problems("client-a", { "docker:host": "unix:///var/run/docker.sock" }),
            [],
            "the docker provider's own keys",
        );
        const ignored = loadStackConfig("client-a", { overrides: { "kubernetes:context": "other" } });
        assert.match(ignored.warnings.join("\n"), /kubernetes:context in Pulumi\.client-a\.yaml is ignored.*stock:kubeContext/);
    });

    it("reports a nested problem at its path with the value found there, and a fix for that path only", () => {
        const workers = [
            { name: "default", queues: ["summary", "stock", "statement", "news"], replicas: 1 },
            { name: "price", queues: ["price"], replicas: -1 },
        ];
        const [problem, ...rest] = problems("client-a", { "stock:celeryWorkers": workers });
        assert.deepStrictEqual(rest, []);
        assert.strictEqual(
            problem,
            "stock:celeryWorkers[1].replicas in Pulumi.client-a.yaml: must be 0 or more (got -1). Fix: pulumi config set --path 'stock:celeryWorkers[1].replicas' <value> -s client-a",
        );
        const unknownField = problems("client-a", {
            "stock:apiResources": { requests: { cpu: "1", memory: "1Gi" }, limits: { cpu: "1", memory: "1Gi" }, limit: {} },
        });
        assert.match(
            unknownField.join("\n"),
            /stock:apiResources in Pulumi\.client-a\.yaml: Unrecognized key: "limit" .*Fix: remove 'limit' from stock:apiResources in Pulumi\.client-a\.yaml; pulumi config rm --path 'stock:apiResources\.limit' -s client-a/,
        );
    });

    it("suggests only values that pass every rule: each key's fix, applied, is accepted", () => {
        let applied = 0;
        for (const [key, spec] of Object.entries(KEYS) as [string, KeySpec][]) {
            if (key === "role") continue; // decides which keys apply: its own test below
            for (const stack of ["client-a", "client-b", "shared"]) {
                if (!spec.roles.includes(stack === "shared" ? "shared" : "tenant")) continue;
                // A value of the wrong shape, or none at all where any string passes.
                const wrong =
                    spec.schema instanceof z.ZodArray ? { not: "a list" } : spec.schema instanceof z.ZodString ? undefined : [1, 2];
                const found = problems(stack, { [`stock:${key}`]: wrong }, spec.secret ? [`stock:${key}`] : []);
                // An optional string: nothing to fix, or only the pairing rule of the pull robot (tested with the program).
                if (!spec.required && wrong === undefined && (found.length === 0 || found.every((p) => p.includes(" go together"))))
                    continue;
                assert.strictEqual(found.length, 1, `${key} on ${stack}: ${found.join("\n")}`);
                assert.match(found[0], new RegExp(`^stock:${key} (in|is) .*Pulumi\\.${stack}\\.yaml`));
                const command = new RegExp(`Fix: pulumi config set stock:${key} '(.*)' -s ${stack}$`).exec(found[0]);
                if (spec.secret) assert.match(found[0], new RegExp(`Fix: pulumi config set --secret stock:${key} -s ${stack}$`));
                else if (spec.fix) assert.ok(!command, "a key with its own fix text");
                else {
                    assert.ok(command, found[0]);
                    let value: unknown = command[1];
                    try {
                        value = JSON.parse(command[1]);
                    } catch {
                        /* a plain string */
                    }
                    assert.deepStrictEqual(
                        problems(stack, { [`stock:${key}`]: value }),
                        [],
                        `the fix of stock:${key} on ${stack}: ${found[0]}`,
                    );
                    applied++;
                }
            }
        }
        assert.ok(applied > 40, `${applied} fixes applied`);
    });

    it("suggests the role a stack's name suggests", () => {
        assert.match(problems("shared", { "stock:role": "shard" }).join(), /Fix: pulumi config set stock:role shared -s shared$/);
        assert.match(problems("client-a", { "stock:role": "tenants" }).join(), /Fix: pulumi config set stock:role tenant -s client-a$/);
    });

    it("gives stock:tenants fixes that never put the shared stack's name in the list", () => {
        const all = [
            ...problems("shared", { "stock:tenants": undefined }),
            ...problems("shared", { "stock:tenants": [] }),
            ...problems("shared", { "stock:tenants": ["client-a", "Client_B"] }),
            ...problems("shared", { "stock:tenants": ["client-a", "client-a"] }),
            ...problems("shared", { "stock:tenants": ["client-a", "redis"] }),
        ];
        assert.strictEqual(all.length, 5, all.join("\n"));
        for (const p of all) {
            assert.match(p, /Pulumi\.shared\.yaml.*Fix: /, p);
            assert.ok(!/tenants.*["' ]shared["',\]]/.test(p.split("Fix:")[1]), `the fix does not list 'shared' as a tenant: ${p}`);
        }
        assert.match(
            all[2],
            /stock:tenants\[1\] in Pulumi\.shared\.yaml: a tenant must be a DNS-1123 label.*\(got "Client_B"\)\. Fix: pulumi config set --path 'stock:tenants\[1\]' <value> -s shared/,
        );
        assert.match(
            problems("shared", { "stock:tenants": ["client-a", "client-b@client-a"] }).join("\n"),
            /has stack 'client-a' deploy client-a and client-b, but a stack deploys exactly one tenant/,
        );
    });

    it("refuses extra env, plain or secret, that the program or its charts set", async () => {
        await refused(
            "client-a",
            { overrides: { "stock:extraSecretEnv": { DJANGO_DB_PWD: "FAKE-SECRET-x" } }, secrets: ["stock:extraSecretEnv"] },
            "stock:extraSecretEnv.DJANGO_DB_PWD in Pulumi.client-a.yaml would override a variable the program or its charts set",
            "Fix: pulumi config rm --path 'stock:extraSecretEnv.DJANGO_DB_PWD' -s client-a",
        );
        await refused("client-a", { overrides: { "stock:extraEnv": { HOME: "/root" } } }, "stock:extraEnv.HOME in Pulumi.client-a.yaml");
        await refused(
            "client-a",
            { overrides: { "stock:extraSecretEnv": { CELERY_HEARTBEAT_FILE: "x" } }, secrets: ["stock:extraSecretEnv"] },
            "stock:extraSecretEnv.CELERY_HEARTBEAT_FILE",
        );
    });

    it("reads extraSecretEnv as `pulumi config set --secret --path` writes it (one secure leaf per variable)", async () => {
        const repo = scratchCopy("stock-secure-path-");
        try {
            fs.appendFileSync(
                repo.file("Pulumi.client-a.yaml"),
                "  stock:extraSecretEnv:\n    SENTRY_DSN:\n      secure: v1:AAAA\n    DJANGO_SECRET_KEY:\n      secure: v1:BBBB\n",
            );
            await refused("client-a", { root: repo.root }, "stock:extraSecretEnv.DJANGO_SECRET_KEY in Pulumi.client-a.yaml would override");
        } finally {
            repo.remove();
        }
    });
});

describe("stock:tenants entries: <tenant> or <tenant>@<stack>", () => {
    it("are what the tenant CLI lists and removes, by tenant", () => {
        const text = "config:\n  stock:role: shared\n  stock:tenants:\n    - client-a\n    - client-b@eu-client-b\n";
        assert.deepStrictEqual(YAML.parse(withTenantUnlisted(text, "client-b")).config["stock:tenants"], ["client-a"]);
        const shared = loadStackConfig("shared", { overrides: { "stock:tenants": ["client-a", "client-b@eu-client-b"] } });
        assert.ok(shared.role === "shared");
        assert.deepStrictEqual(
            [shared.tenants, shared.tenantStacks],
            [["client-a", "client-b"], { "client-a": "client-a", "client-b": "eu-client-b" }],
        );
    });
});
