/**
 * The seed's last step on loopback: load balancer → ingress → pods, for tenants side by side, all
 * from what the stacks render (./stacks.ts). Backends (gunicorn + Celery on one redis-server with
 * the shared stack's ACL file, run from the rendered containers: ./backend-pods.ts) are started once; a "site" (frontend pods, ingress, load balancer,
 * browser) is cheap and can be started again with one piece broken, to prove the test catches it.
 */
import * as fs from "fs";
import * as path from "path";
import { Browser } from "playwright-core";
import { API_URL_VARIABLE, parseDotenv } from "../../components/tenant/frontend-env";
import { RELEASES } from "../../components/tenant/chart-values";
import { K8sObject } from "../../tools/lib/helm";
import { removeDir, tempDir } from "../app/harness";
import { NginxServer, httpMain, startNginx } from "../support/nginx";
import { ManagedProcess, freePort, runToCompletion } from "../support/real-servers";
import { RedisServer, startRedisServer } from "../support/redis-server";
import { PageReport, assertTenantPage, launchBrowser, openPage } from "./browser";
import { startFrontendPod } from "./frontend-pod";
import { ingressNginxHttp, ingressRoutes } from "./ingress-nginx";
import { loadBalancerHttp } from "./load-balancer";
import { SharedStackRedis, sharedRedisServerOptions, sharedStackRedis } from "../support/shared-stack";
import { TenantStack, tenantStack } from "./stacks";
import { BackendPods, createTenantDatabase, loopbackDatabaseConfig, startBackendPods } from "./backend-pods";
import { MysqlServer, startMysqlServer } from "../support/mysql-server";

export interface Backends {
    shared: SharedStackRedis;
    redis: RedisServer;
    /** The loopback MariaDB standing for the external MySQL. */
    db: MysqlServer;
    tenants: TenantStack[];
    /** The backend pods' processes, by tenant. */
    pods: Record<string, BackendPods>;
    /** `<namespace>/<Service>` → host:port of the process standing for its pods. */
    endpoints: Record<string, string>;
    processes: ManagedProcess[];
    stop(): Promise<void>;
}

/** A tenant stack to deploy, optionally with config keys changed (as `pulumi config set` would). */
export interface StackSpec {
    stack: string;
    overrides?: Record<string, unknown>;
}

/**
 * redis-server with the shared stack's ACL file; per tenant stack, its backend pods as the charts
 * render them (./backend-pods.ts, which lists what loopback changes), ready by their own probes.
 */
export async function startBackends(stacks: StackSpec[]): Promise<Backends> {
    const shared = await sharedStackRedis();
    const redis = await startRedisServer(sharedRedisServerOptions(shared));
    const dbPort = await freePort();
    const dbStarting = startMysqlServer(dbPort);
    const dirs: string[] = [];
    const processes: ManagedProcess[] = [];
    const stop = async () => {
        await Promise.all(processes.map((p) => p.stop()));
        await Promise.all([redis.stop(), dbStarting.then((db) => db.stop()).catch(() => undefined)]);
        dirs.forEach(removeDir);
    };
    try {
        // One program at a time: Pulumi's mocks are global to the process.
        const tenants: TenantStack[] = [];
        for (const s of stacks) {
            const overrides = { ...loopbackDatabaseConfig({ host: "127.0.0.1", port: dbPort }), ...s.overrides };
            tenants.push(await tenantStack(s.stack, shared, { host: redis.host, port: redis.port }, overrides));
        }
        const db = await dbStarting;
        tenants.forEach((t) => createTenantDatabase(t, db));
        const endpoints: Record<string, string> = {};
        const pods: Record<string, BackendPods> = {};
        await Promise.all(
            tenants.map(async (t) => {
                const dir = tempDir(`e2e-${t.config.tenant}`);
                dirs.push(dir);
                const backend = await startBackendPods(t, dir);
                processes.push(...backend.processes);
                pods[t.config.tenant] = backend;
                endpoints[`${t.config.tenant}/${RELEASES["backend-api"]}`] = backend.apiEndpoint;
            }),
        );
        return { shared, redis, db, tenants, pods, endpoints, processes, stop };
    } catch (err) {
        await stop();
        throw err;
    }
}

/** One piece of the path broken on purpose (each test of a failure path sets one). */
export interface Breakage {
    /** Replace the frontend's dotenv (the URL baked in). */
    dotenv?: (t: TenantStack, dotenv: Record<string, string>) => Record<string, string>;
    /** Replace the stack's nginxServerBlock on the load balancer. */
    serverBlock?: (t: TenantStack, block: string) => string;
    /** Replace the rendered objects the ingress is generated from. */
    objects?: (t: TenantStack, objects: K8sObject[]) => K8sObject[];
    /** Replace the endpoints of the Services. */
    endpoints?: (endpoints: Record<string, string>) => Record<string, string>;
}

