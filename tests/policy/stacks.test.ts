// The policy pack over what each stack in the repository deploys: the resources the real index.ts
// registers under Pulumi mocks (tools/lib/mock-run.ts), plus what helm.v4.Chart would
// register for each of our charts, rendered by the real helm binary with the exact values the
// program recorded (tools/lib/helm.ts). The shared stack's Bitnami Redis chart is remote
// (oci://registry-1.docker.io) and cannot be rendered offline: only its recorded resources are checked.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { CHART_NAMES, CHARTS_DIR, ChartName, helmTemplate, renderChart } from "../../tools/lib/helm";
import { ProgramRun, RunOptions, fakeRegistry, reveal, runProgram } from "../../tools/lib/mock-run";
import { fakeSecret, loadStackConfig, rawStackConfig, stackNames } from "../../tools/lib/stack-files";
import { bitnamiRedisChart } from "../support/bitnami-chart";
import { scratchCopy } from "../../tools/lib/scratch";
import { AnalyzeResult, InputResource, analyze, analyzerValue, explain, fromRecorded, fromRendered } from "./support";

const CHART = "kubernetes:helm.sh/v4:Chart";
const PACK_CONFIG = JSON.parse(fs.readFileSync(path.join(__dirname, "..", "..", "policy", "config.json"), "utf8"));

interface StackResources {
    run: ProgramRun;
    resources: InputResource[];
    /** Charts whose objects could not be rendered here, with the reason. */
    unrendered: Array<{ chart: string; reason: string }>;
}

type ValuesEdit = (chart: ChartName, values: Record<string, any>) => Record<string, any>;

/** What the engine would hand the analyzer for a stack: recorded resources + rendered chart objects. */
async function stackResources(
    stack: string,
    options: { run?: RunOptions; editValues?: ValuesEdit; reuse?: ProgramRun } = {},
): Promise<StackResources> {
    const run = options.reuse ?? (await runProgram(stack, options.run));
    // The engine also hands AnalyzeStack the root Stack resource, whose properties are the stack outputs.
    const root: InputResource = {
        type: "pulumi:pulumi:Stack",
        name: `stock-${stack}`,
        urn: `urn:pulumi:${stack}::stock::pulumi:pulumi:Stack::stock-${stack}`,
        props: analyzerValue(run.outputs),
    };
    const resources = [root, ...run.resources.map(fromRecorded)];
    const unrendered: StackResources["unrendered"] = [];
    for (const chart of run.ofType(CHART)) {
        const inputs = analyzerValue(chart.inputs);
        const chartPath = String(inputs.chart);
        const name = path.basename(chartPath) as ChartName;
        // A run of a scratch copy (options.run.root) deploys that copy's charts: the same files as ours.
        const chartsDir = options.run?.root ? path.join(options.run.root, "charts") : CHARTS_DIR;
        if (path.resolve(path.dirname(chartPath)) !== path.resolve(chartsDir) || !CHART_NAMES.includes(name)) {
            unrendered.push({ chart: chartPath, reason: "remote chart, not rendered offline" });
            continue;
        }
        const values = options.editValues ? options.editValues(name, structuredClone(inputs.values)) : inputs.values;
        const objects = await renderChart(name, values, inputs.namespace, inputs.name);
        resources.push(...objects.map((o) => fromRendered(o, chart, inputs.namespace)));
    }
    return { run, resources, unrendered };
}

function check(stack: string, resources: InputResource[], stackConfig = rawStackConfig(stack).values): Promise<AnalyzeResult> {
    return analyze(resources, { config: PACK_CONFIG, stackConfig });
}

const kinds = (resources: InputResource[], type: string) => resources.filter((r) => r.type === type);

