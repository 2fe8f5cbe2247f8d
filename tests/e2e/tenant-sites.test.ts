/**
 * End to end on loopback, the seed's "visit http://client-a.blah.com": Chromium opens each tenant's
 * host, which resolves to a real nginx load balancer holding exactly the stacks' nginxServerBlock
 * outputs; it proxies to a real nginx whose routing is generated from the Ingresses the charts
 * render; behind it the frontend pod (the tenant's build, the chart's nginx config, non-root,
 * read-only) and the API (gunicorn, env from the stack) whose Celery worker runs on a redis-server
 * holding the shared stack's ACL users. The page must show that tenant's own data.
 * Then the same with one piece broken at a time: the test must fail, saying what the page showed.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { API_URL_VARIABLE } from "../../components/tenant/frontend-env";
import { RELEASES } from "../../components/tenant/chart-values";
import { deadPort, requireRealServers } from "../support/real-servers";
import { redisCli } from "../support/redis-server";
import { assertTenantPage, openPage } from "./browser";
import { Backends, Breakage, Site, openBrokenPage, startBackends, startSite } from "./site";
import { TenantStack } from "./stacks";
import { startBackendPods } from "./backend-pods";
import { localize } from "../runtime/pods";

const STACKS = ["client-a", "client-b"];

/** Processes of a process group, with their ids and effective capabilities (from /proc). */
function processesOfGroup(pgid: number): { pid: number; comm: string; uid: string; gid: string; capEff: string }[] {
    const out = [];
    for (const entry of fs.readdirSync("/proc").filter((e) => /^\d+$/.test(e))) {
        try {
            const stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
            // pid (comm) state ppid pgrp ...
            const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
            if (Number(fields[2]) !== pgid) continue;
            const status = fs.readFileSync(`/proc/${entry}/status`, "utf8");
            const field = (name: string) => new RegExp(`^${name}:\\s*(.*)$`, "m").exec(status)![1].trim().split(/\s+/).join(" ");
            out.push({ pid: Number(entry), comm: field("Name"), uid: field("Uid"), gid: field("Gid"), capEff: field("CapEff") });
        } catch {
            // gone meanwhile
        }
    }
    return out;
}

/** Mount point → mount options, as the process sees its mount namespace. */
function mountOptions(pid: number): Record<string, string> {
    const lines = fs.readFileSync(`/proc/${pid}/mountinfo`, "utf8").trim().split("\n");
    // id parent major:minor root mountpoint options ...; the last mount of a path wins.
    return Object.fromEntries(lines.map((l) => l.split(" ")).map((f) => [f[4], f[5]]));
}

