/**
 * End to end on loopback, the seed's layout with the API on a host of its own (`stock:apiHost`):
 * client-b's page at app.client-b.feng.local calls its API at api.client-b.feng.local across
 * origins. The load balancer holds both of the stack's server blocks, the ingress both Ingresses
 * and the API's CORS annotations (ingress-nginx's, emulated in ./ingress-nginx.ts); the browser
 * must get its answers there, and a page of any other origin must be refused.
 */
import * as assert from "assert";
import { RELEASES } from "../../components/tenant/chart-values";
import { requireRealServers } from "../support/real-servers";
import { assertTenantPage, openPage } from "./browser";
import { Backends, Site, openBrokenPage, startBackends, startSite } from "./site";
import { TenantStack } from "./stacks";

const API_HOST = "api.client-b.feng.local";
const CORS_ORIGIN = "nginx.ingress.kubernetes.io/cors-allow-origin";

describe("e2e: a tenant whose API has its own host (stock:apiHost), CORS for exactly its frontend's origin (real servers)", function () {
    this.timeout(60_000);
    let started = 0;
    let backends: Backends | undefined;
    let site: Site | undefined;

    before(async function () {
        started = Date.now();
        requireRealServers(this, { redis: true, browser: true });
        backends = await startBackends([{ stack: "client-a" }, { stack: "client-b", overrides: { "stock:apiHost": API_HOST } }]);
        site = await startSite(backends);
    });

    after(async function () {
        await site?.stop();
        await backends?.stop();
        console.log(`      (apiHost e2e suite: ${((Date.now() - started) / 1000).toFixed(1)} s)`);
    });

    const tenant = (name: string): TenantStack => backends!.tenants.find((t) => t.config.tenant === name)!;
    /** fetch() of `url` from a page of `pageUrl`, as the browser allows it: the JSON's tenant, or the refusal. */
    async function fetchFrom(pageUrl: string, url: string): Promise<{ tenant?: string; refused?: string; console: string[] }> {
        const context = await site!.browser.newContext();
        try {
            const page = await context.newPage();
            const consoleErrors: string[] = [];
            page.on("console", (m) => {
                if (m.type() === "error") consoleErrors.push(m.text());
            });
            await page.goto(pageUrl, { waitUntil: "load", timeout: 10_000 });
            const result = await page.evaluate(
                (u) =>
                    fetch(u, { headers: { Accept: "application/json" } }).then(
                        (r) => r.json().then((b) => ({ tenant: (b as { tenant: string }).tenant })),
                        (e: Error) => ({ refused: e.message }),
                    ),
                url,
            );
            return { ...result, console: consoleErrors };
        } finally {
            await context.close();
        }
    }

    it("renders what the page needs: the API URL on its own host, an Ingress with CORS for the frontend origin, two LB blocks, ALLOWED_HOSTS", function () {
        const b = tenant("client-b");
        assert.strictEqual(b.outputs.frontendUrl, "http://app.client-b.feng.local/");
        assert.strictEqual(b.outputs.apiUrl, `http://${API_HOST}/api/v1/`);
        const api = b.charts[RELEASES["backend-api"]].find((o) => o.kind === "Ingress")!;
        assert.strictEqual(api.spec.rules[0].host, API_HOST);
        assert.strictEqual(api.metadata.annotations[CORS_ORIGIN], "http://app.client-b.feng.local");
        assert.match(b.nginxServerBlock, new RegExp(`server_name ${API_HOST.replace(/\./g, "\\.")};`));
        // Django answers only the host the API is served on (a 400 for any other).
        assert.strictEqual(b.env.config.DJANGO_ALLOWED_HOSTS, API_HOST);
    });

    it("client-b's page calls its API across origins and shows its own data; client-a's page beside it shows its own", async function () {
        const reports = await Promise.all(
            backends!.tenants.map((t) => openPage(site!.browser, t.outputs.frontendUrl, `api-host-${t.config.tenant}`)),
        );
        backends!.tenants.forEach((t, i) => assertTenantPage(reports[i], { tenant: t.config.tenant, apiUrl: t.outputs.apiUrl }));
    });

    it("the API refuses a page of another origin (client-a's): the browser gets no answer, while client-b's own page gets one", async function () {
        const b = tenant("client-b");
        const own = await fetchFrom(b.outputs.frontendUrl, b.outputs.apiUrl);
        assert.deepStrictEqual(
            { tenant: own.tenant, refused: own.refused },
            { tenant: "client-b", refused: undefined },
            own.console.join("\n"),
        );
        const other = await fetchFrom(tenant("client-a").outputs.frontendUrl, b.outputs.apiUrl);
        assert.strictEqual(other.tenant, undefined, "client-a's page read client-b's API");
        assert.match(other.refused ?? "", /Failed to fetch/);
        assert.ok(
            other.console.some((l) => /blocked by CORS policy: No 'Access-Control-Allow-Origin' header/.test(l)),
            other.console.join("\n"),
        );
    });

    it("fails, saying what the page showed, when the API's CORS origin is wrong (another port)", async function () {
        const b = tenant("client-b");
        const { report, failure } = await openBrokenPage(
            backends!,
            "api-host-wrong-cors-origin",
            {
                objects: (t, objects) =>
                    t !== b
                        ? objects
                        : objects.map((o) =>
                              o.kind === "Ingress" && o.metadata.annotations?.[CORS_ORIGIN]
                                  ? {
                                        ...o,
                                        metadata: {
                                            ...o.metadata,
                                            annotations: {
                                                ...o.metadata.annotations,
                                                [CORS_ORIGIN]: "http://app.client-b.feng.local:8080",
                                            },
                                        },
                                    }
                                  : o,
                          ),
            },
            b,
        );
        assert.strictEqual(report.state, "error", failure);
        assert.match(report.error, new RegExp(`GET http://${API_HOST.replace(/\./g, "\\.")}/api/v1/ failed \\(Failed to fetch\\)`));
        assert.ok(
            report.console.some((l) => /CORS policy/.test(l)),
            report.console.join("\n"),
        );
    });

    it("fails when the load balancer lacks the API host's server block", async function () {
        const b = tenant("client-b");
        const { report, failure } = await openBrokenPage(
            backends!,
            "api-host-no-lb-block",
            { serverBlock: (t, block) => (t !== b ? block : block.replace(`server_name ${API_HOST};`, `server_name www.${API_HOST};`)) },
            b,
        );
        assert.strictEqual(report.state, "error", failure);
        assert.match(report.error, new RegExp(`GET http://${API_HOST.replace(/\./g, "\\.")}/api/v1/ failed`));
    });
});
