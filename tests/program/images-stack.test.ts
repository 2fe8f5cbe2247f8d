/**
 * The backend image built once per content tag for the fleet, under mocks over the real stack
 * files: the images stack builds each backend tag Harbor lacks (never at preview) and nothing
 * else; a tenant stack builds only its frontend, computes the same backend tag, and at `up`
 * refuses one Harbor does not have before it registers anything. The registry is a stand-in
 * (tools/lib/mock-run.ts `fakeRegistry`), and the chart values a tenant gets are those of a tag
 * computed from content alone, as before the images stack existed.
 */
import * as assert from "assert";
import * as path from "path";
import { chartValues } from "../../components/tenant/chart-values";
import { backendEnv, envChecksum } from "../../components/tenant/app-env";
import { contentTag } from "../../components/content-hash";
import { stagedContextDir } from "../../components/tenant/frontend-env";
import { readPythonRuntime } from "../../components/tenant/python-runtime";
import { PYTHON_RUNTIME_CONFIGMAP } from "../../components/tenant/python-runtime";
import {
    FAKE_PUSHED_DIGEST,
    IMAGE_TYPE,
    ProgramRun,
    RecordedResource,
    RunOptions,
    defaultSharedOutputs,
    fakeRegistry,
    reveal,
    runProgram,
} from "../../tools/lib/mock-run";
import { REPO_ROOT, loadStackConfig, loadTenantConfig, stackNames } from "../../tools/lib/stack-files";
import { redisCredentialOutput } from "../../components/names";
import { untrustedCaError } from "../../components/images/registry-trust";
import { answersPlainHttp } from "../../components/images/registry-plain-http";

const CHART = "kubernetes:helm.sh/v4:Chart";
const TENANTS = ["client-a", "client-b", "client-c"];
const sharedOutputs = defaultSharedOutputs(TENANTS);
const valuesOf = (run: ProgramRun, chart: string) => reveal(run.ofType(CHART).find((c) => c.inputs.chart.endsWith(chart))!.inputs.values);

/** Runs `stack`, capturing the warnings the program logs (under mocks they go to console.warn). */
async function runWithWarnings(stack: string, options: RunOptions): Promise<{ run: ProgramRun; warnings: string[] }> {
    const warnings: string[] = [];
    const original = console.warn;
    console.warn = (...args: unknown[]) => void warnings.push(args.map(String).join(" "));
    try {
        return { run: await runProgram(stack, options), warnings };
    } finally {
        console.warn = original;
    }
}

/** Runs `stack` expecting it to fail; returns the message and every resource it registered first. */
async function failure(stack: string, options: RunOptions): Promise<{ message: string; registered: RecordedResource[] }> {
    const recorded: RecordedResource[] = [];
    try {
        await runProgram(stack, { ...options, recorded });
    } catch (e) {
        return { message: (e as Error).message, registered: recorded };
    }
    assert.fail(`expected stack ${stack} to fail; it registered ${recorded.map((r) => `${r.type} ${r.name}`).join(", ")}`);
}