describe("e2e: each tenant's site in a browser, through the load balancer and the ingress (real servers)", function () {
    this.timeout(60_000);
    let started = 0;
    let backends: Backends | undefined;
    let site: Site | undefined;

    before(async function () {
        started = Date.now();
        requireRealServers(this, { redis: true, browser: true, mysql: true, commands: true });
        backends = await startBackends(STACKS.map((stack) => ({ stack })));
        site = await startSite(backends);
    });

    after(async function () {
        await site?.stop();
        await backends?.stop();
        console.log(`      (e2e suite: ${((Date.now() - started) / 1000).toFixed(1)} s)`);
    });

    const tenants = (): TenantStack[] => backends!.tenants;
    const expected = (t: TenantStack) => ({ tenant: t.config.tenant, apiUrl: t.outputs.apiUrl });

    it("each tenant's page loads, calls the API URL it baked in and shows its own tenant and task result", async function () {
        const reports = await Promise.all(tenants().map((t) => openPage(site!.browser, t.outputs.frontendUrl, t.config.tenant)));
        tenants().forEach((t, i) => assertTenantPage(reports[i], expected(t)));
        assert.notStrictEqual(reports[0].tenant, reports[1].tenant);
        // Each tenant stayed inside its ACL user's keys and channels on the shared Redis.
        const denied = await redisCli(backends!.redis, { user: "default", password: backends!.shared.defaultPassword }, ["ACL", "LOG"]);
        assert.strictEqual(denied, "", `Redis ACL denials:\n${denied}`);
    });

    it("the frontend pods run nginx as the chart's user, without capabilities, on a read-only root with the chart's mounts", function () {
        for (const t of tenants()) {
            const pod = site!.frontendPods[t.config.tenant];
            const nginx = processesOfGroup(pod.pid!).filter((p) => p.comm === "nginx");
            assert.ok(nginx.length >= 2, `no nginx master and worker in ${t.config.tenant}'s pod: ${JSON.stringify(nginx)}`);
            for (const p of nginx) {
                assert.deepStrictEqual(
                    { uid: p.uid, gid: p.gid, capEff: p.capEff },
                    { uid: "101 101 101 101", gid: "101 101 101 101", capEff: "0000000000000000" },
                );
            }
            const mounts = mountOptions(nginx[0].pid);
            assert.match(mounts["/"], /^ro\b/);
            for (const ro of ["/etc/nginx/nginx.conf", "/etc/nginx/conf.d/default.conf", "/usr/share/nginx/html"])
                assert.match(mounts[ro] ?? "", /^ro\b/, ro);
            for (const rw of ["/tmp", "/var/cache/nginx"]) assert.match(mounts[rw] ?? "", /^rw\b/, rw);
        }
    });

    it("the backends are the rendered containers: their commands as rendered (only --bind moved to loopback), under the stack's env", function () {
        for (const t of tenants()) {
            const { paths, processes } = backends!.pods[t.config.tenant];
            const byName = (c: { pod: string }) => processes.find((p) => p.name === `${t.config.tenant} ${c.pod}`);
            for (const c of [t.pods.api, ...t.pods.workers, ...(t.pods.beat ? [t.pods.beat] : [])]) {
                const p = byName(c);
                assert.ok(p, `${t.config.tenant}: no process for ${c.pod}`);
                const args = fs.readFileSync(`/proc/${p.pid}/cmdline`, "utf8").split("\0").filter(Boolean);
                // Substitutions 1 and 4 of ./backend-pods.ts: the bind address, the pod's paths.
                const rendered = c.command
                    .slice(1)
                    .map((w, i, all) =>
                        all[i - 1] === "--bind"
                            ? backends!.endpoints[`${t.config.tenant}/${RELEASES["backend-api"]}`]
                            : localize(c, w, paths),
                    );
                assert.deepStrictEqual(args.slice(-rendered.length), rendered, `${c.pod}'s command line`);
                const env = Object.fromEntries(
                    fs
                        .readFileSync(`/proc/${p.pid}/environ`, "utf8")
                        .split("\0")
                        .filter(Boolean)
                        .map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)]),
                );
                for (const key of ["DJANGO_SECRET_KEY", "DJANGO_REDIS_HOST", "DJANGO_DB_PWD", "DEPLOY_TYPE", "DJANGO_ALLOWED_HOSTS"])
                    assert.strictEqual(env[key], t.pods.envFrom[key], `${c.pod}: ${key}`);
            }
        }
    });

    it("a backend pod that cannot start as rendered fails the e2e, saying why (the API's envFrom dropped: no Secret)", async function () {
        const t = tenants()[0];
        const broken = { ...t, pods: { ...t.pods, api: { ...t.pods.api, envFrom: [] } } };
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "stock-e2e-broken-"));
        try {
            await assert.rejects(startBackendPods(broken, dir), (err: Error) => {
                assert.match(err.message, /client-a Deployment\/stock-backend-api exited .* while waiting for the startupProbe/);
                assert.match(err.message, /Missing required environment variable DJANGO_SECRET_KEY/);
                return true;
            });
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    const brokenPage = (name: string, breakage: Breakage, t = tenants()[0]) => openBrokenPage(backends!, name, breakage, t);

    describe("fails, saying what the page showed, when", function () {
        it("the frontend was built for the wrong API host (the other tenant's): error state naming the URL, not a blank page", async function () {
            const other = tenants()[1];
            const { report, failure } = await brokenPage("wrong-api-url", {
                dotenv: (t, env) => (t === tenants()[0] ? { ...env, [API_URL_VARIABLE]: new URL(other.outputs.apiUrl).origin } : env),
            });
            assert.strictEqual(report.state, "error", failure);
            assert.match(failure, new RegExp(`calls the API at ${other.outputs.apiUrl.replace(/\./g, "\\.")}`));
            assert.match(report.error, /The API cannot be used: GET http:\/\/app\.client-b\.feng\.local\/api\/v1\/ failed/);
            // The browser refused the cross-origin answer: client-b's API allows no other origin.
            assert.ok(
                report.console.some((l) => /CORS/.test(l)),
                report.console.join("\n"),
            );
        });

        it("the frontend was built for a host that does not resolve: error state, not a hang", async function () {
            const { report, failure } = await brokenPage("unresolvable-api-url", {
                dotenv: (t, env) => ({ ...env, [API_URL_VARIABLE]: "http://api.nowhere.feng.local" }),
            });
            assert.strictEqual(report.state, "error", failure);
            assert.match(report.error, /GET http:\/\/api\.nowhere\.feng\.local\/api\/v1\/ failed/);
        });

        it("the load balancer's server block names another host", async function () {
            const { report, failure } = await brokenPage("wrong-lb-block", {
                serverBlock: (t, block) => block.replace(`server_name ${t.config.host};`, `server_name www.${t.config.host};`),
            });
            assert.strictEqual(report.load, "HTTP 404", failure);
            assert.match(failure, /load balancer: no server block for host app\.client-a\.feng\.local/);
        });

        it("the API Ingress routes another path (/apis instead of /api): the API calls reach the frontend", async function () {
            const { report, failure } = await brokenPage("wrong-ingress-path", {
                objects: (_t, objects) =>
                    objects.map((o) =>
                        o.kind === "Ingress" && o.metadata.name === RELEASES["backend-api"]
                            ? {
                                  ...o,
                                  spec: {
                                      ...o.spec,
                                      rules: o.spec.rules.map((r: any) => ({
                                          ...r,
                                          http: { paths: r.http.paths.map((p: any) => ({ ...p, path: "/apis" })) },
                                      })),
                                  },
                              }
                            : o,
                    ),
            });
            assert.strictEqual(report.state, "error", failure);
            assert.match(report.error, /answered HTTP 200 text\/html.*not the API's JSON/);
        });

        it("the API is down: the page's error state within its request deadline, not a hang", async function () {
            // Held by this test and resetting every connection: no other process can answer on it.
            const deadApi = await deadPort();
            try {
                const t0 = Date.now();
                const { report, failure } = await brokenPage("api-down", {
                    endpoints: (e) => ({ ...e, [`client-a/${RELEASES["backend-api"]}`]: deadApi.address }),
                });
                assert.strictEqual(report.state, "error", failure);
                assert.match(report.error, /answered HTTP 502/);
                assert.ok(Date.now() - t0 < 15_000, `took ${Date.now() - t0} ms`);
                assert.ok(deadApi.connections() > 0, "the ingress never tried the dead API's port");
            } finally {
                await deadApi.close();
            }
        });
    });
});
