/**
 * Shared by the tests that run the reference app for real (tests/app/*.test.ts): where Debian's
 * Python is, what it must provide, and the environment the Pulumi program computes for a tenant.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { backendEnv, BackendEnv, RedisCredential } from "../../components/app-env";
import { TenantConfig } from "../../components/config";
import { loadTenantConfig } from "../../tools/lib/stack-files";

export const REPO_ROOT = path.resolve(__dirname, "..", "..");
export const BACKEND_DIR = path.join(REPO_ROOT, "app", "backend");
export const FRONTEND_DIR = path.join(REPO_ROOT, "app", "frontend");

/** Debian's interpreter: Debian's python3-* modules load only under it (the first python3 on PATH may be another). */
export const PYTHON = "/usr/bin/python3";
export const REDIS_SERVER = "/usr/bin/redis-server";
export const REDIS_CLI = "/usr/bin/redis-cli";

/** Python module → the Debian package that ships it (what .ci/run must install). */
const PYTHON_MODULES: Record<string, string> = {
    django: "python3-django",
    gunicorn: "gunicorn",
    celery: "python3-celery",
    kombu: "python3-kombu",
    redis: "python3-redis",
    whitenoise: "python3-whitenoise",
    pymysql: "python3-pymysql",
};

export const SKIP_ENV = "STOCK_SKIP_REAL_SERVERS";

/** Debian packages missing on this machine for the real-server tests (empty when all are there). */
export function missingDebianPackages(needs: { redis?: boolean } = {}): string[] {
    const missing = new Set<string>();
    if (!fs.existsSync(PYTHON)) {
        missing.add("python3");
        Object.values(PYTHON_MODULES).forEach((p) => missing.add(p));
    } else {
        const probe = spawnSync(PYTHON, ["-c", [
            "import importlib.util, sys",
            "print(' '.join(m for m in sys.argv[1:] if importlib.util.find_spec(m) is None))",
        ].join("\n"), ...Object.keys(PYTHON_MODULES)], { encoding: "utf8", env: { PATH: "/usr/bin:/bin" } });
        if (probe.status !== 0) throw new Error(`${PYTHON} failed to run: ${probe.stderr}`);
        for (const mod of probe.stdout.trim().split(/\s+/).filter(Boolean)) missing.add(PYTHON_MODULES[mod]);
    }
    if (needs.redis) {
        if (!fs.existsSync(REDIS_SERVER)) missing.add("redis-server");
        if (!fs.existsSync(REDIS_CLI)) missing.add("redis-tools");
    }
    return [...missing].sort();
}

/**
 * Call from a `before` hook: fails loudly when Debian's packages are missing, unless
 * STOCK_SKIP_REAL_SERVERS=1, in which case the suite is skipped with the reason.
 */
export function requireRealServers(ctx: Mocha.Context, needs: { redis?: boolean } = {}): void {
    const missing = missingDebianPackages(needs);
    if (missing.length === 0) return;
    const install = `apt-get install -y ${missing.join(" ")}`;
    if (process.env[SKIP_ENV] === "1") {
        console.warn(`    [skipped: ${SKIP_ENV}=1 and missing Debian packages; run: ${install}]`);
        ctx.skip();
    }
    throw new Error(`the real-server tests need Debian packages that are missing: ${install} ` +
        `(or set ${SKIP_ENV}=1 to skip these tests)`);
}

/** The tenant stack the real-server tests deploy "for real". */
export const TENANT_STACK = "client-a";

export interface TenantEnv {
    tenant: TenantConfig;
    /** Exactly what the program puts in the ConfigMap and the Secret. */
    env: BackendEnv;
}

/** A value nobody could mistake for a real secret. */
export const FAKE_DJANGO_SECRET_KEY = "FAKE-SECRET-django-secret-key-for-tests-only-0123456789abcdef";

/**
 * The env the Pulumi program computes for `stack` (components/app-env.ts `backendEnv` over the real
 * Pulumi.<stack>.yaml + Pulumi.yaml, with fake secrets). DJANGO_SECRET_KEY, which the Tenant
 * component generates, gets a fake value here.
 */
export function tenantEnv(redis: RedisCredential, stack = TENANT_STACK): TenantEnv {
    const tenant = loadTenantConfig(stack);
    const env = backendEnv(tenant, redis);
    return { tenant, env: { config: env.config, secret: { DJANGO_SECRET_KEY: FAKE_DJANGO_SECRET_KEY, ...env.secret } } };
}

/**
 * A process environment holding only the tenant env plus `overrides` (and a minimal PATH/HOME/LANG),
 * so the app cannot lean on anything else of the developer's or CI's environment.
 */
export function processEnv(env: BackendEnv, overrides: Record<string, string>, home: string): NodeJS.ProcessEnv {
    return {
        PATH: "/usr/bin:/bin",
        LANG: "C.UTF-8",
        HOME: home,
        PYTHONDONTWRITEBYTECODE: "1", // keep app/ free of __pycache__
        ...env.config,
        ...env.secret,
        ...overrides,
    };
}

export function tempDir(prefix: string): string {
    return fs.mkdtempSync(path.join(os.tmpdir(), `stock-${prefix}-`));
}

export function removeDir(dir: string | undefined): void {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
}
