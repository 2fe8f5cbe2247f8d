/**
 * The frontend's build under mocks: the dotenv the program computes and stages, the content tag of
 * the staged context, the npm token's two modes, and the separate API host (stock:apiHost) with its
 * ingress, TLS, CORS and load-balancer blocks.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { backendEnv, envChecksum } from "../../components/tenant/app-env";
import { chartValues } from "../../components/tenant/chart-values";
import { contentTag } from "../../components/content-hash";
import { mergeDotenv, stageFrontendContext, stagedContextDir } from "../../components/tenant/frontend-env";
import {
    IMAGE_TYPE,
    ProgramRun,
    RecordedResource,
    RunOptions,
    defaultSharedOutputs,
    reveal,
    runProgram,
    unwrapSecret,
} from "../../tools/lib/mock-run";
import { REPO_ROOT, loadTenantConfig } from "../../tools/lib/stack-files";
import { redisCredentialOutput } from "../../components/names";

const CHART = "kubernetes:helm.sh/v4:Chart";
const FIXTURE_FRONTEND = path.join(REPO_ROOT, "fixtures", "upstream-app", "frontend");

function copyOf(dir: string): string {
    const target = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "stock-frontend-")), "frontend");
    fs.cpSync(dir, target, { recursive: true });
    return target;
}

const stagedDotenv = (stack: string, buildFor: string) =>
    fs.readFileSync(path.join(stagedContextDir(REPO_ROOT, stack), "envs", buildFor), "utf8");
const valuesOf = (run: ProgramRun, chart: string) => reveal(run.ofType(CHART).find((c) => c.inputs.chart.endsWith(chart))!.inputs.values);
const frontendImage = (run: ProgramRun) => reveal(run.one(IMAGE_TYPE, `${run.outputs.namespace}-images-frontend`).inputs);

/** client-a's stack file turned into a third tenant that has no dotenv file anywhere. */
const CLIENT_D: RunOptions = {
    overrides: {
        "stock:tenant": "client-d",
        "stock:host": "app.client-d.feng.local",
        "stock:dbName": "stock_client_d",
        "stock:dbUser": "stock_client_d",
        "stock:harborPullUsername": "robot$stock-pull-client-d",
    },
    // The mock stack is client-a; the shared stack hands tenant client-d to it.
    sharedOutputs: {
        ...defaultSharedOutputs(["client-a", "client-b", "client-c", "client-d"]),
        tenantStacks: { "client-a": "client-a", "client-b": "client-b", "client-c": "client-c", "client-d": "client-a" },
    },
};

async function failure(stack: string, options: RunOptions): Promise<{ message: string; resources: string[] }> {
    // What a failing program registered before it failed is recorded too; the shared stack's reference is read after the checks.
    const recorded: RecordedResource[] = [];
    try {
        await runProgram(stack, { ...options, recorded });
    } catch (e) {
        return {
            message: (e as Error).message,
            resources: recorded.map((r) => r.type).filter((t) => t !== "pulumi:pulumi:StackReference"),
        };
    }
    assert.fail(`expected stack ${stack} to fail, it registered ${recorded.map((r) => r.type).join(", ")}`);
}

