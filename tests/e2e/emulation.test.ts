/**
 * The e2e emulations are honest: the ingress routes exactly what the rendered Ingresses say and
 * refuses any field or annotation it does not implement (so a chart change that uses one fails the
 * e2e test instead of being ignored); the load balancer takes the stacks' blocks as they are.
 */
import * as assert from "assert";
import * as http from "http";
import { AddressInfo } from "net";
import { RELEASES } from "../../components/tenant/chart-values";
import { K8sObject } from "../../tools/lib/helm";
import { httpMain, startNginx } from "../support/nginx";
import { freePort, httpRequest, requireRealServers } from "../support/real-servers";
import { ingressNginxHttp, ingressRoutes } from "./ingress-nginx";
import { loadBalancerHttp } from "./load-balancer";
import { sharedStackRedis } from "../support/shared-stack";
import { TenantStack, tenantStack } from "./stacks";

describe("e2e emulation: ingress from the rendered Ingresses, load balancer from the server blocks", function () {
    this.timeout(60_000);
    let t: TenantStack;
    let objects: K8sObject[];

    before(async function () {
        // The Redis address only lands in the env; nothing connects here.
        t = await tenantStack("client-a", await sharedStackRedis(), { host: "127.0.0.1", port: 6379 });
        objects = Object.values(t.charts).flat();
    });

    const withIngress = (name: string, change: (ing: K8sObject) => K8sObject): K8sObject[] =>
        objects.map((o) => (o.kind === "Ingress" && o.metadata.name === name ? change(structuredClone(o)) : o));
    const refused = (objs: K8sObject[], message: RegExp) =>
        assert.throws(
            () => ingressRoutes(objs),
            (err: Error) => {
                assert.match(err.message, /ingress emulation \(tests\/e2e\/ingress-nginx\.ts\) refuses/);
                assert.match(err.message, message);
                return true;
            },
        );

    it("routes client-a's host: / to the frontend Service, /api to the API Service (Prefix)", function () {
        const routes = ingressRoutes(objects).map(({ host, path, pathType, service }) => ({ host, path, pathType, service }));
        assert.deepStrictEqual(
            routes.sort((a, b) => a.path.localeCompare(b.path)),
            [
                { host: "app.client-a.feng.local", path: "/", pathType: "Prefix", service: `client-a/${RELEASES.frontend}` },
                { host: "app.client-a.feng.local", path: "/api", pathType: "Prefix", service: `client-a/${RELEASES["backend-api"]}` },
            ],
        );
    });

    it("gives Prefix its Kubernetes meaning (whole path elements: /api and /api/..., never /apis)", function () {
        const http = ingressNginxHttp(
            ingressRoutes(objects),
            { [`client-a/${RELEASES.frontend}`]: "127.0.0.1:1", [`client-a/${RELEASES["backend-api"]}`]: "127.0.0.1:2" },
            3,
        );
        assert.match(http, /location = \/api \{\n\s+proxy_pass http:\/\/127\.0\.0\.1:2;/);
        assert.match(http, /location \/api\/ \{\n\s+proxy_pass http:\/\/127\.0\.0\.1:2;/);
        assert.match(http, /location \/ \{\n\s+proxy_pass http:\/\/127\.0\.0\.1:1;/);
        assert.doesNotMatch(http, /location \/api \{/);
    });

    it("refuses a field the emulation does not implement (spec.tls, spec.defaultBackend, a path's backend.resource)", function () {
        refused(
            withIngress(RELEASES.frontend, (i) => ({
                ...i,
                spec: { ...i.spec, tls: [{ hosts: ["app.client-a.feng.local"], secretName: "x" }] },
            })),
            /Ingress client-a\/stock-frontend: spec\.tls is not emulated/,
        );
        refused(
            withIngress(RELEASES.frontend, (i) => ({
                ...i,
                spec: { ...i.spec, defaultBackend: { service: { name: "x", port: { number: 80 } } } },
            })),
            /spec\.defaultBackend is not emulated/,
        );
        refused(
            withIngress(RELEASES["backend-api"], (i) => {
                i.spec.rules[0].http.paths[0].backend.resource = { kind: "Bucket", name: "b" };
                return i;
            }),
            /spec\.rules\[0\]\.http\.paths\[0\]\.backend\.resource is not emulated/,
        );
    });

    it("refuses an annotation it does not implement (e.g. rewrite-target) and an ImplementationSpecific path", function () {
        refused(
            withIngress(RELEASES.frontend, (i) => ({
                ...i,
                metadata: { ...i.metadata, annotations: { "nginx.ingress.kubernetes.io/rewrite-target": "/" } },
            })),
            /annotation nginx\.ingress\.kubernetes\.io\/rewrite-target is not emulated/,
        );
        refused(
            withIngress(RELEASES.frontend, (i) => {
                i.spec.rules[0].http.paths[0].pathType = "ImplementationSpecific";
                return i;
            }),
            /pathType ImplementationSpecific is not emulated/,
        );
    });

    it("refuses another ingress class, a backend Service or port that is not rendered, and two Ingresses on one host and path", function () {
        refused(
            withIngress(RELEASES.frontend, (i) => ({ ...i, spec: { ...i.spec, ingressClassName: "traefik" } })),
            /only class "nginx" is served/,
        );
        refused(
            withIngress(RELEASES.frontend, (i) => {
                i.spec.rules[0].http.paths[0].backend.service.name = "stock-frontend-typo";
                return i;
            }),
            /backend Service client-a\/stock-frontend-typo is not rendered/,
        );
        refused(
            withIngress(RELEASES.frontend, (i) => {
                i.spec.rules[0].http.paths[0].backend.service.port = { name: "https" };
                return i;
            }),
            /Service stock-frontend has no port \{"name":"https"\}/,
        );
        refused(
            withIngress(RELEASES["backend-api"], (i) => {
                i.spec.rules[0].http.paths[0].path = "/";
                return i;
            }),
            /both route app\.client-a\.feng\.local\/ \(Prefix\)/,
        );
    });

    describe("ingress-nginx's CORS annotations (the API on its own host, stock:apiHost)", function () {
        const FRONTEND_ORIGIN = "http://app.client-a.feng.local";
        const withCors = (annotations: Record<string, string>) =>
            withIngress(RELEASES["backend-api"], (i) => ({ ...i, metadata: { ...i.metadata, annotations } }));
        const cors = {
            "nginx.ingress.kubernetes.io/enable-cors": "true",
            "nginx.ingress.kubernetes.io/cors-allow-origin": FRONTEND_ORIGIN,
            "nginx.ingress.kubernetes.io/cors-allow-credentials": "false",
            "nginx.ingress.kubernetes.io/cors-max-age": "600",
        };

        it("refuses a cors-* annotation without enable-cors, and an origin pattern it does not implement", function () {
            refused(
                withCors({ "nginx.ingress.kubernetes.io/cors-allow-origin": FRONTEND_ORIGIN }),
                /cors-allow-origin without enable-cors has no effect/,
            );
            refused(
                withCors({ ...cors, "nginx.ingress.kubernetes.io/cors-allow-origin": "https://*.feng.local" }),
                /cors-allow-origin "https:\/\/\*\.feng\.local" is not emulated/,
            );
        });

        it("with real nginx: the allowed origin gets Access-Control-Allow-Origin and a 204 preflight, any other origin no CORS header", async function () {
            requireRealServers(this, { modules: [], browser: true });
            const api = http.createServer((_req, res) => res.writeHead(200, { "Content-Type": "application/json" }).end('{"ok":true}'));
            await new Promise<void>((resolve) => api.listen(0, "127.0.0.1", resolve));
            const apiPort = (api.address() as AddressInfo).port;
            const port = await freePort();
            const routes = ingressRoutes(withCors(cors));
            const endpoints = {
                [`client-a/${RELEASES.frontend}`]: "127.0.0.1:1",
                [`client-a/${RELEASES["backend-api"]}`]: `127.0.0.1:${apiPort}`,
            };
            const ingress = await startNginx("ingress", port, (d) => httpMain(d, ingressNginxHttp(routes, endpoints, port)));
            try {
                const call = (method: string, origin: string) =>
                    httpRequest(`http://127.0.0.1:${port}/api/v1/`, {
                        method,
                        headers: { Host: "app.client-a.feng.local", Origin: origin },
                    });
                const allowed = await call("GET", FRONTEND_ORIGIN);
                assert.strictEqual(allowed.status, 200, allowed.body);
                assert.strictEqual(allowed.headers["access-control-allow-origin"], FRONTEND_ORIGIN);
                assert.strictEqual(allowed.headers["access-control-allow-credentials"], undefined);
                const preflight = await call("OPTIONS", FRONTEND_ORIGIN);
                assert.strictEqual(preflight.status, 204);
                assert.strictEqual(preflight.headers["access-control-allow-origin"], FRONTEND_ORIGIN);
                assert.strictEqual(preflight.headers["access-control-max-age"], "600");
                for (const other of ["http://app.client-b.feng.local", "http://app.client-a.feng.local.evil.example", "null"]) {
                    const res = await call("GET", other);
                    assert.strictEqual(res.headers["access-control-allow-origin"], undefined, other);
                    assert.notStrictEqual((await call("OPTIONS", other)).status, 204, other);
                }
            } finally {
                await ingress.stop();
                await new Promise((resolve) => api.close(resolve));
            }
        });
    });

    it("load balancer: the stack's block as it is, only `listen 80;` moved to the loopback port, its upstream defined", function () {
        const http = loadBalancerHttp([t.nginxServerBlock], { [t.config.lbUpstream]: "127.0.0.1:4" }, 5);
        assert.ok(http.includes(t.nginxServerBlock.replace("listen 80;", "listen 127.0.0.1:5;")), http);
        assert.match(http, new RegExp(`upstream ${t.config.lbUpstream} \\{\\n\\s+server 127\\.0\\.0\\.1:4;`));
        assert.throws(
            () => loadBalancerHttp([t.nginxServerBlock], {}, 5),
            new RegExp(`upstream ${t.config.lbUpstream}, which the test does not define`),
        );
        assert.throws(
            () => loadBalancerHttp([t.nginxServerBlock.replace("listen 80;", "listen 8080;")], { [t.config.lbUpstream]: "127.0.0.1:4" }, 5),
            /one "listen 80;" per server/,
        );
    });
});
