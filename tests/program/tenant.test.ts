import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { CONFIG_ENV_KEYS, SECRET_ENV_KEYS } from "../../components/tenant/app-env";
import { contentTag } from "../../components/content-hash";
import { FAKE_SECRET_MARKER, REPO_ROOT } from "../../tools/lib/stack-files";
import { scratchCopy } from "../../tools/lib/scratch";
import {
    IMAGE_TYPE,
    ProgramRun,
    RecordedResource,
    FAKE_PUSHED_DIGEST,
    UNKNOWN,
    defaultSharedOutputs,
    reveal,
    runProgram,
    unwrapSecret,
} from "../../tools/lib/mock-run";
import { redisCredentialOutput } from "../../components/names";

const CHART = "kubernetes:helm.sh/v4:Chart";
const containsUnknown = (v: unknown) => JSON.stringify(v).includes("__pulumiUnknown") || JSON.stringify(v).includes(UNKNOWN);

/** A copy of the reference app that a test may change. */
function copyOfApp(): { backend: string; frontend: string } {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "stock-app-"));
    fs.cpSync(path.join(REPO_ROOT, "app"), dir, { recursive: true });
    return { backend: path.join(dir, "backend"), frontend: path.join(dir, "frontend") };
}

describe("tenant stack client-a under mocks", function () {
    let run: ProgramRun;
    /** The same stack as `up` sees it, with generated values known. */
    let up: ProgramRun;
    before(async () => {
        run = await runProgram("client-a");
        up = await runProgram("client-a", { preview: false });
    });

    it("creates one Tenant component whose children are its resources", () => {
        const tenant = run.one("stock:index:Tenant", "client-a");
        const children = run.resources
            .filter((r) => r.parent === tenant.urn)
            .map((r) => `${r.type} ${r.name}`)
            .sort();
        assert.deepStrictEqual(children, [
            "kubernetes:core/v1:ConfigMap client-a-env",
            "kubernetes:core/v1:LimitRange client-a-limits",
            "kubernetes:core/v1:Namespace client-a-namespace",
            "kubernetes:core/v1:ResourceQuota client-a-quota",
            "kubernetes:core/v1:Secret client-a-pull-secret",
            "kubernetes:core/v1:Secret client-a-secret",
            `${CHART} client-a-backend-api`,
            `${CHART} client-a-celery`,
            `${CHART} client-a-frontend`,
            "kubernetes:networking.k8s.io/v1:NetworkPolicy client-a-default-deny",
            "random:index/randomPassword:RandomPassword client-a-django-secret-key",
            "stock:index:TenantImages client-a-images",
        ]);
    });

    it("sends every Kubernetes resource through the provider pinned to the configured context", () => {
        const provider = run.one("pulumi:providers:kubernetes", "kubernetes");
        assert.strictEqual(provider.inputs.context, "feng-k8s");
        const k8s = run.resources.filter((r) => r.type.startsWith("kubernetes:") && r.custom);
        assert.strictEqual(k8s.length, 7);
        for (const r of k8s)
            assert.ok(r.provider.startsWith(`${provider.urn}::`), `${r.name} uses ${r.provider || "the default provider"}`);
        for (const c of run.ofType(CHART))
            assert.ok(c.providers.kubernetes?.startsWith(`${provider.urn}::`), `${c.name} uses ${JSON.stringify(c.providers)}`);
    });

    it("labels the namespace with tenant, manager and Pod Security Standard", () => {
        const ns = run.one("kubernetes:core/v1:Namespace").inputs.metadata;
        assert.strictEqual(ns.name, "client-a");
        assert.strictEqual(ns.labels["stock-deploy/tenant"], "client-a");
        assert.strictEqual(ns.labels["app.kubernetes.io/managed-by"], "pulumi");
        assert.strictEqual(ns.labels["pod-security.kubernetes.io/enforce"], "restricted");
        assert.strictEqual(ns.labels["stock-deploy/redis-client"], "true");
    });

    it("splits the env: plain settings in the ConfigMap, credentials in the Secret, no secret in the ConfigMap", () => {
        const cm = run.one("kubernetes:core/v1:ConfigMap").inputs;
        assert.strictEqual(cm.metadata.name, "stock-backend-env");
        assert.strictEqual(cm.metadata.namespace, "client-a");
        assert.deepStrictEqual(Object.keys(cm.data).sort(), [...CONFIG_ENV_KEYS].sort());
        assert.deepStrictEqual(cm.data, {
            DJANGO_DEBUG: "0",
            MYSQL_DATABASE: "stock_client_a",
            DEPLOY_TYPE: "prod",
            DJANGO_DB_HOST: "mysql.feng.local",
            DJANGO_DB_PORT: "3306",
            DJANGO_ALLOWED_HOSTS: "app.client-a.feng.local",
            DJANGO_REDIS_PORT: "6379",
            DJANGO_REDIS_KEY_PREFIX: "client-a:",
        });
        assert.ok(!JSON.stringify(cm).includes(FAKE_SECRET_MARKER), "no secret value in the ConfigMap");

        const secret = up.one("kubernetes:core/v1:Secret", "client-a-secret").inputs;
        assert.strictEqual(secret.metadata.name, "stock-backend-secret");
        assert.ok(unwrapSecret(secret.stringData).secret, "the Secret's data is marked secret");
        const data = reveal(secret.stringData);
        assert.deepStrictEqual(Object.keys(data).sort(), [...SECRET_ENV_KEYS].sort());
        assert.strictEqual(data.DJANGO_DB_PWD, "FAKE-SECRET-dbPassword-client-a");
        assert.strictEqual(data.DJANGO_DB_USER, "stock_client_a");
        const redis = defaultSharedOutputs()[redisCredentialOutput("client-a")];
        assert.strictEqual(data.DJANGO_REDIS_HOST, `client-a:${redis.password}@redis-master.redis.svc.cluster.local`);
    });

    it("creates the Harbor pull secret as kubectl create secret docker-registry would", () => {
        const pull = run.one("kubernetes:core/v1:Secret", "client-a-pull-secret").inputs;
        assert.strictEqual(pull.type, "kubernetes.io/dockerconfigjson");
        assert.strictEqual(pull.metadata.name, "harbor");
        assert.ok(unwrapSecret(pull.stringData).secret);
        const auth = JSON.parse(reveal(pull.stringData)[".dockerconfigjson"]).auths["harbor.feng.local:9800"];
        assert.strictEqual(auth.username, "robot$stock-pull-client-a", "the pods pull with the tenant's pull-only robot");
        assert.strictEqual(auth.password, "FAKE-SECRET-harborPullPassword-client-a");
        assert.strictEqual(
            Buffer.from(auth.auth, "base64").toString(),
            "robot$stock-pull-client-a:FAKE-SECRET-harborPullPassword-client-a",
        );
    });

    it("pushes with the push robot, and falls back to it for pulls only when no pull robot is set", async () => {
        const push = reveal(up.ofType(IMAGE_TYPE)[0].inputs.registries);
        assert.deepStrictEqual(
            push.map((r: any) => [r.address, r.username, r.password]),
            [["harbor.feng.local:9800", "robot$stock-deploy", "FAKE-SECRET-harborPassword-client-a"]],
        );
        const noPuller = await runProgram("client-a", {
            overrides: { "stock:harborPullUsername": undefined, "stock:harborPullPassword": undefined },
        });
        const auth = JSON.parse(
            reveal(noPuller.one("kubernetes:core/v1:Secret", "client-a-pull-secret").inputs.stringData)[".dockerconfigjson"],
        ).auths["harbor.feng.local:9800"];
        assert.strictEqual(auth.username, "robot$stock-deploy");
        await assert.rejects(
            runProgram("client-a", { overrides: { "stock:harborPullPassword": undefined } }),
            /stock:harborPullUsername and stock:harborPullPassword .* go together/,
        );
    });

    it("builds only its frontend image with BuildKit, under the content tag with a registry cache, never on preview; the backend is the images stack's", () => {
        const images = run.ofType(IMAGE_TYPE);
        assert.deepStrictEqual(
            images.map((i) => i.name),
            ["client-a-images-frontend"],
            "the images stack builds the backend (tests/program/images-stack.test.ts)",
        );
        const frontend = reveal(images[0].inputs);
        assert.match(run.outputs.backendImage, /^harbor\.feng\.local:9800\/library\/stock_backend:ctx-[0-9a-f]{16}$/);
        assert.deepStrictEqual(frontend.context, { location: ".build/client-a/frontend" }, "the staged copy, relative to the project");
        assert.deepStrictEqual(frontend.tags, [run.outputs.frontendImage]);
        assert.strictEqual(frontend.buildOnPreview, false, "a preview never builds");
        assert.strictEqual(frontend.push, true);
        assert.deepStrictEqual(frontend.platforms, ["linux/amd64"]);
        const repository = frontend.tags[0].split(/:(?=ctx-)/)[0];
        assert.deepStrictEqual(frontend.cacheFrom, [{ registry: { ref: `${repository}:buildcache-client-a` } }]);
        assert.deepStrictEqual(frontend.cacheTo, [
            {
                registry: {
                    ref: `${repository}:buildcache-client-a`,
                    mode: "max",
                    imageManifest: true,
                    ociMediaTypes: true,
                    ignoreError: true,
                },
            },
        ]);
    });

    it("gives client-a's frontend the npm token only as the BuildKit secret npm_token (stock:npmTokenMode secret)", () => {
        const inputs = run.one(IMAGE_TYPE, "client-a-images-frontend").inputs;
        const frontend = reveal(inputs);
        assert.deepStrictEqual(frontend.buildArgs, { BUILD_FOR: "client-a" }, "no NPM_TOKEN build argument");
        assert.deepStrictEqual(frontend.secrets, { npm_token: "FAKE-SECRET-npmToken-client-a" });
        assert.ok(unwrapSecret(inputs.secrets).secret || unwrapSecret(inputs.secrets.npm_token).secret, "the secret is marked secret");
        assert.deepStrictEqual(frontend.ignoreSecretsInDiffCalculation, ["npm_token"], "a rotated token does not rebuild");
        const elsewhere = JSON.stringify([run.ofType(CHART).map((c) => reveal(c.inputs)), run.outputs, frontend.buildArgs, frontend.tags]);
        assert.ok(!elsewhere.includes("FAKE-SECRET-npmToken"), "the token is in no chart value, output, build argument or tag");
    });

    it("deploys the three charts into the namespace with values known before up", () => {
        const charts = run.ofType(CHART);
        assert.deepStrictEqual(charts.map((c) => [c.inputs.name, c.inputs.namespace, c.inputs.chart]).sort(), [
            ["stock-backend-api", "client-a", "charts/backend-api"],
            ["stock-backend-celery", "client-a", "charts/celery"],
            ["stock-frontend", "client-a", "charts/frontend"],
        ]);
        for (const c of charts) assert.ok(!containsUnknown(c.inputs.values), `${c.name} values are all known at preview`);
        const api = charts.find((c) => c.inputs.name === "stock-backend-api")!.inputs.values;
        const [repository, tag] = run.outputs.backendImage.split(/:(?=ctx-)/);
        assert.deepStrictEqual(api.image, { repository, tag, pullPolicy: "IfNotPresent" });
        assert.deepStrictEqual(api.env, { configmap: "stock-backend-env", secret: "stock-backend-secret" });
        assert.deepStrictEqual(api.imagePullSecrets, [{ name: "harbor" }]);
        assert.deepStrictEqual(api.resources, { requests: { cpu: "250m", memory: "384Mi" }, limits: { cpu: "1", memory: "768Mi" } });
        assert.deepStrictEqual(api.ingress.hosts, [{ host: "app.client-a.feng.local", paths: [{ path: "/api", pathType: "Prefix" }] }]);
        assert.match(api.podAnnotations["checksum/env"], /^[0-9a-f]{16}$/);
        const celery = charts.find((c) => c.inputs.name === "stock-backend-celery")!.inputs.values;
        assert.deepStrictEqual(celery.image, api.image, "Celery runs the backend image");
        assert.deepStrictEqual(celery.workers, [
            {
                name: "default",
                queues: ["summary", "stock", "statement", "price", "news"],
                replicaCount: 2,
                concurrency: 2,
                logLevel: "INFO",
            },
        ]);
        const frontend = charts.find((c) => c.inputs.name === "stock-frontend")!.inputs.values;
        assert.strictEqual(`${frontend.image.repository}:${frontend.image.tag}`, run.outputs.frontendImage);
        assert.deepStrictEqual(frontend.ingress.hosts[0], { host: "app.client-a.feng.local", paths: [{ path: "/", pathType: "Prefix" }] });
    });

    it("starts no chart before the namespace denies by default and the env, pull secret and images exist", () => {
        const urn = (type: string, name: string) => run.one(type, name).urn;
        const deny = urn("kubernetes:networking.k8s.io/v1:NetworkPolicy", "client-a-default-deny");
        for (const chart of run.ofType(CHART)) {
            assert.ok(chart.dependencies.includes(deny), `${chart.name} waits for the default deny`);
            assert.ok(
                chart.dependencies.includes(urn("kubernetes:core/v1:Secret", "client-a-pull-secret")),
                `${chart.name} waits for the pull secret`,
            );
        }
        const celery = run.one(CHART, "client-a-celery");
        assert.ok(
            celery.dependencies.includes(urn(CHART, "client-a-backend-api")),
            "workers start after the API chart (its migration Job)",
        );
    });

    it("exports namespace, images, URLs and the load balancer's server block", () => {
        assert.strictEqual(run.outputs.namespace, "client-a");
        assert.strictEqual(run.outputs.frontendUrl, "http://app.client-a.feng.local/");
        assert.strictEqual(run.outputs.apiUrl, "http://app.client-a.feng.local/api/v1/");
        assert.strictEqual(run.outputs.frontendImageDigest, UNKNOWN, "the frontend's digest is known only after up");
        assert.strictEqual(
            run.outputs.backendImageDigest,
            `harbor.feng.local:9800/library/stock_backend@${FAKE_PUSHED_DIGEST}`,
            "the backend's, as Harbor has it (the images stack pushed it)",
        );
        assert.strictEqual(
            run.outputs.nginxServerBlock,
            [
                "# client-a: generated by stock-deploy (pulumi stack output nginxServerBlock -s client-a)",
                "server {",
                "  listen 80;",
                "  server_name app.client-a.feng.local;",
                "",
                "  location / {",
                "    include /etc/nginx/proxy_params;",
                "    proxy_pass http://k8s;",
                "  }",
                "}",
                "",
            ].join("\n"),
        );
        assert.ok(!JSON.stringify(run.outputs).includes(FAKE_SECRET_MARKER), "no secret in plain outputs");
    });

    it("knows the image digests after up: the frontend's as pushed, the backend's as Harbor has it", () => {
        assert.match(up.outputs.frontendImageDigest, /^harbor\.feng\.local:9800\/library\/frontend_stock@sha256:0{64}$/);
        assert.strictEqual(up.outputs.backendImageDigest, `harbor.feng.local:9800/library/stock_backend@${FAKE_PUSHED_DIGEST}`);
    });
});