describe("the images stack: each backend image of the fleet, built and pushed once", function () {
    this.timeout(120000);
    const empty = () => fakeRegistry();
    let tenants: Record<string, ProgramRun>;
    let images: ProgramRun;
    let registry: ReturnType<typeof fakeRegistry>;

    before(async () => {
        tenants = {};
        for (const t of TENANTS) tenants[t] = await runProgram(t, { sharedOutputs });
        registry = empty();
        images = await runProgram("images", { tagLookup: registry.lookup });
    });

    it("is a stack file of its own, with role images", () => {
        assert.ok(stackNames().includes("images"));
        assert.strictEqual(loadStackConfig("images").role, "images");
    });

    it("refuses, before any resource, an entry of stock:backendSources that is no build context, with the same check as a tenant's source", async () => {
        const { message, registered } = await failure("images", {
            tagLookup: registry.lookup,
            overrides: { "stock:backendSources": ["app/backend", "app/nowhere", "charts"] },
        });
        assert.deepStrictEqual(registered, []);
        assert.match(
            message,
            /stock:backendSources in Pulumi\.images\.yaml lists app\/nowhere \(\/.*\/app\/nowhere\), which does not exist\. Fix: correct or remove that entry of stock:backendSources in Pulumi\.images\.yaml/,
        );
        assert.match(
            message,
            /lists charts \(\/.*\/charts\), which has no Dockerfile at its top: it is not a build context\. Fix: correct or remove/,
        );
        assert.doesNotMatch(message, /lists app\/backend/);
    });

    it("builds exactly one image per backend tag the tenants deploy, and every tag a tenant deploys", () => {
        const built = images.ofType(IMAGE_TYPE).map((i) => reveal(i.inputs.tags) as string[]);
        assert.ok(
            built.every((tags) => tags.length === 1),
            "one tag an image",
        );
        const deployed = [...new Set(TENANTS.map((t) => tenants[t].outputs.backendImage as string))].sort();
        assert.deepStrictEqual(built.map((tags) => tags[0]).sort(), deployed);
        assert.deepStrictEqual(images.outputs.backendImagesBuilt.slice().sort(), deployed);
        for (const t of TENANTS) {
            const source = loadTenantConfig(t).images.backend.source;
            assert.strictEqual(
                images.outputs.backendImages[source],
                tenants[t].outputs.backendImage,
                `${t} deploys what the images stack builds`,
            );
        }
    });

    it("never builds at preview, pushes at up, keeps the pushed tag in Harbor when the resource goes, and caches per backend", () => {
        for (const image of images.ofType(IMAGE_TYPE)) {
            const inputs = reveal(image.inputs);
            assert.strictEqual(inputs.buildOnPreview, false, image.name);
            assert.strictEqual(inputs.push, true, image.name);
            assert.strictEqual(image.retainOnDelete, true, `${image.name}: docker-build's delete would delete the manifest from Harbor`);
            assert.match(inputs.cacheTo[0].registry.ref, /:buildcache-[a-z0-9-]+$/);
            assert.strictEqual(inputs.dockerfile.location, path.join(inputs.context.location, "Dockerfile"));
        }
        assert.deepStrictEqual(
            images.resources.filter((r) => r.custom && r.type !== IMAGE_TYPE).map((r) => r.type),
            [],
            "no Kubernetes provider, no other resource",
        );
    });

    it("asks Harbor for each tag with the push robot, and builds nothing once Harbor has them all", async () => {
        assert.deepStrictEqual(
            registry.asked.map((a) => [a.server, a.repository, a.username]),
            images.outputs.backendImagesBuilt.map(() => ["harbor.feng.local:9800", "library/stock_backend", "robot$stock-deploy"]),
        );
        const full = fakeRegistry(Object.values(images.outputs.backendImages as Record<string, string>));
        const again = await runProgram("images", { tagLookup: full.lookup, preview: false });
        assert.deepStrictEqual(again.ofType(IMAGE_TYPE), [], "a tag in Harbor is never pushed again (immutable tags refuse it)");
        assert.deepStrictEqual(again.outputs.backendImagesBuilt, []);
        assert.deepStrictEqual(again.outputs.backendImages, images.outputs.backendImages);
    });

    it("at up, builds the tags Harbor lacks and exports their digests", async () => {
        const [first] = images.outputs.backendImagesBuilt as string[];
        const some = fakeRegistry([first]);
        const up = await runProgram("images", { tagLookup: some.lookup, preview: false });
        const rest = (images.outputs.backendImagesBuilt as string[]).filter((i) => i !== first);
        assert.deepStrictEqual(
            up.ofType(IMAGE_TYPE).map((i) => reveal(i.inputs.tags)[0]),
            rest,
        );
        for (const image of rest)
            assert.match(up.outputs.backendImageDigests[image], /^harbor\.feng\.local:9800\/library\/stock_backend@sha256:0{64}$/);
    });
});

