/**
 * The e2e emulations are honest: the ingress routes exactly what the rendered Ingresses say and
 * refuses any field or annotation it does not implement (so a chart change that uses one fails the
 * e2e test instead of being ignored); the load balancer takes the stacks' blocks as they are.
 */
import * as assert from "assert";
import { RELEASES } from "../../components/chart-values";
import { K8sObject } from "../../tools/lib/helm";
import { ingressNginxHttp, ingressRoutes } from "./ingress-nginx";
import { loadBalancerHttp } from "./load-balancer";
import { TenantStack, sharedStack, tenantStack } from "./stacks";

describe("e2e emulation: ingress from the rendered Ingresses, load balancer from the server blocks", function () {
    this.timeout(60_000);
    let t: TenantStack;
    let objects: K8sObject[];

    before(async function () {
        // The Redis address only lands in the env; nothing connects here.
        t = await tenantStack("client-a", await sharedStack(), { host: "127.0.0.1", port: 6379 });
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