describe("two tenants", () => {
    it("client-a and client-b get disjoint namespaces, hosts and frontend images; the backend image is shared", async () => {
        const a = await runProgram("client-a");
        const b = await runProgram("client-b");
        assert.notStrictEqual(a.outputs.namespace, b.outputs.namespace);
        assert.notStrictEqual(a.outputs.frontendUrl, b.outputs.frontendUrl);
        assert.notStrictEqual(a.outputs.frontendImage, b.outputs.frontendImage);
        assert.strictEqual(a.outputs.backendImage, b.outputs.backendImage, "one backend image, built from the same source");
        const names = (run: ProgramRun) =>
            new Set(run.resources.filter((r) => r.inputs?.metadata?.namespace).map((r) => r.inputs.metadata.namespace));
        assert.deepStrictEqual([...names(a)], ["client-a"]);
        assert.deepStrictEqual([...names(b)], ["client-b"]);
        const celery = b.ofType(CHART).find((c) => c.inputs.name === "stock-backend-celery")!.inputs.values;
        assert.deepStrictEqual(
            celery.workers.map((w: any) => [w.name, w.queues.join(","), w.replicaCount]),
            [
                ["default", "summary,stock,statement,news", 1],
                ["price", "price", 3],
            ],
        );
        assert.strictEqual(celery.beat.enabled, true);
    });
});