export interface Site {
    browser: Browser;
    /** The frontend pods, by tenant. */
    frontendPods: Record<string, ManagedProcess>;
    lb: NginxServer;
    ingress: NginxServer;
    stop(): Promise<void>;
}

/** The tenant's frontend built as its Dockerfile does: `env-cmd -f envs/${BUILD_FOR} node build.js` (dotenv parsed here). */
export function buildFrontend(t: TenantStack, outDir: string, dotenv: Record<string, string>): void {
    const { context } = t.frontendBuild;
    runToCompletion(process.execPath, [path.join(context, "build.js")], {
        cwd: context,
        env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...dotenv, BUILD_DIR: outDir },
        timeoutMs: 30_000,
    });
}

export function tenantDotenv(t: TenantStack): Record<string, string> {
    const { context, buildFor } = t.frontendBuild;
    const dotenv = parseDotenv(fs.readFileSync(path.join(context, "envs", buildFor), "utf8"));
    if (!dotenv[API_URL_VARIABLE]) throw new Error(`${path.join(context, "envs", buildFor)} sets no ${API_URL_VARIABLE}`);
    return dotenv;
}

export async function startSite(backends: Backends, breakage: Breakage = {}): Promise<Site> {
    const dir = tempDir("e2e-site");
    const started: { stop(): Promise<void> }[] = [];
    let browser: Browser | undefined;
    const stop = async () => {
        await browser?.close().catch(() => undefined);
        await Promise.all(started.map((s) => s.stop()));
        removeDir(dir);
    };
    try {
        const endpoints = { ...backends.endpoints };
        const frontendPods: Record<string, ManagedProcess> = {};
        const objects: K8sObject[] = [];
        await Promise.all(
            backends.tenants.map(async (t) => {
                const stage = path.join(dir, t.config.tenant);
                const build = path.join(stage, "build");
                fs.mkdirSync(build, { recursive: true });
                const dotenv = tenantDotenv(t);
                buildFrontend(t, build, breakage.dotenv ? breakage.dotenv(t, dotenv) : dotenv);
                const port = await freePort();
                const frontendObjects = t.charts[RELEASES.frontend];
                const pod = await startFrontendPod({
                    objects: frontendObjects,
                    buildDir: build,
                    stageDir: stage,
                    port,
                    imageSiteConf: fs.readFileSync(path.join(t.frontendBuild.context, "nginx.conf"), "utf8"),
                });
                started.push(pod);
                frontendPods[t.config.tenant] = pod;
                endpoints[`${t.config.tenant}/${RELEASES.frontend}`] = `127.0.0.1:${port}`;
                const rendered = Object.values(t.charts).flat();
                objects.push(...(breakage.objects ? breakage.objects(t, rendered) : rendered));
            }),
        );
        const routes = ingressRoutes(objects);
        const ingressPort = await freePort();
        const ingress = await startNginx("ingress", ingressPort, (d) =>
            httpMain(d, ingressNginxHttp(routes, breakage.endpoints ? breakage.endpoints(endpoints) : endpoints, ingressPort)),
        );
        started.push(ingress);
        const lbPort = await freePort();
        const blocks = backends.tenants.map((t) =>
            breakage.serverBlock ? breakage.serverBlock(t, t.nginxServerBlock) : t.nginxServerBlock,
        );
        const upstreams = Object.fromEntries(backends.tenants.map((t) => [t.config.lbUpstream, `127.0.0.1:${ingressPort}`]));
        const lb = await startNginx("load balancer", lbPort, (d) => httpMain(d, loadBalancerHttp(blocks, upstreams, lbPort)));
        started.push(lb);
        const hosts = Object.fromEntries(
            backends.tenants.flatMap((t) => [t.outputs.frontendUrl, t.outputs.apiUrl].map((u: string) => [new URL(u).hostname, lbPort])),
        );
        browser = await launchBrowser(hosts);
        return { browser, frontendPods, lb, ingress, stop };
    } catch (err) {
        await stop();
        throw err;
    }
}

/**
 * Starts a site with `breakage`, opens `t`'s page and returns what assertTenantPage says about it:
 * the proof that the e2e check fails (and how it reads) when that piece is wrong.
 */
export async function openBrokenPage(
    backends: Backends,
    name: string,
    breakage: Breakage,
    t: TenantStack,
): Promise<{ report: PageReport; failure: string }> {
    const broken = await startSite(backends, breakage);
    try {
        const report = await openPage(broken.browser, t.outputs.frontendUrl, name);
        try {
            assertTenantPage(report, { tenant: t.config.tenant, apiUrl: t.outputs.apiUrl });
        } catch (err) {
            return { report, failure: (err as Error).message };
        }
        throw new Error(`the e2e check passed although ${name}: ${JSON.stringify(report)}`);
    } finally {
        await broken.stop();
    }
}