describe("policy pack over the stacks in the repository", function () {
    this.timeout(120_000);

    it("covers every stack file: images, shared, client-a, client-b, client-c", () => {
        assert.deepEqual(stackNames(), ["client-a", "client-b", "client-c", "images", "shared"]);
    });

    for (const stack of stackNames()) {
        describe(`stack ${stack}`, () => {
            let s: StackResources;
            before(async () => {
                // The images stack builds only tags Harbor lacks: here it has none, so every build is judged.
                s = await stackResources(stack, stack === "images" ? { run: { tagLookup: fakeRegistry().lookup } } : {});
            });

            it("has no violation, and every policy could judge the preview (no advisory 'unknown during preview')", async () => {
                const result = await check(stack, s.resources);
                assert.deepEqual(result.diagnostics, [], explain(result));
                // Every policy ran: only the stack-config policy may be not applicable, and it is given the config here.
                assert.deepEqual(result.notApplicable, []);
            });

            if (stack === "images") {
                it("judges each backend build: one per content tag, pushed to the allowed registry", () => {
                    const builds = kinds(s.resources, "docker-build:index:Image");
                    assert.equal(builds.length, 2, "app/backend and fixtures/upstream-app/backend differ");
                    for (const b of builds)
                        assert.match(b.props.tags[0], /^harbor\.feng\.local:9800\/library\/stock_backend:ctx-[0-9a-f]{16}$/);
                });
            }

            if (stack === "shared") {
                it("checks only the recorded resources: the Bitnami Redis chart is remote", () => {
                    assert.deepEqual(
                        s.unrendered.map((u) => u.chart),
                        ["oci://registry-1.docker.io/bitnamicharts/redis"],
                    );
                    assert.deepEqual(kinds(s.resources, "kubernetes:apps/v1:Deployment"), []);
                    // The redis namespace is a system namespace: no tenant label, so no default-deny is required.
                    const ns = kinds(s.resources, "kubernetes:core/v1:Namespace");
                    assert.deepEqual(
                        ns.map((n) => [n.props.metadata.name, n.props.metadata.labels["stock-deploy/tenant"]]),
                        [["redis", undefined]],
                    );
                });

                it("passes every object the real Bitnami chart renders with the recorded values (its StatefulSet's containers, the acl-reload sidecar too)", async function () {
                    // The chart itself (tests/support/bitnami-chart.ts), not a transcription: a value
                    // that changes what the chart writes (a security context, a sidecar) is judged.
                    const shared = loadStackConfig("shared");
                    assert.ok(shared.role === "shared");
                    const chart = bitnamiRedisChart(shared.redis.chartVersion);
                    if ("missing" in chart) {
                        console.warn(`    [skipped: ${chart.missing}; the recorded resources are still checked above]`);
                        this.skip();
                    }
                    const release = s.run.one(CHART);
                    const inputs = analyzerValue(release.inputs);
                    const objects = await helmTemplate(chart.dir, reveal(release.inputs.values), {
                        releaseName: inputs.name,
                        namespace: inputs.namespace,
                    });
                    const rendered = objects.map((o) => fromRendered(o, release, "redis"));
                    const statefulSet = rendered.find(
                        (r) => r.type === "kubernetes:apps/v1:StatefulSet" && r.props.metadata.name === "redis-master",
                    );
                    assert.ok(statefulSet, `no StatefulSet redis-master among ${rendered.map((r) => r.name).join(", ")}`);
                    assert.deepEqual(
                        statefulSet.props.spec.template.spec.containers.map((c: { name: string }) => c.name),
                        ["redis", "acl-reload"],
                    );
                    const result = await check(stack, [...s.resources, ...rendered]);
                    assert.deepEqual(result.diagnostics, [], explain(result));
                    // Without the namespace exemption the Docker Hub image would be refused, for both containers.
                    const strict = await analyze([statefulSet], {
                        config: { ...PACK_CONFIG, "image-from-allowed-registry": { exemptNamespaces: [] } },
                    });
                    assert.deepEqual(
                        strict.mandatory.map((d) => [d.policy, /container "([\w-]+)"/.exec(d.message)?.[1]]),
                        [
                            ["image-from-allowed-registry", "redis"],
                            ["image-from-allowed-registry", "acl-reload"],
                        ],
                        explain(strict),
                    );
                });
            } else if (stack !== "images") {
                it("checked the rendered workloads, Services and NetworkPolicies of all three charts", () => {
                    assert.deepEqual(s.unrendered, []);
                    const names = (type: string) =>
                        kinds(s.resources, type)
                            .map((r) => r.props.metadata.name)
                            .sort();
                    assert.ok(names("kubernetes:apps/v1:Deployment").includes("stock-backend-api"));
                    assert.ok(names("kubernetes:apps/v1:Deployment").includes("stock-frontend"));
                    assert.ok(names("kubernetes:apps/v1:Deployment").some((n) => n.startsWith("stock-backend-celery-")));
                    assert.equal(names("kubernetes:batch/v1:Job").length, 1);
                    assert.deepEqual(names("kubernetes:core/v1:Service"), ["stock-backend-api", "stock-frontend"]);
                    assert.deepEqual(names("kubernetes:networking.k8s.io/v1:NetworkPolicy"), [
                        "default-deny",
                        "stock-backend-api",
                        "stock-backend-celery",
                        "stock-frontend",
                    ]);
                    for (const r of s.resources.filter(
                        (x) => x.type.startsWith("kubernetes:") && x.type !== CHART && x.props.metadata?.namespace !== undefined,
                    )) {
                        assert.equal(r.props.metadata.namespace, stack, `${r.type} ${r.name}`);
                    }
                });
            }
        });
    }

    it("client-a as `up` sees it (generated passwords and image digests known) has no violation either", async () => {
        const up = await stackResources("client-a", { run: { preview: false } });
        const result = await check("client-a", up.resources);
        assert.deepEqual(result.diagnostics, [], explain(result));
    });

    describe("a broken variant is caught end to end (client-a)", () => {
        let base: ProgramRun;
        before(async () => {
            base = await runProgram("client-a");
        });

        /** Mandatory violations of a variant, asserting they all come from the expected policy. */
        async function violationsOf(variant: StackResources, policy: string, stackConfig?: Record<string, string>) {
            const result = await check("client-a", variant.resources, stackConfig);
            assert.deepEqual(result.advisory, [], explain(result));
            const others = result.mandatory.filter((d) => d.policy !== policy);
            assert.deepEqual(others, [], `unexpected violations of other policies:\n${explain(others)}`);
            assert.ok(result.mandatory.length > 0, `${policy} reported nothing`);
            return result.mandatory.map((d) => d.message);
        }

        it("backend-api rendered with image.tag latest: image-tag-pinned names the Deployment and the migration Job", async () => {
            const variant = await stackResources("client-a", {
                reuse: base,
                editValues: (chart, v) => (chart === "backend-api" ? { ...v, image: { ...v.image, tag: "latest" } } : v),
            });
            const messages = await violationsOf(variant, "image-tag-pinned");
            assert.equal(messages.length, 2, messages.join("\n"));
            assert.match(
                messages[0],
                /^Deployment client-a\/stock-backend-api: container "api" image "harbor\.feng\.local:9800\/library\/stock_backend:latest" uses the mutable tag :latest\. Fix:/,
            );
            assert.match(
                messages[1],
                /^Job client-a\/stock-backend-api-migrate-latest: container "migrate" image .* uses the mutable tag :latest/,
            );
        });

        it("the default-deny NetworkPolicy removed from the recorded resources: tenant-namespace-default-deny names the namespace", async () => {
            const full = await stackResources("client-a", { reuse: base });
            const variant = {
                ...full,
                resources: full.resources.filter(
                    (r) => !(r.type === "kubernetes:networking.k8s.io/v1:NetworkPolicy" && r.props.metadata.name === "default-deny"),
                ),
            };
            const messages = await violationsOf(variant, "tenant-namespace-default-deny");
            assert.equal(messages.length, 1);
            assert.match(
                messages[0],
                /^Tenant Namespace client-a \(label stock-deploy\/tenant=client-a\) has no default-deny NetworkPolicy: its NetworkPolicies are not default-deny: stock-frontend: its podSelector is not \{\}/,
            );
        });

        it("frontend rendered with service.type NodePort: no-external-service-in-tenant-namespace", async () => {
            const variant = await stackResources("client-a", {
                reuse: base,
                editValues: (chart, v) => (chart === "frontend" ? { ...v, service: { ...(v.service ?? {}), type: "NodePort" } } : v),
            });
            const messages = await violationsOf(variant, "no-external-service-in-tenant-namespace");
            assert.deepEqual(
                messages.map((m) => m.split(". ")[0]),
                ["Service client-a/stock-frontend is of type NodePort in tenant namespace client-a"],
            );
        });

        it("celery rendered with runAsNonRoot false and no limits: pod-runs-as-non-root and container-resource-limits", async () => {
            const variant = await stackResources("client-a", {
                reuse: base,
                editValues: (chart, v) =>
                    chart === "celery"
                        ? {
                              ...v,
                              podSecurityContext: { runAsNonRoot: false },
                              containerSecurityContext: { runAsNonRoot: false },
                              resources: { limits: null, requests: { cpu: "100m", memory: "128Mi" } },
                          }
                        : v,
            });
            const result = await check("client-a", variant.resources);
            assert.deepEqual(result.advisory, [], explain(result));
            assert.deepEqual(
                [...new Set(result.mandatory.map((d) => d.policy))].sort(),
                ["container-resource-limits", "pod-runs-as-non-root"],
                explain(result),
            );
            const worker = (d: { message: string }) => d.message.startsWith("Deployment client-a/stock-backend-celery-default: container ");
            assert.ok(
                result.mandatory.some(
                    (d) => d.policy === "pod-runs-as-non-root" && worker(d) && d.message.includes("runAsNonRoot is false"),
                ),
                explain(result),
            );
            assert.ok(
                result.mandatory.some(
                    (d) => d.policy === "container-resource-limits" && worker(d) && d.message.includes("no cpu and no memory limit"),
                ),
                explain(result),
            );
        });

        it("a stack pushing to another registry and leaking its database password into extraEnv: registry and credential policies", async () => {
            const dbPassword = fakeSecret("stock:dbPassword", "client-a");
            const overrides = {
                "stock:harborServer": "registry.example.com",
                "stock:extraEnv": {
                    API_TOKEN: "not-a-secret-but-named-like-one",
                    LEGACY_DATABASE_URL: `mysql://stock_client_a:${dbPassword}@mysql.feng.local/stock_client_a`,
                },
            };
            // The images stack must push there too, or the tenant is refused before the policies see it.
            const scratch = scratchCopy("stock-policy-registry-");
            const imagesFile = scratch.file("Pulumi.images.yaml");
            fs.writeFileSync(
                imagesFile,
                fs.readFileSync(imagesFile, "utf8").replace("config:\n", "config:\n  stock:harborServer: registry.example.com\n"),
            );
            let variant: StackResources;
            let images: StackResources;
            try {
                variant = await stackResources("client-a", { run: { overrides, root: scratch.root } });
                images = await stackResources("images", { run: { root: scratch.root, tagLookup: fakeRegistry().lookup } });
            } finally {
                scratch.remove();
            }
            const pushed = await check(
                "images",
                images.resources,
                rawStackConfig("images", { overrides: { "stock:harborServer": "registry.example.com" } }).values,
            );
            assert.ok(
                pushed.mandatory.some(
                    (d) =>
                        d.policy === "image-from-allowed-registry" &&
                        d.message.startsWith('Image backend-app-backend: tag "registry.example.com/library/stock_backend:'),
                ),
                explain(pushed),
            );
            const result = await check("client-a", variant.resources, rawStackConfig("client-a", { overrides }).values);
            assert.deepEqual(result.advisory, [], explain(result));
            const by = (policy: string) => result.mandatory.filter((d) => d.policy === policy).map((d) => d.message);
            assert.deepEqual(
                [...new Set(result.mandatory.map((d) => d.policy))].sort(),
                ["image-from-allowed-registry", "no-plaintext-credentials", "secret-config-not-in-plaintext"],
                explain(result),
            );
            // The pushed frontend image and every container of the three charts, the backend's too.
            assert.ok(
                by("image-from-allowed-registry").some((m) =>
                    m.startsWith('Image client-a-images-frontend: tag "registry.example.com/library/frontend_stock:'),
                ),
                by("image-from-allowed-registry").join("\n"),
            );
            assert.ok(
                by("image-from-allowed-registry").some((m) => m.includes('image "registry.example.com/library/stock_backend:')),
                by("image-from-allowed-registry").join("\n"),
            );
            assert.ok(
                by("image-from-allowed-registry").some((m) =>
                    m.startsWith(
                        'Deployment client-a/stock-frontend: container "nginx" image "registry.example.com/library/frontend_stock:',
                    ),
                ),
                by("image-from-allowed-registry").join("\n"),
            );
            assert.deepEqual(
                by("no-plaintext-credentials").map((m) => m.split(". ")[0]),
                [
                    'ConfigMap client-a/stock-backend-env: data key "API_TOKEN" looks like a credential, and ConfigMaps are stored and shown in plaintext',
                ],
            );
            const leaks = by("secret-config-not-in-plaintext");
            assert.ok(
                leaks.some((m) =>
                    m.includes(
                        "stock:dbPassword appears in ConfigMap client-a/stock-backend-env (kubernetes:core/v1:ConfigMap) at data.LEGACY_DATABASE_URL",
                    ),
                ),
                leaks.join("\n"),
            );
            for (const m of leaks) assert.ok(!m.includes(dbPassword), "a violation message must not print the secret");
        });
    });
});
