/**
 * A tenant stack's backend pods on loopback, run from what its charts render (tests/runtime/pods.ts):
 * the migration Job, the API Deployment's container, every Celery worker Deployment's container and
 * the beat's when rendered, each with its own command/args and the env the kubelet would give it
 * (its envFrom ConfigMap/Secret, then its env entries), its ConfigMap volumes and emptyDirs. The API
 * is ready when its rendered startupProbe and readinessProbe pass as the kubelet sends them (and its
 * livenessProbe passes once); a worker when its rendered probes pass and it consumes. So a wrong
 * command, a missing envFrom, a wrong env or a probe the app cannot answer fails the e2e test here.
 *
 * LOOPBACK SUBSTITUTIONS: the only ways these processes differ from the rendered pods, each forced
 * by running many pods on one machine without a cluster:
 * 1. Listen address: gunicorn's rendered `--bind 0.0.0.0:<port http>` becomes 127.0.0.1:<free port>
 *    (every tenant's API would want the same port; only loopback is allowed). The probes and the
 *    Service endpoint use that port for the container's port `http`, after checking that the
 *    rendered bind and the Service's targetPort are that port.
 * 2. Redis: the shared stack's redisHost/redisPort outputs are the loopback redis-server
 *    (stacks.ts passes them to the program, which computes DJANGO_REDIS_HOST/PORT from them as from
 *    the real shared stack). Nothing is changed in the rendered env for it.
 * 3. Database: the stack's stock:dbHost/dbPort/dbCidr name the loopback MariaDB
 *    (tests/support/mysql-server.ts) standing for the external MySQL, set as `pulumi config set`
 *    would (loopbackDatabaseConfig), so the ConfigMap holds its address. Its database and user are
 *    created from what the stack renders (MYSQL_DATABASE, DJANGO_DB_USER, DJANGO_DB_PWD), as the
 *    DBA does before a tenant is deployed.
 * 4. Paths: the pod's /tmp emptyDir (HOME, the heartbeat file, beat's schedule) is
 *    a directory per tenant, ConfigMap volumes are written there as the kubelet lays them out
 *    (pods.ts mountConfigMaps/localize). /dev/shm is this machine's (a tmpfs, as the emptyDir).
 * 5. Image: its WORKDIR is the tenant's stock:backendSource (the context the images stack builds); the command
 *    words gunicorn/celery/python are Debian's binaries; HOSTNAME is this machine's.
 * 6. Replicas: one process per Deployment (the rendered gunicorn workers and Celery concurrency
 *    are kept); the Job runs once to completion before the pods start.
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { RELEASES } from "../../components/tenant/chart-values";
import { ManagedProcess, freePort, startProcess, waitUntil } from "../support/real-servers";
import { LocalPaths, RenderedContainer, localRun, mountVolumes } from "../runtime/pods";
import { ProbeKind, ProbeTarget, waitForProbe } from "../runtime/probes";
import { MysqlServer } from "../support/mysql-server";
import { TenantStack } from "./stacks";

/** Substitution 3: the stack config that points the tenant at the loopback database. */
export function loopbackDatabaseConfig(db: { host: string; port: number }): Record<string, unknown> {
    return { "stock:dbHost": db.host, "stock:dbPort": db.port, "stock:dbCidr": `${db.host}/32` };
}

/** Substitution 3: the tenant's database and user, from what the stack renders into its ConfigMap and Secret. */
export function createTenantDatabase(t: TenantStack, db: MysqlServer): void {
    const env = t.pods.envFrom;
    db.createTenantDatabase(env.MYSQL_DATABASE, env.DJANGO_DB_USER, env.DJANGO_DB_PWD);
}

const READY_TIMEOUT_MS = 30_000;

export interface BackendPods {
    /** host:port of the API process (the endpoint of the API Service). */
    apiEndpoint: string;
    /** Where the pods' paths are on this machine (substitution 4). */
    paths: LocalPaths;
    processes: ManagedProcess[];
}

function bindPort(c: RenderedContainer): number {
    const i = c.command.indexOf("--bind");
    assert.ok(i >= 0, `${c.pod}: the rendered command has no --bind: ${c.command.join(" ")}`);
    return Number(c.command[i + 1].split(":").pop());
}