describe("the frontend's computed dotenv", function () {
    it("client-b plans and stages with no hand-written envs/ file: the staged envs/client-b holds its API origin", async () => {
        assert.ok(!fs.existsSync(path.join(REPO_ROOT, "app", "frontend", "envs", "client-b")));
        const run = await runProgram("client-b");
        assert.strictEqual(stagedDotenv("client-b", "client-b"), "REACT_APP_HOST_URL=http://app.client-b.feng.local\n");
        assert.strictEqual(run.outputs.frontendDotenv, "REACT_APP_HOST_URL=http://app.client-b.feng.local\n");
        assert.deepStrictEqual(frontendImage(run).context, { location: ".build/client-b/frontend" });
        assert.deepStrictEqual(
            fs.readdirSync(path.join(stagedContextDir(REPO_ROOT, "client-b"), "envs")),
            ["client-b"],
            "no other build's dotenv in the context",
        );
        assert.strictEqual(
            run.outputs.frontendImage.split(":").pop(),
            contentTag(stagedContextDir(REPO_ROOT, "client-b"), { BUILD_FOR: "client-b" }),
        );
    });

    it("a third tenant with no dotenv file (buildFor defaults to the tenant) plans and stages, with stock:frontendEnv keys after the URL", async () => {
        const run = await runProgram("client-a", {
            ...CLIENT_D,
            overrides: { ...CLIENT_D.overrides, "stock:frontendEnv": { REACT_APP_TITLE: "Client D stocks" } },
        });
        assert.strictEqual(run.outputs.namespace, "client-d");
        assert.deepStrictEqual(frontendImage(run).buildArgs, { BUILD_FOR: "client-d" });
        // Staged under the stack's name (the mock stack is client-a), for tenant client-d's build.
        assert.strictEqual(
            stagedDotenv("client-a", "client-d"),
            "REACT_APP_HOST_URL=http://app.client-d.feng.local\nREACT_APP_TITLE=Client D stocks\n",
        );
    });

    it("keeps the other keys of an existing envs/<buildFor> that agrees, and a tag that follows only this build's dotenv", async () => {
        const frontend = copyOf(path.join(REPO_ROOT, "app", "frontend"));
        const options = { overrides: { "stock:frontendSource": frontend } };
        const before = await runProgram("client-a", options);
        assert.strictEqual(
            before.outputs.frontendImage,
            (await runProgram("client-a")).outputs.frontendImage,
            "a copy stages to the same tag",
        );
        fs.mkdirSync(path.join(frontend, "envs"));
        fs.writeFileSync(
            path.join(frontend, "envs", "client-b"),
            "REACT_APP_HOST_URL=http://app.client-b.feng.local\nREACT_APP_FEATURE=1\n",
        );
        assert.strictEqual(
            (await runProgram("client-a", options)).outputs.frontendImage,
            before.outputs.frontendImage,
            "another tenant's dotenv does not change client-a's tag",
        );
        fs.writeFileSync(path.join(frontend, "envs", "client-a"), "# client-a's own switches\nREACT_APP_FEATURE=1\n");
        const after = await runProgram("client-a", options);
        assert.notStrictEqual(after.outputs.frontendImage, before.outputs.frontendImage, "its own dotenv's keys are part of its image");
        assert.strictEqual(
            stagedDotenv("client-a", "client-a"),
            "# client-a's own switches\nREACT_APP_FEATURE=1\nREACT_APP_HOST_URL=http://app.client-a.feng.local\n",
        );
    });

    it("refuses an existing envs/<buildFor> whose API URL disagrees, naming the file, both values and a fix that edits no other tenant's file", async () => {
        const frontend = copyOf(path.join(REPO_ROOT, "app", "frontend"));
        fs.mkdirSync(path.join(frontend, "envs"));
        const own = path.join(frontend, "envs", "client-a");
        fs.writeFileSync(own, "REACT_APP_HOST_URL=http://app.client-b.feng.local\n");
        const { message, resources } = await failure("client-a", { overrides: { "stock:frontendSource": frontend } });
        assert.deepStrictEqual(resources, [], "nothing registered");
        assert.ok(
            message.includes(
                `${own} sets REACT_APP_HOST_URL=http://app.client-b.feng.local, but stack 'client-a' (Pulumi.client-a.yaml) computes REACT_APP_HOST_URL=http://app.client-a.feng.local`,
            ),
            message,
        );
        assert.match(
            message,
            /Fix: delete the line REACT_APP_HOST_URL=http:\/\/app\.client-b\.feng\.local from .*envs\/client-a \(the program writes/,
        );
        fs.rmSync(own);

        // client-a building with client-b's dotenv: the fix is its own buildFor, never "write client-a's URL into envs/client-b".
        fs.writeFileSync(path.join(frontend, "envs", "client-b"), "REACT_APP_HOST_URL=http://app.client-b.feng.local\n");
        const other = await failure("client-a", { overrides: { "stock:frontendSource": frontend, "stock:buildFor": "client-b" } });
        assert.match(other.message, /Fix: .*pulumi config set stock:buildFor client-a -s client-a/);
        assert.ok(
            !/put the line REACT_APP_HOST_URL=http:\/\/app\.client-a\.feng\.local in .*envs\/client-b/.test(other.message),
            other.message,
        );
        assert.strictEqual(
            fs.readFileSync(path.join(frontend, "envs", "client-b"), "utf8"),
            "REACT_APP_HOST_URL=http://app.client-b.feng.local\n",
            "the other tenant's file is untouched",
        );
    });

    it("refuses a stock:frontendEnv value that an existing dotenv sets otherwise", () => {
        const { problems } = mergeDotenv(
            "REACT_APP_TITLE=Old\n",
            { REACT_APP_HOST_URL: "http://x.example.com", REACT_APP_TITLE: "New" },
            { file: "envs/client-a", stack: "client-a", buildFor: "client-a", tenant: "client-a" },
        );
        assert.strictEqual(problems.length, 1);
        assert.match(
            problems[0],
            /envs\/client-a sets REACT_APP_TITLE=Old, but stack 'client-a' .* computes REACT_APP_TITLE=New from stock:frontendEnv.REACT_APP_TITLE/,
        );
    });

    it("stages a context whose tag is the same on every run and every checkout path, whatever the files' times", () => {
        const source = path.join(REPO_ROOT, "app", "frontend");
        const text = "REACT_APP_HOST_URL=http://app.client-a.feng.local\n";
        const roots = [
            fs.mkdtempSync(path.join(os.tmpdir(), "checkout-one-")),
            path.join(fs.mkdtempSync(path.join(os.tmpdir(), "checkout-two-")), "deeper", "path"),
        ];
        const tags = roots.map((root) =>
            contentTag(stageFrontendContext(source, "client-a", text, root, "client-a"), { BUILD_FOR: "client-a" }),
        );
        const staged = stagedContextDir(roots[0], "client-a");
        fs.utimesSync(path.join(staged, "build.js"), new Date(0), new Date(0));
        tags.push(contentTag(staged, { BUILD_FOR: "client-a" }));
        tags.push(contentTag(stageFrontendContext(source, "client-a", text, roots[0], "client-a"), { BUILD_FOR: "client-a" }));
        assert.deepStrictEqual(new Set(tags).size, 1, tags.join(" "));
        assert.match(tags[0], /^ctx-[0-9a-f]{16}$/);
        const changed = contentTag(stageFrontendContext(source, "client-a", text.replace("client-a", "client-x"), roots[1], "client-a"), {
            BUILD_FOR: "client-a",
        });
        assert.notStrictEqual(changed, tags[0], "the dotenv's content is part of the tag");
    });
});

describe("the upstream-shaped frontend fixture (fixtures/upstream-app/frontend)", function () {
    it("has only envs/k8s-client-a and envs/local, so a tenant without a file of its own gets the computed one", async () => {
        assert.deepStrictEqual(fs.readdirSync(path.join(FIXTURE_FRONTEND, "envs")).sort(), ["k8s-client-a", "local"]);
        const run = await runProgram("client-a", {
            ...CLIENT_D,
            overrides: {
                ...CLIENT_D.overrides,
                "stock:frontendSource": "fixtures/upstream-app/frontend",
                "stock:npmTokenMode": "build-arg",
            },
        });
        assert.strictEqual(run.outputs.frontendDotenv, "REACT_APP_HOST_URL=http://app.client-d.feng.local\n");
        assert.deepStrictEqual(fs.readdirSync(path.join(stagedContextDir(REPO_ROOT, "client-a"), "envs")), ["client-d"]);
    });

    it("accepts its envs/k8s-client-a with the API on the separate host it names, and refuses it for another API host", async () => {
        const overrides = {
            "stock:frontendSource": "fixtures/upstream-app/frontend",
            "stock:buildFor": "k8s-client-a",
            "stock:npmTokenMode": "build-arg",
        };
        const run = await runProgram("client-a", { overrides: { ...overrides, "stock:apiHost": "mystock.a.backend.feng.local" } });
        assert.strictEqual(run.outputs.frontendDotenv, "REACT_APP_HOST_URL=http://mystock.a.backend.feng.local\n");
        const { message } = await failure("client-a", { overrides });
        assert.match(
            message,
            /envs\/k8s-client-a sets REACT_APP_HOST_URL=http:\/\/mystock\.a\.backend\.feng\.local, but stack 'client-a' .* computes REACT_APP_HOST_URL=http:\/\/app\.client-a\.feng\.local/,
        );
        assert.match(message, /pulumi config set stock:buildFor client-a -s client-a/);
    });
});

describe("the frontend image in Harbor", function () {
    it("outlives its build resource: docker-build's delete would remove the manifest running pods pull", async () => {
        const run = await runProgram("client-b");
        const builds = run.ofType(IMAGE_TYPE);
        assert.ok(builds.length > 0, "the tenant builds its frontend");
        for (const build of builds) assert.strictEqual(build.retainOnDelete, true, build.name);
    });
});

describe("the npm token: build argument or BuildKit secret (stock:npmTokenMode)", function () {
    let secret: ProgramRun;
    let buildArg: ProgramRun;
    before(async () => {
        secret = await runProgram("client-b");
        buildArg = await runProgram("client-b", { overrides: { "stock:npmTokenMode": "build-arg" } });
    });

    it("build-arg: NPM_TOKEN is a secret build argument and there is no BuildKit secret", () => {
        const inputs = buildArg.one(IMAGE_TYPE, "client-b-images-frontend").inputs;
        assert.deepStrictEqual(reveal(inputs.buildArgs), { BUILD_FOR: "client-b", NPM_TOKEN: "FAKE-SECRET-npmToken-client-b" });
        assert.ok(
            unwrapSecret(inputs.buildArgs).secret || unwrapSecret(inputs.buildArgs.NPM_TOKEN).secret,
            "the build arguments holding the token are secret",
        );
        assert.strictEqual(inputs.secrets, undefined);
        assert.strictEqual(
            reveal(inputs.cacheTo)[0].registry.mode,
            "min",
            "builder layers, which may hold the token, stay out of the registry cache",
        );
        assert.strictEqual(reveal(secret.one(IMAGE_TYPE, "client-b-images-frontend").inputs.cacheTo)[0].registry.mode, "max");
    });

    it("secret: the token reaches the build only as the BuildKit secret npm_token", () => {
        const inputs = reveal(secret.one(IMAGE_TYPE, "client-b-images-frontend").inputs);
        assert.deepStrictEqual(inputs.secrets, { npm_token: "FAKE-SECRET-npmToken-client-b" });
        const { secrets: _secrets, ...rest } = inputs;
        assert.ok(!JSON.stringify(rest).includes("FAKE-SECRET-npmToken"), "nowhere else in the image's inputs");
        for (const r of secret.resources.filter((x) => x.type !== IMAGE_TYPE)) {
            assert.ok(!JSON.stringify(reveal(r.inputs)).includes("FAKE-SECRET-npmToken"), `not in ${r.type} ${r.name}`);
        }
        assert.ok(!JSON.stringify(secret.outputs).includes("FAKE-SECRET-npmToken"), "not in a stack output");
    });

    it("changes no tag and no chart value: images and charts are the same in both modes", () => {
        assert.strictEqual(secret.outputs.frontendImage, buildArg.outputs.frontendImage);
        assert.strictEqual(secret.outputs.backendImage, buildArg.outputs.backendImage);
        for (const chart of ["backend-api", "celery", "frontend"])
            assert.deepStrictEqual(valuesOf(secret, chart), valuesOf(buildArg, chart), chart);
    });

    it("feeds the charts only tags computed from content before any build: the image resource contributes nothing to a chart value", () => {
        const config = loadTenantConfig("client-b");
        const shared = defaultSharedOutputs();
        const credential = shared[redisCredentialOutput("client-b")];
        const env = backendEnv(config, { host: shared.redisHost, port: shared.redisPort, ...credential });
        const expected = chartValues({
            tenant: config,
            images: {
                backend: {
                    repository: "harbor.feng.local:9800/library/stock_backend",
                    tag: contentTag(path.join(REPO_ROOT, "app", "backend")),
                },
                frontend: {
                    repository: "harbor.feng.local:9800/library/frontend_stock",
                    tag: contentTag(stagedContextDir(REPO_ROOT, "client-b"), { BUILD_FOR: "client-b" }),
                },
            },
            envChecksum: envChecksum(env),
            redis: { namespace: shared.redisNamespace, port: shared.redisPort, keyPrefix: credential.keyPrefix },
        });
        for (const chart of ["backend-api", "celery", "frontend"] as const)
            assert.deepStrictEqual(valuesOf(secret, chart), expected[chart], chart);
    });
});

describe("a separate API host (stock:apiHost)", function () {
    const API_HOST = "api.client-a.feng.local";
    let run: ProgramRun;
    before(async () => {
        run = await runProgram("client-a", { overrides: { "stock:apiHost": API_HOST } });
    });

    it("bakes the API host's origin into the frontend and exports it", () => {
        assert.strictEqual(run.outputs.frontendDotenv, `REACT_APP_HOST_URL=http://${API_HOST}\n`);
        assert.strictEqual(run.outputs.apiUrl, `http://${API_HOST}/api/v1/`);
        assert.strictEqual(run.outputs.frontendUrl, "http://app.client-a.feng.local/");
    });

    it("puts the API's ingress on its own host, at /api, with CORS from exactly the frontend's origin; the frontend keeps its host", () => {
        const api = valuesOf(run, "backend-api").ingress;
        assert.deepStrictEqual(api.hosts, [{ host: API_HOST, paths: [{ path: "/api", pathType: "Prefix" }] }]);
        assert.deepStrictEqual(api.cors, { enabled: true, allowOrigin: "http://app.client-a.feng.local" });
        const frontend = valuesOf(run, "frontend").ingress;
        assert.deepStrictEqual(frontend.hosts, [{ host: "app.client-a.feng.local", paths: [{ path: "/", pathType: "Prefix" }] }]);
        assert.strictEqual(frontend.cors, undefined);
    });

    it("adds no CORS when the API shares the frontend's host", async () => {
        const same = await runProgram("client-a");
        assert.strictEqual(valuesOf(same, "backend-api").ingress.cors, undefined);
    });

    it("prints a load-balancer server block for each host", () => {
        const block: string = run.outputs.nginxServerBlock;
        assert.deepStrictEqual(
            [...block.matchAll(/server_name (\S+);/g)].map((m) => m[1]),
            ["app.client-a.feng.local", API_HOST],
        );
        assert.strictEqual((block.match(/proxy_pass http:\/\/k8s;/g) ?? []).length, 2);
        assert.ok(!block.includes("ssl_preread"), "no TLS hint without stock:tls");
    });

    it("with TLS: https origins, each ingress its own secret, and the TLS pass-through hint for both hosts", async () => {
        const tls = await runProgram("client-a", {
            overrides: { "stock:apiHost": API_HOST, "stock:tls": { secretName: "app-client-a-tls", apiSecretName: "api-client-a-tls" } },
        });
        assert.strictEqual(tls.outputs.frontendDotenv, `REACT_APP_HOST_URL=https://${API_HOST}\n`);
        const api = valuesOf(tls, "backend-api").ingress;
        assert.deepStrictEqual(api.tls, [{ secretName: "api-client-a-tls", hosts: [API_HOST] }]);
        assert.strictEqual(api.cors.allowOrigin, "https://app.client-a.feng.local");
        assert.deepStrictEqual(valuesOf(tls, "frontend").ingress.tls, [
            { secretName: "app-client-a-tls", hosts: ["app.client-a.feng.local"] },
        ]);
        assert.ok(
            tls.outputs.nginxServerBlock.includes(`# TLS for app.client-a.feng.local and ${API_HOST} terminates at the cluster's ingress`),
            tls.outputs.nginxServerBlock,
        );
        assert.ok(
            tls.outputs.nginxServerBlock.includes(
                `map $ssl_preread_server_name $backend { app.client-a.feng.local k8s_https; ${API_HOST} k8s_https; }`,
            ),
            tls.outputs.nginxServerBlock,
        );
        const shared = await runProgram("client-a", {
            overrides: { "stock:apiHost": API_HOST, "stock:tls": { secretName: "wildcard-tls" } },
        });
        assert.deepStrictEqual(
            valuesOf(shared, "backend-api").ingress.tls,
            [{ secretName: "wildcard-tls", hosts: [API_HOST] }],
            "without apiSecretName the API uses the same secret",
        );
        const issuer = await runProgram("client-a", {
            overrides: { "stock:apiHost": API_HOST, "stock:tls": { clusterIssuer: "letsencrypt" } },
        });
        assert.strictEqual(valuesOf(issuer, "backend-api").ingress.certManager.clusterIssuer, "letsencrypt");
    });

    it("refuses an apiHost equal to the host, not a DNS name, or claimed by another stack, before any resource", async () => {
        const same = await failure("client-a", { overrides: { "stock:apiHost": "app.client-a.feng.local" } });
        assert.match(
            same.message,
            /stock:apiHost in Pulumi\.client-a\.yaml is the same as stock:host .*Fix: pulumi config rm stock:apiHost -s client-a/,
        );
        const bad = await failure("client-a", { overrides: { "stock:apiHost": "api_client_a" } });
        assert.match(bad.message, /stock:apiHost in Pulumi\.client-a\.yaml: must be a lower-case DNS name/);
        const taken = await failure("client-a", { overrides: { "stock:apiHost": "app.client-b.feng.local" } });
        assert.match(
            taken.message,
            /stock:apiHost in Pulumi\.client-a\.yaml is 'app\.client-b\.feng\.local', which Pulumi\.client-b\.yaml \(stack client-b\) also serves: .*Fix: pulumi config set stock:apiHost 'api\.app\.client-a\.feng\.local' -s client-a/,
        );
        for (const f of [same, bad, taken]) assert.deepStrictEqual(f.resources, []);
    });
});