describe("a tenant stack: deploys the images stack's backend image, builds only its frontend", function () {
    this.timeout(120000);

    it("registers no backend build: its only image resource is its frontend's, where it always was", async () => {
        for (const t of TENANTS) {
            const run = await runProgram(t, { sharedOutputs });
            const builds = run.ofType(IMAGE_TYPE);
            // The frontend image keeps its name and parents (its URN), so the first up after the change does not rebuild it.
            assert.deepStrictEqual(
                builds.map((b) => b.name),
                [`${t}-images-frontend`],
            );
            const parent = run.one("stock:index:TenantImages", `${t}-images`);
            assert.strictEqual(builds[0].parent, parent.urn);
            assert.strictEqual(parent.parent, run.one("stock:index:Tenant", t).urn);
            assert.strictEqual(reveal(builds[0].inputs.buildOnPreview), false);
        }
    });

    it("feeds its charts the tag computed from the backend's content, as before the images stack: the chart values do not change", async () => {
        for (const t of TENANTS) {
            const run = await runProgram(t, { sharedOutputs });
            const config = loadTenantConfig(t);
            const credential = sharedOutputs[redisCredentialOutput(t)];
            const env = backendEnv(config, { host: sharedOutputs.redisHost, port: sharedOutputs.redisPort, ...credential });
            const runtime = config.app.redisKeyPrefix === "shim" ? readPythonRuntime() : undefined;
            // The formula every tenant stack used when it built the backend itself.
            const backend = {
                repository: "harbor.feng.local:9800/library/stock_backend",
                tag: contentTag(path.resolve(REPO_ROOT, config.images.backend.source)),
            };
            const expected = chartValues({
                tenant: config,
                images: {
                    backend,
                    frontend: {
                        repository: "harbor.feng.local:9800/library/frontend_stock",
                        tag: contentTag(stagedContextDir(REPO_ROOT, t), { BUILD_FOR: config.buildFor }),
                    },
                },
                envChecksum: envChecksum(env),
                redis: { namespace: sharedOutputs.redisNamespace, port: sharedOutputs.redisPort, keyPrefix: credential.keyPrefix },
                pythonRuntime: runtime ? { configMap: PYTHON_RUNTIME_CONFIGMAP, checksum: runtime.checksum } : undefined,
            });
            for (const chart of ["backend-api", "celery", "frontend"] as const)
                assert.deepStrictEqual(valuesOf(run, chart), expected[chart], `${t} ${chart}`);
            assert.strictEqual(run.outputs.backendImage, `${backend.repository}:${backend.tag}`);
        }
    });

    it("asks Harbor for exactly its backend tag, with its pull robot, and exports the digest Harbor has", async () => {
        const registry = fakeRegistry("every tag");
        const run = await runProgram("client-a", { sharedOutputs, tagLookup: registry.lookup, preview: false });
        const [repository, tag] = String(run.outputs.backendImage).split(/:(?=ctx-)/);
        assert.deepStrictEqual(registry.asked, [
            {
                server: "harbor.feng.local:9800",
                plainHttp: false,
                repository: "library/stock_backend",
                tag,
                username: "robot$stock-pull-client-a",
            },
        ]);
        assert.strictEqual(run.outputs.backendImageDigest, `${repository}@${FAKE_PUSHED_DIGEST}`);
    });

    it("refuses, before any resource and at preview too, a backend the images stack does not build or pushes elsewhere", async () => {
        const elsewhere = await failure("client-a", {
            sharedOutputs,
            overrides: { "stock:backendSource": "fixtures/upstream-app/frontend" },
        });
        assert.deepStrictEqual(elsewhere.registered, []);
        assert.match(
            elsewhere.message,
            /stock:backendSource of Pulumi\.client-a\.yaml is 'fixtures\/upstream-app\/frontend', which the images stack 'images' does not build \(stock:backendSources in Pulumi\.images\.yaml lists app\/backend, fixtures\/upstream-app\/backend\)\. Fix: add 'fixtures\/upstream-app\/frontend' to stock:backendSources in Pulumi\.images\.yaml and run pulumi up -s images, or pulumi config set stock:backendSource 'app\/backend' -s client-a/,
        );
        const project = await failure("client-a", { sharedOutputs, overrides: { "stock:harborProject": "other" } });
        assert.deepStrictEqual(project.registered, []);
        assert.match(
            project.message,
            /stock:harborProject of Pulumi\.client-a\.yaml is 'other' \(set there or in Pulumi\.yaml\), but the images stack 'images' \(Pulumi\.images\.yaml\) builds the backend with 'library', so this stack would deploy an image nobody pushes\. Fix: pulumi config set stock:harborProject 'library' -s client-a/,
        );
        const platform = await failure("client-a", { sharedOutputs, overrides: { "stock:imagePlatform": "linux/arm64" } });
        assert.match(
            platform.message,
            /stock:imagePlatform .* 'linux\/arm64' .* builds the backend with 'linux\/amd64', so this stack would deploy an image built for another platform/,
        );
    });

    it("at up, refuses a backend tag Harbor does not have before it registers any resource, naming the tag and the stack that builds it", async () => {
        const { message, registered } = await failure("client-b", { sharedOutputs, tagLookup: fakeRegistry().lookup, preview: false });
        assert.deepStrictEqual(
            registered.map((r) => `${r.type} ${r.name}`),
            [],
            "not even the shared stack's reference",
        );
        assert.match(
            message,
            /Stack 'client-b' deploys the backend image harbor\.feng\.local:9800\/library\/stock_backend:ctx-[0-9a-f]{16}, which is not in harbor\.feng\.local:9800 yet \(repository library\/stock_backend, tag ctx-[0-9a-f]{16}\); stack 'images' builds and pushes it\. Fix: run `pulumi up -s images` \(stack file Pulumi\.images\.yaml builds it\), or `npm run fleet -- up`, which runs the images stack before any tenant; then run pulumi up -s client-b again/,
        );
    });

    it("at preview, only warns about a missing tag (a backend change previews before the images stack has run) and plans everything", async () => {
        const { run, warnings } = await runWithWarnings("client-b", { sharedOutputs, tagLookup: fakeRegistry().lookup });
        assert.ok(run.ofType(CHART).length === 3, "the whole tenant is previewed");
        const warning = warnings.find((w) => w.includes("not in harbor.feng.local:9800 yet"));
        assert.ok(warning, warnings.join("\n"));
        assert.match(
            warning,
            /`pulumi up -s client-b` refuses to deploy it until then: run `pulumi up -s images` \(stack file Pulumi\.images\.yaml builds it\)/,
        );
        assert.strictEqual(run.outputs.backendImageDigest, undefined, "no digest before the tag exists");
    });

    it("when Harbor cannot answer: an error at up naming the registry and the robot, a warning at preview", async () => {
        const down = () => Promise.reject(new Error("connect ECONNREFUSED 10.0.0.9:9800"));
        const { message, registered } = await failure("client-a", { sharedOutputs, tagLookup: down, preview: false });
        assert.deepStrictEqual(registered, []);
        assert.match(
            message,
            /Stack 'client-a' cannot tell whether harbor\.feng\.local:9800 has the backend image .*ECONNREFUSED.*Fix: check that harbor\.feng\.local:9800 is reachable from here and that robot\$stock-pull-client-a \(stock:harborPullUsername\) may pull from library\/stock_backend/,
        );
        const { warnings } = await runWithWarnings("client-a", { sharedOutputs, tagLookup: down });
        assert.ok(
            warnings.some((w) => /cannot tell whether harbor\.feng\.local:9800 has the backend image/.test(w)),
            warnings.join("\n"),
        );
    });

    it("when Harbor's CA is not trusted: the tenant's and the images stack's errors give the CA fix, not the reachability advice", async () => {
        const handshake = Object.assign(new Error("unable to verify the first certificate"), { code: "UNABLE_TO_VERIFY_LEAF_SIGNATURE" });
        const error =
            untrustedCaError(new URL("https://harbor.feng.local:9800/v2/"), handshake, undefined) ??
            assert.fail("not an untrusted-CA error");
        const untrusted = () => Promise.reject(error);
        for (const stack of ["client-a", "images"]) {
            const { message, registered } = await failure(stack, { sharedOutputs, tagLookup: untrusted, preview: false });
            assert.deepStrictEqual(registered, []);
            assert.match(
                message,
                new RegExp(
                    `Stack '${stack}' cannot tell whether harbor\\.feng\\.local:9800 (already )?has .*TLS to https://harbor\\.feng\\.local:9800 failed: .*UNABLE_TO_VERIFY_LEAF_SIGNATURE.*NODE_EXTRA_CA_CERTS is not set\\. Fix: .*export NODE_EXTRA_CA_CERTS=.*/etc/docker/certs\\.d/harbor\\.feng\\.local:9800/ca\\.crt.*--buildkitd-config`,
                ),
            );
            assert.doesNotMatch(message, /is reachable/);
        }
    });

    it("when Harbor answers plain HTTP: the tenant's and the images stack's errors and preview warnings name stock:harborPlainHttp and their stack file, not the reachability advice", async () => {
        const handshake = Object.assign(new Error("SSL routines:ssl3_get_record:wrong version number"), { code: "EPROTO" });
        const plain = () => Promise.reject(answersPlainHttp(new URL("https://harbor.feng.local:9800/v2/"), handshake));
        for (const stack of ["client-a", "images"]) {
            const fix = `put harbor\\.feng\\.local:9800 behind TLS .*only for a registry on a network you trust, since the robot's credentials then cross it unencrypted: pulumi config set stock:harborPlainHttp true -s ${stack} \\(stack file Pulumi\\.${stack}\\.yaml\\)`;
            const { message, registered } = await failure(stack, { sharedOutputs, tagLookup: plain, preview: false });
            assert.deepStrictEqual(registered, []);
            assert.match(
                message,
                new RegExp(
                    `Stack '${stack}' cannot tell whether harbor\\.feng\\.local:9800 (already )?has .*: harbor\\.feng\\.local:9800 answers plain HTTP, not TLS \\(EPROTO: .*wrong version number\\), and stock:harborPlainHttp is false, so no credentials were sent to it\\. Fix: ${fix}`,
                ),
            );
            assert.doesNotMatch(message, /is reachable|<stack>/);
            const { warnings } = await runWithWarnings(stack, { sharedOutputs, tagLookup: plain });
            assert.ok(
                warnings.some((w) => /answers plain HTTP, not TLS/.test(w) && new RegExp(fix).test(w)),
                warnings.join("\n"),
            );
        }
    });

    it("with stock:harborPlainHttp true: the tenant and the images stack ask Harbor over plain HTTP, and every run warns of the risk", async () => {
        for (const stack of ["client-a", "images"]) {
            const registry = fakeRegistry("every tag");
            const overrides = { "stock:harborPlainHttp": "true" };
            const { warnings } = await runWithWarnings(stack, { sharedOutputs, tagLookup: registry.lookup, overrides });
            assert.ok(registry.asked.length > 0 && registry.asked.every((a) => a.plainHttp), JSON.stringify(registry.asked));
            const risk = new RegExp(
                `stock:harborPlainHttp is true for Pulumi\\.${stack}\\.yaml: harbor\\.feng\\.local:9800 is asked over plain HTTP, without TLS, so the robot \\S+'s credentials cross the network unencrypted.*pulumi config set stock:harborPlainHttp false -s ${stack}`,
            );
            assert.ok(
                warnings.some((w) => risk.test(w)),
                warnings.join("\n"),
            );
            const quiet = await runWithWarnings(stack, { sharedOutputs, tagLookup: fakeRegistry("every tag").lookup });
            assert.ok(!quiet.warnings.some((w) => /harborPlainHttp/.test(w)), "no warning with the default (false)");
        }
    });
});
