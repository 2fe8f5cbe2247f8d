/**
 * The ingress controller, emulated with a real nginx: its host and path routing generated from the
 * Ingress objects the charts render, the way ingress-nginx (class `nginx`) reads them. Only the
 * fields and annotations our charts use are understood; anything else is REFUSED with the object
 * and field named, so a chart change that relies on a new field fails the e2e test instead of
 * being silently ignored (add it here, with its ingress-nginx meaning, when a chart starts using it).
 */
import { K8sObject } from "../../tools/lib/helm";

/** The IngressClass our ingress controller serves (components/tenant/chart-values.ts sets it). */
export const INGRESS_CLASS = "nginx";

/** What the emulation understands of an Ingress; "map" is any string→string object. */
type Shape = "string" | "number" | "map" | { [key: string]: Shape } | Shape[];
const INGRESS_SHAPE: Shape = {
    apiVersion: "string",
    kind: "string",
    metadata: { name: "string", namespace: "string", labels: "map", annotations: "map" },
    spec: {
        ingressClassName: "string",
        rules: [
            {
                host: "string",
                http: {
                    paths: [
                        {
                            path: "string",
                            pathType: "string",
                            backend: { service: { name: "string", port: { name: "string", number: "number" } } },
                        },
                    ],
                },
            },
        ],
    },
};

const NGINX_INGRESS = "nginx.ingress.kubernetes.io/";
/** The annotations the emulation implements: ingress-nginx's CORS (the API's Ingress with stock:apiHost). Any other is refused. */
const CORS_ANNOTATIONS = [
    "enable-cors",
    "cors-allow-origin",
    "cors-allow-methods",
    "cors-allow-headers",
    "cors-allow-credentials",
    "cors-max-age",
].map((a) => NGINX_INGRESS + a);

/** ingress-nginx's CORS settings of one Ingress (its defaults where an annotation is absent). */
export interface Cors {
    /** Exact origins (scheme://host[:port]); ingress-nginx answers only a request whose Origin is one of them. */
    allowOrigins: string[];
    allowMethods: string;
    allowHeaders: string;
    allowCredentials: boolean;
    maxAge: string;
}

function corsOf(annotations: Record<string, string>, problems: string[]): Cors | undefined {
    const a = (name: string) => annotations[NGINX_INGRESS + name];
    if (a("enable-cors") === undefined) {
        for (const name of CORS_ANNOTATIONS)
            if (annotations[name] !== undefined) problems.push(`annotation ${name} without enable-cors has no effect`);
        return undefined;
    }
    if (a("enable-cors") !== "true")
        problems.push(`annotation ${NGINX_INGRESS}enable-cors is ${JSON.stringify(a("enable-cors"))}, expected "true"`);
    const allowOrigins = (a("cors-allow-origin") ?? "*")
        .split(",")
        .map((o) => o.trim())
        .filter(Boolean);
    for (const origin of allowOrigins) {
        if (!/^https?:\/\/[a-z0-9.-]+(:\d+)?$/.test(origin))
            problems.push(`cors-allow-origin ${JSON.stringify(origin)} is not emulated (exact scheme://host[:port] origins only)`);
    }
    const allowCredentials = (a("cors-allow-credentials") ?? "true") === "true";
    return {
        allowOrigins,
        allowMethods: a("cors-allow-methods") ?? "GET, PUT, POST, DELETE, PATCH, OPTIONS",
        allowHeaders:
            a("cors-allow-headers") ??
            "DNT,Keep-Alive,User-Agent,X-Requested-With,If-Modified-Since,Cache-Control,Content-Type,Range,Authorization",
        allowCredentials,
        maxAge: a("cors-max-age") ?? "1728000",
    };
}