describe("content-derived image tags", () => {
    it("are identical for identical sources and change only with their own context", async function () {
        this.timeout(120000);
        // A copy of the repository, so that its app/ can change: the images stack builds that app/backend too.
        const scratch = scratchCopy("stock-tags-");
        try {
            const before = await runProgram("client-a", { root: scratch.root });
            const again = await runProgram("client-a", { root: scratch.root });
            assert.strictEqual(again.outputs.backendImage, before.outputs.backendImage);
            assert.strictEqual(again.outputs.frontendImage, before.outputs.frontendImage);
            assert.strictEqual(
                before.outputs.backendImage.split(":").pop(),
                contentTag(path.join(REPO_ROOT, "app/backend")),
                "a copy has the same tag as the original",
            );

            fs.appendFileSync(scratch.file("app/backend/manage.py"), "\n# changed\n");
            const after = await runProgram("client-a", { root: scratch.root });
            assert.notStrictEqual(after.outputs.backendImage, before.outputs.backendImage, "a changed source file gives a new backend tag");
            assert.strictEqual(after.outputs.frontendImage, before.outputs.frontendImage, "the frontend tag is left alone");
        } finally {
            scratch.remove();
        }
    });

    it("ignore what .dockerignore excludes and include the build args", () => {
        const app = copyOfApp();
        const tag = contentTag(app.backend);
        fs.mkdirSync(path.join(app.backend, "__pycache__"), { recursive: true });
        fs.writeFileSync(path.join(app.backend, "__pycache__", "x.cpython-311.pyc"), "bytecode");
        assert.strictEqual(contentTag(app.backend), tag, ".dockerignore'd files do not change the tag");
        assert.notStrictEqual(contentTag(app.frontend, { BUILD_FOR: "client-a" }), contentTag(app.frontend, { BUILD_FOR: "client-b" }));
    });

    it("change with the Dockerfile even where .dockerignore lists it, as the real app's does; the staged frontend carries it", async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "stock-upstream-"));
        fs.cpSync(path.join(REPO_ROOT, "fixtures", "upstream-app"), dir, { recursive: true });
        const [backend, frontend] = [path.join(dir, "backend"), path.join(dir, "frontend")];
        for (const d of [backend, frontend])
            assert.ok(
                fs.readFileSync(path.join(d, ".dockerignore"), "utf8").split("\n").includes("Dockerfile"),
                `${d} ignores its Dockerfile`,
            );
        const tag = contentTag(backend);
        fs.appendFileSync(path.join(backend, "Dockerfile"), "# a new base image, say\n");
        assert.notStrictEqual(contentTag(backend), tag, "a Dockerfile change is a new image");

        // The backend of a copy is no source the images stack builds; the frontend's staging is what matters here.
        const run = await runProgram("client-c", { overrides: { "stock:frontendSource": frontend } });
        const staged = path.resolve(reveal(run.one(IMAGE_TYPE, "client-c-images-frontend").inputs).context.location);
        for (const file of ["Dockerfile", ".dockerignore"])
            assert.strictEqual(
                fs.readFileSync(path.join(staged, file), "utf8"),
                fs.readFileSync(path.join(frontend, file), "utf8"),
                `the staged context has the source's ${file}: BuildKit reads it from there`,
            );
        fs.rmSync(dir, { recursive: true, force: true });
    });
});

