/**
 * The app profile under mocks: what the real index.ts hands the charts for the stack that runs an
 * unmodified app on the defaults (client-c, our Redis key-prefix shim) and for the stacks that run
 * the reference app with its hardened endpoints (client-a, client-b).
 */
import * as assert from "assert";
import { PYTHON_RUNTIME_CONFIGMAP, readPythonRuntime } from "../../components/tenant/python-runtime";
import { ProgramRun, reveal, runProgram } from "../../tools/lib/mock-run";

const CHART = "kubernetes:helm.sh/v4:Chart";
const valuesOf = (run: ProgramRun, chart: string) => reveal(run.ofType(CHART).find((c) => c.inputs.chart.endsWith(chart))!.inputs.values);

describe("app profile under mocks", function () {
    describe("client-c: an unmodified app on the project defaults", () => {
        let run: ProgramRun;
        before(async () => {
            run = await runProgram("client-c");
        });

        it("ships runtime/python/ as ConfigMap stock-python-runtime, a child of the Tenant, file for file", () => {
            const tenant = run.one("stock:index:Tenant", "client-c");
            const cm = run.one("kubernetes:core/v1:ConfigMap", "client-c-python-runtime");
            assert.strictEqual(cm.parent, tenant.urn);
            assert.deepStrictEqual(cm.inputs.metadata, {
                name: PYTHON_RUNTIME_CONFIGMAP,
                namespace: "client-c",
                labels: { "stock-deploy/tenant": "client-c" },
            });
            const runtime = readPythonRuntime();
            assert.deepStrictEqual(cm.inputs.data, Object.fromEntries(runtime.files.map((f) => [f.key, f.content])));
            assert.ok("sitecustomize.py" in cm.inputs.data, "the shim is loaded through sitecustomize");
        });

        it("tells the shim the tenant's prefix, and the app nothing it would ignore", () => {
            const env = run.one("kubernetes:core/v1:ConfigMap", "client-c-env").inputs.data;
            assert.strictEqual(env.STOCK_REDIS_KEY_PREFIX, "client-c:");
            assert.strictEqual(env.DJANGO_REDIS_KEY_PREFIX, undefined, "one prefix, applied once");
        });

        it("mounts the runtime in the API, migration, worker and beat pods, rolling them when it changes, and starts no chart before it", () => {
            const runtime = readPythonRuntime();
            for (const chart of ["backend-api", "celery"]) {
                const values = valuesOf(run, chart);
                assert.deepStrictEqual(
                    values.pythonRuntime,
                    { configMap: PYTHON_RUNTIME_CONFIGMAP, mountPath: "/opt/stock-runtime/python" },
                    chart,
                );
                assert.strictEqual(values.podAnnotations["checksum/runtime"], runtime.checksum, chart);
            }
            assert.strictEqual(valuesOf(run, "frontend").pythonRuntime, undefined, "the frontend is no Python");
            const cmUrn = run.one("kubernetes:core/v1:ConfigMap", "client-c-python-runtime").urn;
            for (const c of run.ofType(CHART).filter((x) => !x.inputs.chart.endsWith("frontend"))) {
                assert.ok(c.dependencies.includes(cmUrn), `${c.name} waits for the runtime ConfigMap`);
            }
        });

        it("probes /api/v1/, pings Celery, runs gunicorn and celery on the real app's modules as uid/gid 1000 (frontend 101)", () => {
            const api = valuesOf(run, "backend-api");
            for (const probe of ["startupProbe", "livenessProbe", "readinessProbe"])
                assert.deepStrictEqual(api[probe], { enabled: true, kind: "http", path: "/api/v1/" }, probe);
            assert.deepStrictEqual(api.gunicorn, { command: ["gunicorn"], wsgiModule: "fin.wsgi", workers: 3, timeout: 60 });
            assert.deepStrictEqual(api.migrations, { enabled: true, command: ["python", "manage.py", "migrate", "--noinput"] });
            const celery = valuesOf(run, "celery");
            assert.deepStrictEqual(
                [celery.celeryCommand, celery.celeryApp, celery.livenessProbe],
                [["celery"], "fin.celery", { enabled: true, mode: "ping" }],
            );
            assert.strictEqual(celery.beat.schedulePath, "/tmp/celerybeat/schedule");
            for (const [chart, id] of [
                ["backend-api", 1000],
                ["celery", 1000],
                ["frontend", 101],
            ] as const) {
                const values = valuesOf(run, chart);
                assert.deepStrictEqual(values.podSecurityContext, { runAsUser: id, runAsGroup: id, fsGroup: id }, chart);
                assert.deepStrictEqual(values.containerSecurityContext, { runAsUser: id, runAsGroup: id }, chart);
            }
        });

        it("follows a stack's override of one profile key and keeps every other default", async () => {
            const changed = await runProgram("client-c", {
                overrides: {
                    "stock:apiReadinessProbe": "tcp",
                    "stock:celeryLiveness": "off",
                    "stock:migrations": false,
                    "stock:writablePaths": ["/code/media"],
                },
            });
            const api = valuesOf(changed, "backend-api");
            assert.deepStrictEqual(api.readinessProbe, { enabled: true, kind: "tcp" });
            assert.deepStrictEqual(api.livenessProbe, { enabled: true, kind: "http", path: "/api/v1/" });
            assert.strictEqual(api.migrations.enabled, false);
            assert.deepStrictEqual(api.writablePaths, ["/code/media"]);
            const celery = valuesOf(changed, "celery");
            assert.deepStrictEqual(celery.livenessProbe, { enabled: false });
            assert.deepStrictEqual(celery.writablePaths, ["/code/media"]);
        });
    });

    for (const stack of ["client-a", "client-b"]) {
        describe(`${stack}: the reference app with its hardened endpoints`, () => {
            let run: ProgramRun;
            before(async () => {
                run = await runProgram(stack);
            });

            it("probes /healthz and /readyz, checks the heartbeat file, and lets the app apply its own key prefix", () => {
                const api = valuesOf(run, "backend-api");
                assert.deepStrictEqual(
                    [api.startupProbe.path, api.livenessProbe.path, api.readinessProbe.path],
                    ["/healthz", "/healthz", "/readyz"],
                );
                assert.deepStrictEqual(valuesOf(run, "celery").livenessProbe, { enabled: true, mode: "heartbeat" });
                const env = run.one("kubernetes:core/v1:ConfigMap", `${stack}-env`).inputs.data;
                assert.strictEqual(env.DJANGO_REDIS_KEY_PREFIX, `${stack}:`);
                assert.strictEqual(env.STOCK_REDIS_KEY_PREFIX, undefined);
            });

            it("creates no runtime ConfigMap and mounts none", () => {
                assert.deepStrictEqual(
                    run.ofType("kubernetes:core/v1:ConfigMap").map((c) => c.name),
                    [`${stack}-env`],
                );
                for (const chart of ["backend-api", "celery"]) {
                    const values = valuesOf(run, chart);
                    assert.strictEqual(values.pythonRuntime.configMap, "", chart);
                    assert.strictEqual(values.podAnnotations["checksum/runtime"], undefined, chart);
                }
            });
        });
    }
});