function unsupported(value: unknown, shape: Shape, where: string, problems: string[]): void {
    if (shape === "string" || shape === "number") {
        if (typeof value !== shape) problems.push(`${where} is ${JSON.stringify(value)}, expected a ${shape}`);
    } else if (shape === "map") {
        if (!value || typeof value !== "object" || Object.values(value).some((v) => typeof v !== "string"))
            problems.push(`${where} is not a string map`);
    } else if (Array.isArray(shape)) {
        if (!Array.isArray(value)) problems.push(`${where} is not a list`);
        else value.forEach((item, i) => unsupported(item, shape[0], `${where}[${i}]`, problems));
    } else if (!value || typeof value !== "object" || Array.isArray(value)) {
        problems.push(`${where} is not an object`);
    } else {
        for (const [key, item] of Object.entries(value)) {
            if (!(key in shape)) problems.push(`${where ? `${where}.` : ""}${key} is not emulated`);
            else unsupported(item, shape[key], where ? `${where}.${key}` : key, problems);
        }
    }
}

/** One routed path: host, nginx location(s), and the Service it goes to. */
export interface IngressRoute {
    ingress: string;
    host: string;
    path: string;
    pathType: "Prefix" | "Exact";
    /** `<namespace>/<service>` */
    service: string;
    cors?: Cors;
}

const id = (o: K8sObject) => `Ingress ${o.metadata.namespace ?? "?"}/${o.metadata.name}`;

/**
 * The routes of every Ingress in `objects`, checked against what the emulation understands and
 * against the rendered Services (the backend must name a Service and one of its ports).
 * Throws one error listing every problem.
 */
export function ingressRoutes(objects: K8sObject[]): IngressRoute[] {
    const problems: string[] = [];
    const routes: IngressRoute[] = [];
    const services = objects.filter((o) => o.kind === "Service");
    for (const ing of objects.filter((o) => o.kind === "Ingress")) {
        const own: string[] = [];
        unsupported(ing, INGRESS_SHAPE, "", own);
        if (ing.apiVersion !== "networking.k8s.io/v1") own.push(`apiVersion ${ing.apiVersion} is not networking.k8s.io/v1`);
        if (ing.spec?.ingressClassName !== INGRESS_CLASS)
            own.push(`spec.ingressClassName is ${JSON.stringify(ing.spec?.ingressClassName)}: only class "${INGRESS_CLASS}" is served`);
        for (const key of Object.keys(ing.metadata.annotations ?? {})) {
            if (!CORS_ANNOTATIONS.includes(key)) own.push(`annotation ${key} is not emulated`);
        }
        const cors = corsOf(ing.metadata.annotations ?? {}, own);
        const namespace = ing.metadata.namespace;
        for (const rule of ing.spec?.rules ?? []) {
            if (!rule.host) own.push("a rule without host is not emulated");
            for (const p of rule.http?.paths ?? []) {
                if (p.pathType !== "Prefix" && p.pathType !== "Exact")
                    own.push(`path ${p.path}: pathType ${p.pathType} is not emulated (Prefix, Exact)`);
                if (typeof p.path !== "string" || !p.path.startsWith("/")) own.push(`path ${JSON.stringify(p.path)} does not start with /`);
                const svc = services.find(
                    (s) => s.metadata.name === p.backend?.service?.name && (s.metadata.namespace ?? namespace) === namespace,
                );
                const port = p.backend?.service?.port ?? {};
                if (!svc) own.push(`path ${p.path}: backend Service ${namespace}/${p.backend?.service?.name} is not rendered`);
                else if (
                    !(svc.spec.ports ?? []).some((sp: { name?: string; port: number }) =>
                        port.name !== undefined ? sp.name === port.name : sp.port === port.number,
                    )
                ) {
                    own.push(`path ${p.path}: Service ${svc.metadata.name} has no port ${JSON.stringify(port)}`);
                }
                routes.push({
                    ingress: id(ing),
                    host: rule.host,
                    path: p.path,
                    pathType: p.pathType,
                    service: `${namespace}/${p.backend?.service?.name}`,
                    cors,
                });
            }
        }
        problems.push(...own.map((p) => `${id(ing)}: ${p}`));
    }
    const seen = new Map<string, string>();
    for (const r of routes) {
        const key = `${r.host} ${r.pathType} ${normalPath(r)}`;
        const other = seen.get(key);
        if (other && other !== r.ingress) problems.push(`${r.ingress} and ${other} both route ${r.host}${r.path} (${r.pathType})`);
        seen.set(key, r.ingress);
    }
    if (problems.length)
        throw new Error(
            `the e2e ingress emulation (tests/e2e/ingress-nginx.ts) refuses the rendered Ingresses:\n  - ${problems.join("\n  - ")}`,
        );
    return routes;
}