/** The API's container port that the rendered bind, the port `http` and the Service's targetPort must all be. */
function apiContainerPort(t: TenantStack): number {
    const { api } = t.pods;
    const http = api.ports.http;
    assert.ok(http, `${t.stack} ${api.pod}: no container port named http`);
    assert.equal(bindPort(api), http, `${t.stack} ${api.pod}: gunicorn binds ${bindPort(api)}, the container's port http is ${http}`);
    const service = t.charts[RELEASES["backend-api"]].find((o) => o.kind === "Service" && o.metadata.name === RELEASES["backend-api"]);
    assert.ok(service, `${t.stack}: no Service ${RELEASES["backend-api"]} rendered`);
    for (const p of service.spec.ports) {
        const target = typeof p.targetPort === "number" ? p.targetPort : api.ports[p.targetPort];
        assert.equal(
            target,
            http,
            `${t.stack} Service ${service.metadata.name} port ${p.name}: targetPort ${p.targetPort} is not the API's port http`,
        );
    }
    return http;
}

async function ready(kinds: ProbeKind[], target: ProbeTarget, process: ManagedProcess): Promise<void> {
    // In the kubelet's order: readiness and liveness only start once the startup probe passed.
    for (const kind of kinds) if (target.container[kind]) await waitForProbe(kind, target, { process, timeoutMs: READY_TIMEOUT_MS });
}

/** Start `t`'s backend pods in `dir` (a fresh directory), resolving once each is ready; stop the returned processes. */
export async function startBackendPods(t: TenantStack, dir: string): Promise<BackendPods> {
    const { pods } = t;
    const tmp = path.join(dir, "tmp");
    fs.mkdirSync(tmp);
    const paths: LocalPaths = { cwd: t.backendContext, tmp };
    const containers = [pods.api, ...pods.workers, ...(pods.beat ? [pods.beat] : []), ...(pods.migration ? [pods.migration] : [])];
    mountVolumes(pods, containers, paths);
    const name = (c: RenderedContainer) => `${t.config.tenant} ${c.pod}`;
    if (pods.migration) {
        // The Job to completion before the pods start (asynchronously: the other tenants' Jobs run meanwhile).
        const run = localRun(pods, pods.migration, paths);
        const job = startProcess(name(pods.migration), run.command, run.args, { cwd: run.cwd, env: run.env });
        try {
            await waitUntil(`${job.name} to complete`, () => job.hasExited, { timeoutMs: 60_000, intervalMs: 100 });
        } finally {
            await job.stop();
        }
        if (job.child.exitCode !== 0) throw new Error(`${job.describeExit()}: the migration Job failed\n${job.tail()}`);
    }
    const processes: ManagedProcess[] = [];
    try {
        const containerPort = apiContainerPort(t);
        const port = await freePort();
        const apiRun = localRun(pods, pods.api, { ...paths, bind: `127.0.0.1:${port}` });
        const api = startProcess(name(pods.api), apiRun.command, apiRun.args, { cwd: apiRun.cwd, env: apiRun.env });
        processes.push(api);
        const startLocal = (c: RenderedContainer) => {
            const run = localRun(pods, c, paths);
            const p = startProcess(name(c), run.command, run.args, { cwd: run.cwd, env: run.env });
            processes.push(p);
            return p;
        };
        const workers = pods.workers.map((c) => ({ c, p: startLocal(c) }));
        const beat = pods.beat && startLocal(pods.beat);
        assert.ok(workers.length > 0, `${t.stack}: no Celery worker Deployment rendered`);
        await Promise.all([
            ready(
                ["startupProbe", "readinessProbe", "livenessProbe"],
                { pods, container: pods.api, paths, ports: { [containerPort]: port } },
                api,
            ),
            ...workers.map(async ({ c, p }) => {
                await ready(["startupProbe", "readinessProbe", "livenessProbe"], { pods, container: c, paths }, p);
                // Not a probe: Celery's own line once it consumes, so the page's task is not raced against the worker's start.
                await waitUntil(`${p.name} to consume`, () => / ready\.\s*$/m.test(p.log), { process: p, timeoutMs: READY_TIMEOUT_MS });
            }),
            // The beat has no probe: its own line once it schedules.
            ...(beat
                ? [
                      waitUntil(`${beat.name} to start`, () => /beat: Starting\.\.\./.test(beat.log), {
                          process: beat,
                          timeoutMs: READY_TIMEOUT_MS,
                      }),
                  ]
                : []),
        ]);
        return { apiEndpoint: `127.0.0.1:${port}`, paths, processes };
    } catch (err) {
        await Promise.all(processes.map((p) => p.stop()));
        throw err;
    }
}
