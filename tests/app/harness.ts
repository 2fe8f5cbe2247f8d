/**
 * Shared by the tests of the reference app (tests/app/*.test.ts): where the app is, and the
 * environment the Pulumi program computes for a tenant. Debian's Python, the prerequisites check
 * (STOCK_SKIP_REAL_SERVERS) and the process handling are in ../support/real-servers.ts.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { backendEnv, BackendEnv } from "../../components/tenant/app-env";
import { RedisConnection } from "../../components/redis/credential";
import { TenantConfig } from "../../components/config";
import { loadTenantConfig, REPO_ROOT } from "../../tools/lib/stack-files";

export { REPO_ROOT };
export const BACKEND_DIR = path.join(REPO_ROOT, "app", "backend");
export const FRONTEND_DIR = path.join(REPO_ROOT, "app", "frontend");

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
 * The env the Pulumi program computes for `stack` (components/tenant/app-env.ts `backendEnv` over the real
 * Pulumi.<stack>.yaml + Pulumi.yaml, with fake secrets). DJANGO_SECRET_KEY, which the Tenant
 * component generates, gets a fake value here.
 */
export function tenantEnv(redis: RedisConnection, stack = TENANT_STACK): TenantEnv {
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