/** Kubernetes ignores a trailing slash of a Prefix path (`/api/` ≡ `/api`). */
function normalPath(r: IngressRoute): string {
    return r.pathType === "Prefix" && r.path !== "/" ? r.path.replace(/\/+$/, "") : r.path;
}

/** nginx locations with the meaning of a Kubernetes path: Prefix matches whole path elements. */
function locations(r: IngressRoute): string[] {
    const p = normalPath(r);
    if (r.pathType === "Exact") return [`= ${p}`];
    return p === "/" ? ["/"] : [`= ${p}`, `${p}/`];
}

/**
 * ingress-nginx's CORS: a request whose Origin is allowed gets Access-Control-Allow-Origin with
 * that origin, its preflight (OPTIONS) is answered 204 by the controller; any other origin gets no
 * CORS header at all, so the browser refuses the answer.
 */
function corsLines(cors: Cors): string[] {
    const q = (v: string) => JSON.stringify(v);
    const origin = cors.allowOrigins.includes("*") ? "*" : "$http_origin";
    const common = [
        `add_header Access-Control-Allow-Origin ${origin} always;`,
        ...(cors.allowCredentials ? ["add_header Access-Control-Allow-Credentials true always;"] : []),
    ];
    return [
        '        set $cors "";',
        ...cors.allowOrigins.map((o) =>
            o === "*" ? '        set $cors "true";' : `        if ($http_origin = ${q(o)}) { set $cors "true"; }`,
        ),
        '        if ($request_method = OPTIONS) { set $cors "${cors}options"; }',
        `        if ($cors = "true") { ${common.join(" ")} }`,
        `        if ($cors = "trueoptions") { ${common.join(" ")} add_header Access-Control-Allow-Methods ${q(cors.allowMethods)} always; add_header Access-Control-Allow-Headers ${q(cors.allowHeaders)} always; add_header Access-Control-Max-Age ${q(cors.maxAge)} always; return 204; }`,
    ];
}

/**
 * The http {} body of the ingress nginx listening on 127.0.0.1:`port`: one server per host, one
 * location per path, proxied to `endpoints[<namespace>/<service>]` (host:port of the process that
 * stands for the Service's pods). Unknown hosts get the controller's default backend (404).
 */
export function ingressNginxHttp(routes: IngressRoute[], endpoints: Record<string, string>, port: number): string {
    const missing = [...new Set(routes.map((r) => r.service))].filter((s) => !endpoints[s]);
    if (missing.length) throw new Error(`no endpoints given for Service(s) ${missing.join(", ")}`);
    const out: string[] = [
        // As ingress-nginx: the client's Host goes to the pods, which check it (ALLOWED_HOSTS).
        "proxy_set_header Host $host;",
        "proxy_set_header X-Real-IP $remote_addr;",
        "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;",
        "proxy_set_header X-Forwarded-Proto $scheme;",
        "proxy_http_version 1.1;",
        "proxy_connect_timeout 5s;",
        "",
        "server {",
        `    listen 127.0.0.1:${port} default_server;`,
        "    server_name _;",
        '    return 404 "ingress: default backend - 404 (no Ingress rule for host $host)\\n";',
        "}",
    ];
    for (const host of [...new Set(routes.map((r) => r.host))]) {
        out.push("", "server {", `    listen 127.0.0.1:${port};`, `    server_name ${host};`);
        for (const r of routes.filter((x) => x.host === host)) {
            for (const loc of locations(r)) {
                out.push(`    # ${r.ingress}: ${r.path} (${r.pathType}) -> ${r.service}`);
                out.push(
                    `    location ${loc} {`,
                    ...(r.cors ? corsLines(r.cors) : []),
                    `        proxy_pass http://${endpoints[r.service]};`,
                    "    }",
                );
            }
        }
        out.push("}");
    }
    return out.join("\n") + "\n";
}
