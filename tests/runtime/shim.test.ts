/**
 * The stock runtime shim (runtime/python) on its own, with Debian's kombu and a real redis-server
 * holding the shared stack's users.acl: the kombu paths that its own global_keyprefix misses (WATCH
 * in the unacked restore, EXISTS in a passive declare), an app's own prefix, the fail-closed paths
 * (malformed prefix, unknown kombu layout, no prefix at all) and the chain-loading of an image's own
 * sitecustomize. Each check runs in a fresh python3 that loaded the shim as a pod does: PYTHONPATH.
 */
import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

import { TENANT_REDIS_DB } from "../../components/redis/acl";
import { PYTHON, requireRealServers } from "../support/real-servers";
import { redisCli, RedisServer, startRedisServer } from "../support/redis-server";
import { SharedStackRedis, sharedRedisServerOptions, sharedStackRedis } from "../support/shared-stack";
import { OTHER_PYTHON_SOURCES, PREFIX_ENV, RUNTIME_DIR, runtimeFiles, writeConfigMapVolume } from "./pods";

const CHECKS = path.join(__dirname, "shim_checks.py");
const KOMBU_SOURCE = OTHER_PYTHON_SOURCES;

interface PythonRun {
    status: number | null;
    stdout: string;
    stderr: string;
}

