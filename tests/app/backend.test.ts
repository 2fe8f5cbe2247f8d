/**
 * The reference backend for real: Debian's gunicorn serving app/backend with the env the Pulumi
 * program computes for client-a (components/tenant/app-env.ts over Pulumi.client-a.yaml), with
 * DEPLOY_TYPE=test + DJANGO_SQLITE_PATH on top so no MySQL is needed, plus a second gunicorn in the
 * tenant's own DEPLOY_TYPE (prod: MySQL through PyMySQL) whose database is unreachable.
 */
import * as assert from "assert";
import * as path from "path";
import { DeadPort, HttpResponse, ManagedProcess, PYTHON, deadPort, freePort, httpRequest, requireRealServers, runToCompletion, startProcess, waitForHttp } from "../support/real-servers";
import { BACKEND_DIR, TenantEnv, processEnv, removeDir, tempDir, tenantEnv } from "./harness";

const QUEUES = ["summary", "stock", "statement", "price", "news"];

describe("app/backend: Django API under gunicorn (real servers)", function () {
    this.timeout(60_000);
    let started = 0;
    let dir: string | undefined;
    let t: TenantEnv;
    let tenantHost: string;
    let api: ManagedProcess | undefined; // DEPLOY_TYPE=test, SQLite
    let apiDbDown: ManagedProcess | undefined; // the tenant's DEPLOY_TYPE, MySQL unreachable
    let base = "";
    let baseDbDown = "";
    let deadRedis: DeadPort | undefined;
    let deadDb: DeadPort | undefined;

    before(async function () {
        started = Date.now();
        requireRealServers(this);
        dir = tempDir("backend");
        // Redis is not running in this suite: a port held dead (every connection reset), so task
        // endpoints meet a dead broker and no other process on the machine can answer in its place.
        [deadRedis, deadDb] = await Promise.all([deadPort(), deadPort()]);
        t = tenantEnv({ host: "127.0.0.1", port: deadRedis.port, username: "client-a", password: "FAKE-SECRET-redis-password", keyPrefix: "client-a:" });
        tenantHost = t.env.config.DJANGO_ALLOWED_HOSTS.split(",")[0];

        const testEnv = processEnv(t.env, {
            DEPLOY_TYPE: "test",
            DJANGO_SQLITE_PATH: path.join(dir, "stock.sqlite3"),
            DJANGO_STATIC_ROOT: path.join(dir, "static"),
        }, dir);
        runToCompletion(PYTHON, ["manage.py", "migrate", "--noinput", "-v", "0"], { cwd: BACKEND_DIR, env: testEnv });
        runToCompletion(PYTHON, ["manage.py", "collectstatic", "--noinput", "-v", "0"], { cwd: BACKEND_DIR, env: testEnv });

        const [port, portDbDown] = await Promise.all([freePort(), freePort()]);
        const dbDownEnv = processEnv(t.env, { DJANGO_DB_HOST: "127.0.0.1", DJANGO_DB_PORT: String(deadDb.port) }, dir);
        const gunicorn = (bind: number) => ["-m", "gunicorn", "fin.wsgi", "--bind", `127.0.0.1:${bind}`, "--workers", "1", "--graceful-timeout", "2"];
        api = startProcess("gunicorn (test)", PYTHON, gunicorn(port), { cwd: BACKEND_DIR, env: testEnv });
        apiDbDown = startProcess("gunicorn (db down)", PYTHON, gunicorn(portDbDown), { cwd: BACKEND_DIR, env: dbDownEnv });
        base = `http://127.0.0.1:${port}`;
        baseDbDown = `http://127.0.0.1:${portDbDown}`;
        await Promise.all([
            waitForHttp(`${base}/healthz`, { process: api, status: 200 }),
            waitForHttp(`${baseDbDown}/healthz`, { process: apiDbDown, status: 200 }),
        ]);
    });

    after(async function () {
        await Promise.all([api?.stop(), apiDbDown?.stop()]);
        await Promise.all([deadRedis?.close(), deadDb?.close()]);
        removeDir(dir);
        console.log(`      (backend suite: ${((Date.now() - started) / 1000).toFixed(1)} s)`);
    });

    const get = (url: string, host?: string) => httpRequest(url, { headers: host ? { Host: host } : {} });
    const explain = (res: HttpResponse) => `HTTP ${res.status}: ${res.body.slice(0, 300)}`;

    it("runs with the env the program computes for client-a (ConfigMap + Secret, nothing else)", function () {
        assert.strictEqual(t.tenant.tenant, "client-a");
        assert.ok(tenantHost, "DJANGO_ALLOWED_HOSTS is empty");
        assert.ok(t.env.config.DJANGO_REDIS_KEY_PREFIX, "DJANGO_REDIS_KEY_PREFIX is empty");
    });

    it("GET /healthz → 200, with the tenant host and with any Host (kubelet uses the pod IP)", async function () {
        for (const host of [tenantHost, "10.42.0.17:8080", "unknown.example"]) {
            const res = await get(`${base}/healthz`, host);
            assert.strictEqual(res.status, 200, `Host ${host}: ${explain(res)}`);
            assert.deepStrictEqual(res.json(), { status: "ok" });
        }
    });

    it("GET /readyz → 200 when the database answers, with any Host", async function () {
        for (const host of [tenantHost, "10.42.0.17:8080"]) {
            const res = await get(`${base}/readyz`, host);
            assert.strictEqual(res.status, 200, `Host ${host}: ${explain(res)}`);
            assert.strictEqual(res.json<{ status: string }>().status, "ok");
        }
    });

    it("GET /api/v1/ with the tenant's host → 200 JSON naming the service, tenant and version", async function () {
        const res = await get(`${base}/api/v1/`, tenantHost);
        assert.strictEqual(res.status, 200, explain(res));
        assert.match(String(res.headers["content-type"]), /^application\/json/);
        const body = res.json<Record<string, unknown>>();
        assert.strictEqual(body.service, "stock-backend");
        assert.strictEqual(body.tenant, t.env.config.DJANGO_REDIS_KEY_PREFIX.replace(/:+$/, ""));
        assert.strictEqual(body.tenant, "client-a");
        assert.strictEqual(body.deploy_type, "test");
        assert.match(String(body.version), /^\d+\.\d+\.\d+/);
    });

    it("GET /api/v1/ with an unknown Host → 400 (ALLOWED_HOSTS applies to everything but the probes)", async function () {
        for (const host of ["unknown.example", "10.42.0.17:8080", "app.client-b.feng.local"]) {
            const res = await get(`${base}/api/v1/`, host);
            assert.strictEqual(res.status, 400, `Host ${host}: ${explain(res)}`);
        }
        const asset = await get(`${base}/api/static/fin/ping.txt`, "unknown.example");
        assert.strictEqual(asset.status, 400, `static file with unknown Host: ${explain(asset)}`);
    });

    it("unknown paths → 404 (JSON)", async function () {
        for (const p of ["/nope", "/api/v2/", "/api/v1/nope/", "/healthz/extra", "/"]) {
            const res = await get(`${base}${p}`, tenantHost);
            assert.strictEqual(res.status, 404, `${p}: ${explain(res)}`);
            assert.deepStrictEqual(res.json(), { error: "not found" });
        }
    });

    it("serves the collected static files under /api/static/ (whitenoise)", async function () {
        const res = await get(`${base}/api/static/fin/ping.txt`, tenantHost);
        assert.strictEqual(res.status, 200, explain(res));
        assert.strictEqual(res.body.trim(), "ok");
    });

    it("task endpoints: POST /api/v1/tasks/<queue>/ only for the five queues, GET /api/v1/tasks/<uuid>/", async function () {
        const unknown = await httpRequest(`${base}/api/v1/tasks/nope/`, { method: "POST", headers: { Host: tenantHost } });
        assert.strictEqual(unknown.status, 404, explain(unknown));
        assert.deepStrictEqual(unknown.json<{ queues: string[] }>().queues, QUEUES);
        const wrongMethod = await get(`${base}/api/v1/tasks/summary/`, tenantHost);
        assert.strictEqual(wrongMethod.status, 405, explain(wrongMethod));
    });

    it("task endpoints answer 503 quickly when the broker is down (no hanging request)", async function () {
        const t0 = Date.now();
        const send = await httpRequest(`${base}/api/v1/tasks/summary/`, { method: "POST", headers: { Host: tenantHost } });
        assert.strictEqual(send.status, 503, explain(send));
        const status = await get(`${base}/api/v1/tasks/0b8a8f5e-1111-4c1c-9a7e-123456789abc/`, tenantHost);
        assert.strictEqual(status.status, 503, explain(status));
        assert.ok(Date.now() - t0 < 10_000, `took ${Date.now() - t0} ms`);
        assert.ok(deadRedis!.connections() > 0, "the API never tried the dead broker's port");
    });

    describe(`in the tenant's own DEPLOY_TYPE with its MySQL unreachable`, function () {
        it("GET /readyz → 503, /healthz still 200 (liveness never touches the database)", async function () {
            const ready = await get(`${baseDbDown}/readyz`, "10.42.0.17:8080");
            assert.strictEqual(ready.status, 503, explain(ready));
            assert.strictEqual(ready.json<{ status: string }>().status, "unavailable");
            assert.ok(deadDb!.connections() > 0, "readyz never tried the dead database's port");
            assert.doesNotMatch(ready.body, /FAKE-SECRET|password/i, "readyz must not leak connection details");
            const live = await get(`${baseDbDown}/healthz`, "10.42.0.17:8080");
            assert.strictEqual(live.status, 200, explain(live));
        });

        it("GET /api/v1/ still answers (it needs no database) and reports the tenant's DEPLOY_TYPE", async function () {
            const res = await get(`${baseDbDown}/api/v1/`, tenantHost);
            assert.strictEqual(res.status, 200, explain(res));
            assert.strictEqual(res.json<{ deploy_type: string }>().deploy_type, t.env.config.DEPLOY_TYPE);
        });
    });

    describe("settings", function () {
        // One Python process imports fin.settings once per case (fast), each with its own env.
        function settingsErrors(cases: Record<string, Record<string, string | null>>): Record<string, string> {
            const script = [
                "import json, os, runpy, sys",
                "cases = json.loads(sys.stdin.read())",
                "base = dict(os.environ)",
                "out = {}",
                "for name, changes in cases.items():",
                "    os.environ.clear(); os.environ.update(base)",
                "    for k, v in changes.items():",
                "        if v is None: os.environ.pop(k, None)",
                "        else: os.environ[k] = v",
                "    for m in [m for m in sys.modules if m == 'fin' or m.startswith('fin.')]: del sys.modules[m]",
                "    try:",
                "        runpy.run_module('fin.settings', run_name='fin.settings')",
                "        out[name] = ''",
                "    except Exception as e:",
                "        out[name] = '%s: %s' % (type(e).__name__, e)",
                "print(json.dumps(out))",
            ].join("\n");
            const env = processEnv(t.env, {}, dir!);
            const out = runToCompletion(PYTHON, ["-c", script], { cwd: BACKEND_DIR, env, input: JSON.stringify(cases) });
            return JSON.parse(out.trim().split("\n").pop()!);
        }

        it("a missing required variable is an ImproperlyConfigured that names it", function () {
            const errors = settingsErrors({
                complete: {},
                DJANGO_SECRET_KEY: { DJANGO_SECRET_KEY: null },
                DJANGO_ALLOWED_HOSTS: { DJANGO_ALLOWED_HOSTS: "" },
                DJANGO_REDIS_HOST: { DJANGO_REDIS_HOST: null },
                MYSQL_DATABASE: { DEPLOY_TYPE: "prod", MYSQL_DATABASE: null },
                DJANGO_DB_USER: { DEPLOY_TYPE: "dev", DJANGO_DB_USER: null },
                DJANGO_DB_PWD: { DEPLOY_TYPE: "prod", DJANGO_DB_PWD: null },
                DJANGO_DB_HOST: { DEPLOY_TYPE: "prod", DJANGO_DB_HOST: null },
                testWithoutDb: { DEPLOY_TYPE: "test", MYSQL_DATABASE: null, DJANGO_DB_USER: null, DJANGO_DB_PWD: null, DJANGO_DB_HOST: null, DJANGO_DB_PORT: null },
                badDeployType: { DEPLOY_TYPE: "staging" },
                badDebug: { DJANGO_DEBUG: "yes" },
                badRedisPort: { DJANGO_REDIS_PORT: "redis" },
                redisHostWithPort: { DJANGO_REDIS_HOST: "u:p@redis:6379" },
            });
            assert.strictEqual(errors.complete, "", `the tenant env itself fails: ${errors.complete}`);
            assert.strictEqual(errors.testWithoutDb, "", `DEPLOY_TYPE=test must not need DB vars: ${errors.testWithoutDb}`);
            for (const name of ["DJANGO_SECRET_KEY", "DJANGO_ALLOWED_HOSTS", "DJANGO_REDIS_HOST", "MYSQL_DATABASE", "DJANGO_DB_USER", "DJANGO_DB_PWD", "DJANGO_DB_HOST"]) {
                assert.match(errors[name], new RegExp(`^ImproperlyConfigured: Missing required environment variable ${name}\\b`), name);
            }
            assert.match(errors.badDeployType, /ImproperlyConfigured: DEPLOY_TYPE must be one of dev\/test\/prod/);
            assert.match(errors.badDebug, /ImproperlyConfigured: DJANGO_DEBUG must be '0' or '1'/);
            assert.match(errors.badRedisPort, /ImproperlyConfigured: DJANGO_REDIS_PORT must be a TCP port/);
            assert.match(errors.redisHostWithPort, /ImproperlyConfigured: DJANGO_REDIS_HOST must be <user>:<password>@<host>/);
        });

        it("builds the broker URL from DJANGO_REDIS_HOST (<user>:<password>@<host>) and DJANGO_REDIS_PORT, encoding the password", function () {
            const script = [
                "import os; os.environ['DJANGO_SETTINGS_MODULE'] = 'fin.settings'",
                "from django.conf import settings",
                "print(settings.CELERY_BROKER_URL); print(settings.CELERY_RESULT_BACKEND)",
            ].join("\n");
            const env = processEnv(t.env, { DJANGO_REDIS_HOST: "client-a:FAKE/p@ss:w0rd@redis-master.redis.svc.cluster.local", DJANGO_REDIS_PORT: "6380" }, dir!);
            const [broker, backend] = runToCompletion(PYTHON, ["-c", script], { cwd: BACKEND_DIR, env }).trim().split("\n").slice(-2);
            assert.strictEqual(broker, "redis://client-a:FAKE%2Fp%40ss%3Aw0rd@redis-master.redis.svc.cluster.local:6380/0");
            assert.strictEqual(backend, `fin.results:PrefixedRedisBackend+${broker}`);
            const seed = processEnv(t.env, { DJANGO_REDIS_HOST: "default:FAKE@redis-master.redis.svc.cluster.local", DJANGO_REDIS_PORT: "" }, dir!);
            const [seedBroker] = runToCompletion(PYTHON, ["-c", script], { cwd: BACKEND_DIR, env: seed }).trim().split("\n").slice(-2);
            assert.strictEqual(seedBroker, "redis://default:FAKE@redis-master.redis.svc.cluster.local:6379/0", "the seed's redis://%s:6379/0");
        });
    });
});