describe("checks that run before any resource", () => {
    /** The failure, and every resource the program registered before it failed. */
    async function failure(options: Parameters<typeof runProgram>[1]): Promise<{ message: string; resources: string[] }> {
        const recorded: RecordedResource[] = [];
        try {
            await runProgram("client-a", { ...options, recorded });
        } catch (e) {
            return { message: (e as Error).message, resources: recorded.map((r) => r.type) };
        }
        assert.fail("expected the program to fail");
    }

    it("refuses a tenant the shared stack does not list", async () => {
        const { message } = await failure({ sharedOutputs: defaultSharedOutputs(["client-b"]) });
        assert.match(
            message,
            /tenant 'client-a' \(stock:tenant\) is not allowed on the shared Redis: stock:tenants of 'organization\/stock\/shared' lists client-b/,
        );
        assert.match(message, /Fix: add client-a to stock:tenants in Pulumi.shared.yaml/);
    });

    it("reads the shared stack of its own organization unless stock:sharedStack says otherwise", async () => {
        const seen: string[] = [];
        const run = await runProgram("client-a");
        seen.push(run.one("pulumi:pulumi:StackReference").inputs.name);
        const other = await runProgram("client-a", {
            overrides: { "stock:sharedStack": "acme/stock/shared-eu" },
            sharedOutputs: defaultSharedOutputs(),
        });
        seen.push(other.one("pulumi:pulumi:StackReference").inputs.name);
        assert.deepStrictEqual(seen, ["organization/stock/shared", "acme/stock/shared-eu"]);
    });

    it("refuses a secret of the other role, so the Redis seed never sits in a tenant stack", async () => {
        const { message } = await failure({
            overrides: { "stock:redisPasswordSeed": "x".repeat(40) },
            secrets: ["stock:redisPasswordSeed"],
        });
        assert.match(
            message,
            /stock:redisPasswordSeed is set in Pulumi.client-a.yaml, but only shared stacks use it.*pulumi config rm stock:redisPasswordSeed -s client-a/,
        );
    });

    it("refuses a missing shared stack", async () => {
        const { message } = await failure({ sharedStackError: "unknown stack organization/stock/shared" });
        assert.match(message, /stock:sharedStack.*could not be read.*unknown stack.*pulumi up -s shared/s);
        const empty = await failure({ sharedOutputs: {} });
        assert.match(empty.message, /has no 'tenants' output/);
    });

    it("creates no Kubernetes resource when the config is invalid", async () => {
        const { message, resources } = await failure({ overrides: { "stock:host": "not a host" } });
        assert.match(message, /stock:host/);
        assert.deepStrictEqual(resources, []);
    });

    it("refuses a build context without a Dockerfile before any resource", async () => {
        const app = copyOfApp();
        fs.rmSync(path.join(app.backend, "Dockerfile"));
        const { message, resources } = await failure({ overrides: { "stock:backendSource": app.backend } });
        assert.match(
            message,
            /stock:backendSource in Pulumi\.client-a\.yaml is \/.*, which has no Dockerfile at its top: it is not a build context\. Fix: pulumi config set stock:backendSource '\.\.\/stock\/backend' -s client-a/,
        );
        assert.deepStrictEqual(resources, []);
    });

    it("sees what a failing program registered (the check above could not pass if it did not)", async () => {
        // The shared stack's tenant list is checked after its reference is read: that read is recorded.
        const { resources } = await failure({ sharedOutputs: defaultSharedOutputs(["client-b"]) });
        assert.deepStrictEqual(resources, ["pulumi:pulumi:StackReference"]);
    });

    it("refuses extra env that would override the program's variables", async () => {
        const { message, resources } = await failure({ overrides: { "stock:extraEnv": { DJANGO_DB_HOST: "elsewhere" } } });
        assert.deepStrictEqual(resources, []);
        assert.match(message, /stock:extraEnv.DJANGO_DB_HOST .*would override a variable the program or its charts set/);
    });
});