function python(
    args: string[],
    env: Record<string, string | undefined>,
    pythonPath = [RUNTIME_DIR, KOMBU_SOURCE].filter(Boolean).join(":"),
): PythonRun {
    const full: NodeJS.ProcessEnv = {
        PATH: "/usr/bin:/bin",
        LANG: "C.UTF-8",
        HOME: os.tmpdir(),
        PYTHONDONTWRITEBYTECODE: "1",
        PYTHONPATH: pythonPath,
    };
    for (const [k, v] of Object.entries(env)) if (v !== undefined) full[k] = v;
    const r = spawnSync(PYTHON, args, { cwd: __dirname, env: full, encoding: "utf8", timeout: 30_000, killSignal: "SIGKILL" });
    return { status: r.status, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
}

function check<T>(name: string, url: string, env: Record<string, string | undefined>): { report: T; stderr: string } {
    const r = python([CHECKS, name, url], env);
    assert.equal(r.status, 0, `shim_checks.py ${name} failed:\n${r.stdout}\n${r.stderr}`);
    return { report: JSON.parse(r.stdout.trim().split("\n").pop()!) as T, stderr: r.stderr };
}

describe(`runtime/python: the stock runtime shim with ${KOMBU_SOURCE ? `the kombu in ${KOMBU_SOURCE}` : "Debian's kombu"} and redis-server`, function () {
    this.timeout(30_000);
    let shared: SharedStackRedis;
    let redis: RedisServer;
    const url = (tenant: string) => {
        const c = shared.credentials[tenant];
        return `redis://${c.username}:${c.password}@${redis.host}:${redis.port}/${TENANT_REDIS_DB}`;
    };
    const asDefault = () => ({ user: "default", password: shared.defaultPassword });

    before(async function () {
        this.timeout(30_000);
        requireRealServers(this, { modules: ["celery", "kombu", "redis"], redis: true });
        shared = await sharedStackRedis();
        redis = await startRedisServer(sharedRedisServerOptions(shared));
    });

    after(async function () {
        await redis?.stop();
    });

    beforeEach(async function () {
        assert.equal(await redisCli(redis, asDefault(), ["ACL", "LOG", "RESET"]), "OK");
    });

    it("restores unacked messages (WATCH) and declares passively (EXISTS) under the tenant's ACL", async function () {
        const { report, stderr } = check<Record<string, unknown>>("restore", url("client-a"), { [PREFIX_ENV]: "client-a:" });
        assert.deepEqual(report, { restore_visible: "ok", restore_unacked: "ok", qsize: 3 });
        assert.match(stderr, /put under 'client-a:' \(STOCK_REDIS_KEY_PREFIX\); also prefixed: (WATCH, )?EXISTS/);
        assert.equal(await redisCli(redis, asDefault(), ["ACL", "LOG"]), "", "no ACL denial");
    });

    it("replaces an app's own global_keyprefix with the tenant's, and says so", async function () {
        const { report, stderr } = check<Record<string, unknown>>("app-prefix", url("client-a"), { [PREFIX_ENV]: "client-a:" });
        assert.deepEqual(report, { payload: { hello: "world" }, channel_prefix: "client-a:" });
        assert.match(stderr, /WARNING the app's global_keyprefix 'not-the-tenant:' is replaced by the tenant prefix 'client-a:'/);
        assert.equal(await redisCli(redis, asDefault(), ["EXISTS", "client-a:_kombu.binding.news"]), "1");
    });

    it("puts a Redis result backend's keys and result channels under the prefix (store, read, wait by pub/sub)", async function () {
        const { report, stderr } = check<Record<string, unknown>>("results", url("client-a"), { [PREFIX_ENV]: "client-a:" });
        assert.deepEqual(report, { task_key: "client-a:celery-task-meta-t-1", waited: { x: 1 }, meta_status: "SUCCESS" });
        assert.match(stderr, /Redis result backend keys and channels are put under 'client-a:'/);
        assert.equal(await redisCli(redis, asDefault(), ["ACL", "LOG"]), "", "no ACL denial");
    });

    for (const bad of ["", "client-a", "Client-A:", "client-a:*", "client-a:x:"]) {
        it(`opens no channel with ${PREFIX_ENV}=${JSON.stringify(bad)} and names the cause`, function () {
            const r = python(
                ["-c", `from kombu import Connection\nConnection(${JSON.stringify(url("client-a"))}).SimpleQueue("price").put({})`],
                { [PREFIX_ENV]: bad },
            );
            assert.notEqual(r.status, 0);
            assert.match(
                r.stderr,
                /StockRedisPrefixError: cannot put kombu's Redis keys under the tenant prefix \(STOCK_REDIS_KEY_PREFIX=.* is not a tenant prefix/,
            );
        });
    }

    it("opens no channel on a kombu whose layout it does not know", function () {
        const { report, stderr } = check<Record<string, unknown>>("layout", url("client-a"), {});
        assert.equal(report.applied, false);
        assert.equal(report.opened, false);
        assert.match(
            String(report.error),
            /^StockRedisPrefixError: .*GlobalKeyPrefixMixin has no PREFIXED_SIMPLE_COMMANDS list \/ PREFIXED_COMPLEX_COMMANDS dict/,
        );
        assert.match(stderr, /ERROR cannot put kombu's Redis keys under the tenant prefix/);
    });

    it(`without ${PREFIX_ENV} changes nothing, says so, and the tenant's user refuses the unprefixed keys`, async function () {
        const r = python(
            ["-c", `from kombu import Connection\nConnection(${JSON.stringify(url("client-a"))}).SimpleQueue("price").put({})`],
            {},
        );
        assert.notEqual(r.status, 0);
        assert.match(r.stderr, /STOCK_REDIS_KEY_PREFIX is not set: kombu's Redis keys stay as the app sets them/);
        assert.match(r.stderr, /NoPermissionError/);
        // The refused key is the app's own, unprefixed queue (kombu's priority sub-queues end in \x06\x16<n>).
        const priority = String.fromCharCode(6, 0x16);
        assert.match(
            await redisCli(redis, asDefault(), ["ACL", "LOG"]),
            new RegExp(`\nobject\nprice(${priority}\\d)?\nusername\nclient-a\n`),
        );
    });

    it("chain-loads the image's own sitecustomize after installing itself, once, mounted as a ConfigMap volume", function () {
        const image = fs.mkdtempSync(path.join(os.tmpdir(), "stock-image-site-"));
        // The kubelet's layout: sitecustomize.py -> ..data/sitecustomize.py; the shim must not chain itself.
        const mounted = path.join(image, "stock-runtime");
        writeConfigMapVolume(mounted, runtimeFiles());
        try {
            fs.writeFileSync(
                path.join(image, "sitecustomize.py"),
                [
                    "import sys",
                    "print('image sitecustomize ran, shim installed before it:', any(type(f).__name__ == '_PostImportFinder' for f in sys.meta_path))",
                    "",
                ].join("\n"),
            );
            const r = python(
                [
                    "-c",
                    "import sitecustomize, sys; print('module:', sitecustomize.__file__, 'finders:', sum(type(f).__name__ == '_PostImportFinder' for f in sys.meta_path))",
                ],
                { [PREFIX_ENV]: "client-a:" },
                [mounted, image, KOMBU_SOURCE].filter(Boolean).join(":"),
            );
            assert.equal(r.status, 0, r.stderr);
            assert.equal(r.stderr, "", "no warning");
            assert.deepEqual(r.stdout.trim().split("\n"), [
                "image sitecustomize ran, shim installed before it: True",
                `module: ${path.join(mounted, "sitecustomize.py")} finders: 1`,
            ]);
        } finally {
            fs.rmSync(image, { recursive: true, force: true });
        }
    });
});
