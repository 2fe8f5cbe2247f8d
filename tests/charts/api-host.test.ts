/**
 * The API on a host of its own (stock:apiHost): the backend-api chart's CORS annotations for
 * ingress-nginx, and what the charts render with the values the program computes for such a stack.
 */
import { strict as assert } from "node:assert";
import { K8sObject, helmTemplate } from "../../tools/lib/helm";
import { reveal, runProgram } from "../../tools/lib/mock-run";
import { assertValidRender, ciFile, ofKind, one, render, renderError } from "./assertions";

const CORS = "nginx.ingress.kubernetes.io/";
const corsAnnotations = (ing: K8sObject) => Object.fromEntries(Object.entries(ing.metadata.annotations ?? {}).filter(([k]) => k.startsWith(CORS) && k.slice(CORS.length).match(/cors/)));

describe("charts/backend-api: CORS for a frontend on another origin", function () {
    it("ci/cors-values.yaml: ingress-nginx answers CORS for exactly the frontend's origin, without credentials", async function () {
        const ing = one(await render("backend-api", {}, [ciFile("backend-api", "cors")]), "Ingress");
        assert.deepEqual(corsAnnotations(ing), {
            [`${CORS}enable-cors`]: "true",
            [`${CORS}cors-allow-origin`]: "https://app.client-a.feng.local",
            [`${CORS}cors-allow-methods`]: "GET, POST, PUT, PATCH, DELETE, OPTIONS",
            [`${CORS}cors-allow-headers`]: "DNT,Keep-Alive,User-Agent,X-Requested-With,If-Modified-Since,Cache-Control,Content-Type,Range,Authorization",
            [`${CORS}cors-allow-credentials`]: "false",
            [`${CORS}cors-max-age`]: "600",
        });
        assert.deepEqual(ing.spec.rules.map((r: K8sObject) => r.host), ["api.client-a.feng.local"]);
        assert.deepEqual(ing.spec.tls, [{ hosts: ["api.client-a.feng.local"], secretName: "api-client-a-tls" }]);
    });

    it("adds no CORS annotation by default", async function () {
        const ing = one(await render("backend-api", { image: { tag: "ctx-0123456789abcdef" }, ingress: { enabled: true } }), "Ingress");
        assert.deepEqual(corsAnnotations(ing), {});
    });

    it("refuses CORS without an origin, and an origin that is not scheme://host[:port]", async function () {
        const values = (allowOrigin: string) => ({ image: { tag: "ctx-0123456789abcdef" }, ingress: { enabled: true, cors: { enabled: true, allowOrigin } } });
        assert.match(await renderError("backend-api", values("")), /ingress\.cors\.allowOrigin is required when ingress\.cors\.enabled is true/);
        assert.match(await renderError("backend-api", values("https://app.client-a.feng.local/")), /allowOrigin/);
        assert.match(await renderError("backend-api", values("*")), /allowOrigin/);
    });
});

describe("charts rendered for a stack with stock:apiHost", function () {
    let objects: Record<string, K8sObject[]>;
    before(async function () {
        const run = await runProgram("client-a", { overrides: { "stock:apiHost": "api.client-a.feng.local", "stock:tls": { secretName: "app-client-a-tls", apiSecretName: "api-client-a-tls" } } });
        const charts = run.ofType("kubernetes:helm.sh/v4:Chart");
        const rendered = await Promise.all(charts.map((c) => helmTemplate(c.inputs.chart, reveal(c.inputs.values), { releaseName: c.inputs.name, namespace: c.inputs.namespace })));
        objects = Object.fromEntries(charts.map((c, i) => [String(c.inputs.chart).split("/").pop(), rendered[i]]));
    });

    it("renders two ingresses on two hosts: / on the frontend's, /api on the API's, each with its TLS secret", async function () {
        const ingresses = [...ofKind(objects.frontend, "Ingress"), ...ofKind(objects["backend-api"], "Ingress")];
        assert.equal(ingresses.length, 2);
        const routes = ingresses.flatMap((i) => i.spec.rules.flatMap((r: K8sObject) => r.http.paths.map((p: K8sObject) => `${r.host}${p.path} -> ${p.backend.service.name}`)));
        assert.deepEqual(routes.sort(), ["api.client-a.feng.local/api -> stock-backend-api", "app.client-a.feng.local/ -> stock-frontend"]);
        assert.deepEqual(Object.fromEntries(ingresses.map((i) => [i.spec.rules[0].host, i.spec.tls])), {
            "app.client-a.feng.local": [{ hosts: ["app.client-a.feng.local"], secretName: "app-client-a-tls" }],
            "api.client-a.feng.local": [{ hosts: ["api.client-a.feng.local"], secretName: "api-client-a-tls" }],
        });
        for (const chart of ["frontend", "backend-api"]) await assertValidRender(objects[chart], "client-a");
    });

    it("answers CORS on the API's ingress for the frontend's https origin only, and none on the frontend's", function () {
        const api = one(objects["backend-api"], "Ingress");
        assert.equal(api.metadata.annotations[`${CORS}enable-cors`], "true");
        assert.equal(api.metadata.annotations[`${CORS}cors-allow-origin`], "https://app.client-a.feng.local");
        assert.deepEqual(corsAnnotations(one(objects.frontend, "Ingress")), {});
    });
});
