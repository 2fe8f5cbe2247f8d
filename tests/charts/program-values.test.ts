/**
 * The program and the charts agree by test: render each chart with exactly the values the program
 * computes for every tenant stack in the repo, validate the objects against the Kubernetes schemas,
 * and check the contract between them (env names, pull secret, image, ingress host, probes).
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import * as YAML from "yaml";
import { K8sObject, helmTemplate } from "../../tools/lib/helm";
import { reveal, runProgram } from "../../tools/lib/mock-run";
import { REPO_ROOT, loadStackConfig, stackNames } from "../../tools/lib/stack-files";
import { assertEnvFrom, assertImage, assertValidRender, containersOf, ofKind, podTemplates } from "./assertions";

const tenantStacks = stackNames().filter((s) => loadStackConfig(s).role === "tenant");
/** Every Python source of a stack's backend build context, concatenated. */
function backendSource(dir: string): string {
    const root = path.resolve(REPO_ROOT, dir);
    return (fs.readdirSync(root, { recursive: true }) as string[]).filter((f) => f.endsWith(".py")).map((f) => fs.readFileSync(path.join(root, f), "utf8")).join("\n");
}

describe("charts rendered with the values the program computes", function () {
    this.timeout(60000);

    for (const stack of tenantStacks) {
        describe(stack, function () {
            let rendered: Record<string, K8sObject[]>;
            let program: Awaited<ReturnType<typeof runProgram>>;

            before(async () => {
                program = await runProgram(stack);
                const charts = program.ofType("kubernetes:helm.sh/v4:Chart");
                const objects = await Promise.all(charts.map((c) => helmTemplate(c.inputs.chart, reveal(c.inputs.values), { releaseName: c.inputs.name, namespace: c.inputs.namespace })));
                rendered = Object.fromEntries(charts.map((c, i) => [path.basename(c.inputs.chart), objects[i]]));
            });

            it("renders all three charts into valid, restricted Kubernetes objects in the tenant namespace", async () => {
                assert.deepEqual(Object.keys(rendered).sort(), ["backend-api", "celery", "frontend"]);
                for (const objects of Object.values(rendered)) await assertValidRender(objects, stack);
            });

            it("consumes the ConfigMap and Secret the program creates, and pulls with its pull secret", () => {
                const configMap = program.one("kubernetes:core/v1:ConfigMap", `${stack}-env`).inputs.metadata.name;
                const secret = program.one("kubernetes:core/v1:Secret", `${stack}-secret`).inputs.metadata.name;
                const pullSecret = program.one("kubernetes:core/v1:Secret", `${stack}-pull-secret`).inputs.metadata.name;
                assertEnvFrom(rendered["backend-api"], configMap, secret);
                assertEnvFrom(rendered.celery, configMap, secret);
                assertImage(rendered["backend-api"], program.outputs.backendImage, [pullSecret]);
                assertImage(rendered.celery, program.outputs.backendImage, [pullSecret]);
                assertImage(rendered.frontend, program.outputs.frontendImage, [pullSecret]);
            });

            it("routes the tenant's host: / to the frontend, /api to the API, matching the chart profiles", () => {
                const host = new URL(program.outputs.frontendUrl).host;
                const rules = [...ofKind(rendered.frontend, "Ingress"), ...ofKind(rendered["backend-api"], "Ingress")]
                    .flatMap((i) => i.spec.rules.flatMap((r: K8sObject) => r.http.paths.map((p: K8sObject) => `${r.host}${p.path} -> ${p.backend.service.name}`)));
                assert.deepEqual(rules.sort(), [`${host}/ -> stock-frontend`, `${host}/api -> stock-backend-api`]);
                for (const chart of ["backend-api", "frontend"]) {
                    const profile = YAML.parse(fs.readFileSync(path.join(REPO_ROOT, "charts", chart, "profiles", `${stack}.yaml`), "utf8"));
                    const values = reveal(program.ofType("kubernetes:helm.sh/v4:Chart").find((c) => c.inputs.chart.endsWith(chart))!.inputs.values);
                    assert.deepEqual(profile.ingress.hosts, values.ingress.hosts, `charts/${chart}/profiles/${stack}.yaml agrees with the program`);
                    assert.equal(profile.ingress.className, values.ingress.className);
                }
            });

            it("isolates the tenant: ingress only from the ingress controller, egress only to DNS, Redis, its database and public addresses", () => {
                const config = loadStackConfig(stack);
                assert.ok(config.role === "tenant");
                const policies = Object.values(rendered).flatMap((objects) => ofKind(objects, "NetworkPolicy"));
                assert.equal(policies.length, 3, "one NetworkPolicy per chart");
                const privateRanges = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"];
                for (const np of policies) {
                    const where = `NetworkPolicy ${np.metadata.name}`;
                    assert.deepEqual([...np.spec.policyTypes].sort(), ["Egress", "Ingress"], where);
                    for (const rule of np.spec.ingress ?? []) {
                        for (const peer of rule.from) {
                            assert.deepEqual(peer.namespaceSelector?.matchLabels, { "kubernetes.io/metadata.name": "ingress-nginx" }, `${where}: ingress only from the ingress controller's namespace`);
                        }
                    }
                    for (const rule of np.spec.egress ?? []) {
                        assert.ok(rule.to?.length, `${where}: an egress rule without 'to' would reach every namespace, other tenants' included`);
                        for (const peer of rule.to) {
                            const ns = peer.namespaceSelector?.matchLabels?.["kubernetes.io/metadata.name"];
                            if (ns !== undefined) {
                                assert.ok(["kube-system", "redis"].includes(ns), `${where}: egress to namespace ${ns}`);
                            } else if (peer.ipBlock.cidr === "0.0.0.0/0") {
                                for (const r of privateRanges) assert.ok(peer.ipBlock.except?.includes(r), `${where}: public egress must exclude ${r} (pods of other tenants)`);
                            } else {
                                assert.equal(peer.ipBlock.cidr, config.database.cidr, `${where}: egress to ${peer.ipBlock.cidr}`);
                            }
                        }
                    }
                }
                assert.deepEqual(ofKind(rendered.celery, "NetworkPolicy")[0].spec.ingress ?? [], [], "nothing may connect to a Celery worker");
                const deny = program.one("kubernetes:networking.k8s.io/v1:NetworkPolicy").inputs;
                assert.deepEqual(deny.spec, { podSelector: {}, policyTypes: ["Ingress", "Egress"] }, "the namespace's default deny");
            });

            it("gives every container the resources the stack configures", () => {
                const config = loadStackConfig(stack);
                assert.ok(config.role === "tenant");
                const resourcesOf = (d: K8sObject) => containersOf(d.spec.template)[0].resources;
                assert.deepEqual(resourcesOf(ofKind(rendered["backend-api"], "Deployment")[0]), config.resources.api);
                assert.deepEqual(resourcesOf(ofKind(rendered.frontend, "Deployment")[0]), config.resources.frontend);
                for (const w of config.celery.workers) {
                    const d = ofKind(rendered.celery, "Deployment").find((x) => x.metadata.name === `stock-backend-celery-${w.name}`)!;
                    assert.deepEqual(resourcesOf(d), w.resources ?? config.resources.celery, `worker ${w.name}`);
                }
            });

            it("rolls the backend pods when the env changes (checksum annotation from the program)", () => {
                const checksum = reveal(program.ofType("kubernetes:helm.sh/v4:Chart").find((c) => c.inputs.chart.endsWith("backend-api"))!.inputs.values).podAnnotations["checksum/env"];
                assert.match(checksum, /^[0-9a-f]{16}$/);
                for (const chart of ["backend-api", "celery"]) {
                    for (const { owner, template } of podTemplates(rendered[chart])) {
                        assert.equal(template.metadata.annotations?.["checksum/env"], checksum, `${owner.kind} ${owner.metadata.name}`);
                    }
                }
            });

            it("probes paths the stack's backend really serves, and the heartbeat only where the app writes one", () => {
                const config = loadStackConfig(stack);
                assert.ok(config.role === "tenant");
                const source = backendSource(config.images.backend.source);
                const api = ofKind(rendered["backend-api"], "Deployment")[0];
                for (const probe of ["startupProbe", "livenessProbe", "readinessProbe"]) {
                    const p = containersOf(api.spec.template)[0][probe].httpGet.path;
                    // Django routes are written without the leading slash; the reference app's probe middleware with it.
                    assert.ok(source.includes(`"${p}"`) || source.includes(`"${p.slice(1)}"`), `${config.images.backend.source} answers ${p} (${probe})`);
                }
                for (const worker of ofKind(rendered.celery, "Deployment").filter((d) => !d.metadata.name.endsWith("-beat"))) {
                    const c = containersOf(worker.spec.template)[0];
                    if (config.app.celery.liveness === "heartbeat") {
                        const heartbeat = (c.env ?? []).find((e: K8sObject) => /HEARTBEAT/.test(e.name));
                        assert.ok(heartbeat && source.includes(heartbeat.name), `${worker.metadata.name} tells the app where its heartbeat is, by a name the app reads`);
                        assert.ok(c.livenessProbe.exec.command.join(" ").includes(heartbeat.value));
                    } else {
                        assert.deepEqual(c.livenessProbe.exec.command, ["/bin/sh", "-c", `celery -A ${config.app.celery.app} inspect ping -d ${worker.metadata.name.replace("stock-backend-celery-", "")}@$HOSTNAME --timeout 10`]);
                        assert.equal(c.startupProbe, undefined, "no heartbeat to wait for");
                    }
                }
                const queues = ofKind(rendered.celery, "Deployment").flatMap((d) => {
                    const args: string[] = [...(containersOf(d.spec.template)[0].command ?? []), ...(containersOf(d.spec.template)[0].args ?? [])];
                    const q = args.indexOf("-Q");
                    return q >= 0 ? args[q + 1].split(",") : [];
                });
                assert.deepEqual([...queues].sort(), [...config.celery.queues].sort(), "every queue has exactly one worker Deployment");
            });

            it("runs the commands the stack's profile names, on modules its backend has, as its user and group", () => {
                const config = loadStackConfig(stack);
                assert.ok(config.role === "tenant");
                const root = path.resolve(REPO_ROOT, config.images.backend.source);
                const moduleFile = (m: string) => path.join(root, ...m.split(":")[0].split(".")) + ".py";
                assert.ok(fs.existsSync(moduleFile(config.app.api.wsgiModule)), `${config.app.api.wsgiModule} is in ${config.images.backend.source}`);
                assert.ok(fs.existsSync(moduleFile(config.app.celery.app)), `${config.app.celery.app} is in ${config.images.backend.source}`);
                const api = containersOf(ofKind(rendered["backend-api"], "Deployment")[0].spec.template)[0];
                assert.deepEqual(api.command.slice(0, config.app.api.command.length + 3), [...config.app.api.command, config.app.api.wsgiModule, "--bind", "0.0.0.0:8080"]);
                for (const d of ofKind(rendered.celery, "Deployment")) {
                    const c = containersOf(d.spec.template)[0];
                    assert.deepEqual(c.command.slice(0, config.app.celery.command.length + 2), [...config.app.celery.command, "-A", config.app.celery.app], d.metadata.name);
                }
                const jobs = ofKind(rendered["backend-api"], "Job");
                assert.equal(jobs.length, config.app.migrations.enabled ? 1 : 0);
                if (jobs.length) assert.deepEqual(containersOf(jobs[0].spec.template)[0].command, config.app.migrations.command);
                for (const [chart, runAs] of [["backend-api", config.app.runAs.backend], ["celery", config.app.runAs.backend], ["frontend", config.app.runAs.frontend]] as const) {
                    for (const { owner, template } of podTemplates(rendered[chart])) {
                        const where = `${owner.kind} ${owner.metadata.name}`;
                        assert.deepEqual([template.spec.securityContext.runAsUser, template.spec.securityContext.runAsGroup, template.spec.securityContext.runAsNonRoot], [runAs.user, runAs.group, true], where);
                        for (const c of containersOf(template)) assert.deepEqual([c.securityContext.runAsUser, c.securityContext.runAsGroup, c.securityContext.readOnlyRootFilesystem], [runAs.user, runAs.group, true], where);
                    }
                }
            });

            it("puts our Python runtime on PYTHONPATH of every backend container exactly when the shim applies the key prefix", () => {
                const config = loadStackConfig(stack);
                assert.ok(config.role === "tenant");
                const shim = config.app.redisKeyPrefix === "shim";
                const envMap = program.one("kubernetes:core/v1:ConfigMap", `${stack}-env`).inputs.data;
                assert.equal(envMap.STOCK_REDIS_KEY_PREFIX, shim ? `${stack}:` : undefined);
                const runtimeMaps = program.ofType("kubernetes:core/v1:ConfigMap").filter((c) => c.inputs.metadata.name === "stock-python-runtime");
                assert.equal(runtimeMaps.length, shim ? 1 : 0);
                for (const chart of ["backend-api", "celery"]) {
                    for (const { owner, template } of podTemplates(rendered[chart])) {
                        const where = `${owner.kind} ${owner.metadata.name}`;
                        const volume = (template.spec.volumes ?? []).find((v: K8sObject) => v.configMap?.name === "stock-python-runtime");
                        assert.equal(!!volume, shim, `${where}: runtime volume`);
                        assert.equal(!!template.metadata.annotations?.["checksum/runtime"], shim, `${where}: checksum/runtime`);
                        for (const c of containersOf(template)) {
                            const mount = (c.volumeMounts ?? []).find((m: K8sObject) => m.name === volume?.name);
                            const pythonPath = (c.env ?? []).find((e: K8sObject) => e.name === "PYTHONPATH")?.value;
                            if (shim) {
                                assert.deepEqual([mount?.mountPath, mount?.readOnly, pythonPath], ["/opt/stock-runtime/python", true, "/opt/stock-runtime/python"], `${where} ${c.name}`);
                            } else {
                                assert.equal(pythonPath, undefined, `${where} ${c.name}`);
                            }
                        }
                    }
                }
            });
        });
    }
});
