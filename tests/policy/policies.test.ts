// Unit tests of every policy of the pack (policy/rules/, listed in policy/policies.ts): one passing and at least one failing resource
// each, run through the same args the @pulumi/policy analyzer builds (tests/policy/support.ts).
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import {
    DEFAULT_ALLOWED_REGISTRIES,
    PACK_NAME,
    checkSecretConfigNotInPlaintext,
    containerResourceLimits,
    credentialValues,
    fromAllowedRegistry,
    imageFromAllowedRegistry,
    imageTagPinned,
    noExternalServiceInTenantNamespace,
    noPlaintextCredentials,
    parseImageRef,
    podRunsAsNonRoot,
    policies,
    redisImagePatched,
    registryOverTls,
    secretConfigNotInPlaintext,
    stackConfigFromEnv,
    stackSecretConfig,
    tenantNamespaceDefaultDeny,
    unpinnedReason,
} from "../../policy/policies";
import { AnalyzeOptions, InputResource, analyze, explain } from "./support";

const HARBOR = "harbor.feng.local:9800/library";
const STACK = "urn:pulumi:client-a::stock";

type Props = Record<string, any>;

function resource(type: string, name: string, props: Props): InputResource {
    return { type, name, urn: `${STACK}::${type}::${name}`, props };
}

const DEPLOYMENT = "kubernetes:apps/v1:Deployment";

/** A Deployment as the backend-api chart renders it, trimmed to what the policies look at. */
function deployment(overrides: { pod?: Props; container?: Props; init?: Props[]; namespace?: string; name?: string } = {}): InputResource {
    const container = {
        name: "api",
        image: `${HARBOR}/stock_backend:ctx-0123456789abcdef`,
        resources: { requests: { cpu: "250m", memory: "384Mi" }, limits: { cpu: "1", memory: "768Mi" } },
        securityContext: { runAsNonRoot: true, runAsUser: 1000, allowPrivilegeEscalation: false },
        envFrom: [{ secretRef: { name: "stock-backend-secret" } }],
        env: [{ name: "HOME", value: "/tmp" }],
        ...overrides.container,
    };
    const name = overrides.name ?? "stock-backend-api";
    return resource(DEPLOYMENT, `client-a-backend-api:client-a/${name}`, {
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata: { name, namespace: overrides.namespace ?? "client-a" },
        spec: {
            template: {
                spec: {
                    securityContext: { runAsNonRoot: true, runAsUser: 1000, fsGroup: 1000, ...overrides.pod },
                    ...(overrides.init ? { initContainers: overrides.init } : {}),
                    containers: [container],
                },
            },
        },
    });
}

async function violations(policyName: string, resources: InputResource[], options: AnalyzeOptions = {}) {
    const policy = policies.find((p) => p.name === policyName);
    assert.ok(policy, `no policy ${policyName}`);
    const result = await analyze(resources, { ...options, policies: [policy] });
    assert.deepEqual(result.advisory, [], explain(result.advisory));
    return result.mandatory;
}

function assertOne(found: Array<{ message: string }>, ...parts: Array<string | RegExp>) {
    assert.equal(found.length, 1, `expected one violation, got:\n${found.map((f) => f.message).join("\n") || "(none)"}`);
    for (const part of parts) {
        if (typeof part === "string") assert.ok(found[0].message.includes(part), `"${part}" not in: ${found[0].message}`);
        else assert.match(found[0].message, part);
    }
}

describe("policy pack: definitions", () => {
    it("every policy is mandatory, kebab-case, described, and names are unique", () => {
        assert.equal(PACK_NAME, "stock-deploy-guardrails");
        const names = policies.map((p) => p.name);
        assert.equal(new Set(names).size, names.length);
        for (const p of policies) {
            assert.match(p.name, /^[a-z]+(-[a-z]+)*$/);
            assert.equal(p.enforcementLevel, "mandatory", p.name);
            assert.ok(p.description.length > 40, p.name);
            // The analyzer refuses an `enforcementLevel` property in a config schema.
            assert.ok(!("enforcementLevel" in (p.configSchema?.properties ?? {})), p.name);
        }
    });

    it("policy/config.json only configures policies of the pack, with keys their schemas declare, and repeats the defaults", () => {
        const config = JSON.parse(fs.readFileSync(path.join(__dirname, "..", "..", "policy", "config.json"), "utf8"));
        for (const [name, values] of Object.entries(config as Record<string, Record<string, unknown>>)) {
            const policy = policies.find((p) => p.name === name);
            assert.ok(policy, `config.json configures unknown policy ${name}`);
            for (const [key, value] of Object.entries(values)) {
                const schema = (policy.configSchema?.properties ?? {})[key] as { default?: unknown } | undefined;
                assert.ok(schema, `${name}.${key} is not in the policy's configSchema`);
                assert.deepEqual(value, schema.default, `${name}.${key} differs from the schema default`);
            }
        }
    });
});

describe("policy: pod-runs-as-non-root", () => {
    it("passes a pod that sets runAsNonRoot and a non-zero uid", async () => {
        assert.deepEqual(await violations("pod-runs-as-non-root", [deployment()]), []);
    });

    it("accepts runAsNonRoot set at container level only", async () => {
        const d = deployment({ pod: { runAsNonRoot: undefined, runAsUser: undefined } });
        assert.deepEqual(await violations("pod-runs-as-non-root", [d]), []);
    });

    it("fails a container without runAsNonRoot anywhere, naming the Deployment, namespace, container and fix", async () => {
        const d = deployment({ pod: { runAsNonRoot: undefined }, container: { securityContext: { runAsUser: 1000 } } });
        const found = await violations("pod-runs-as-non-root", [d]);
        assertOne(found, "Deployment client-a/stock-backend-api", 'container "api"', "runAsNonRoot is not set", "Fix:");
        assert.equal(found[0].urn, d.urn);
    });

    it("fails runAsUser 0 inherited from the pod", async () => {
        const d = deployment({ pod: { runAsUser: 0 }, container: { securityContext: { runAsNonRoot: true } } });
        assertOne(
            await violations("pod-runs-as-non-root", [d]),
            'container "api" runs as root',
            "runAsUser is 0 (from spec.template.spec.securityContext)",
        );
    });

    it("checks init containers, StatefulSets, Jobs and CronJobs, and ignores other kinds", async () => {
        const init = deployment({ init: [{ name: "wait", image: `${HARBOR}/busybox:1.36`, securityContext: { runAsNonRoot: false } }] });
        assertOne(await violations("pod-runs-as-non-root", [init]), 'init container "wait"', "runAsNonRoot is false");
        const rootPod = { securityContext: {}, containers: [{ name: "c", image: "x:1" }] };
        const others = [
            resource("kubernetes:apps/v1:StatefulSet", "s", {
                metadata: { name: "s", namespace: "client-a" },
                spec: { template: { spec: rootPod } },
            }),
            resource("kubernetes:batch/v1:Job", "j", {
                metadata: { name: "j", namespace: "client-a" },
                spec: { template: { spec: rootPod } },
            }),
            resource("kubernetes:batch/v1:CronJob", "cj", {
                metadata: { name: "cj", namespace: "client-a" },
                spec: { jobTemplate: { spec: { template: { spec: rootPod } } } },
            }),
            resource("kubernetes:core/v1:Service", "svc", { metadata: { name: "svc" }, spec: { type: "ClusterIP" } }),
        ];
        const found = await violations("pod-runs-as-non-root", others);
        assert.deepEqual(
            found.map((f) => f.message.split(":")[0]),
            ["StatefulSet client-a/s", "Job client-a/j", "CronJob client-a/cj"],
        );
    });

    it("honours exemptNamespaces", async () => {
        const d = deployment({ namespace: "kube-system", pod: { runAsNonRoot: undefined }, container: { securityContext: {} } });
        assert.equal((await violations("pod-runs-as-non-root", [d])).length, 1);
        assert.deepEqual(
            await violations("pod-runs-as-non-root", [d], { config: { "pod-runs-as-non-root": { exemptNamespaces: ["kube-system"] } } }),
            [],
        );
    });
});

describe("policy: container-resource-limits", () => {
    it("passes containers with cpu and memory limits", async () => {
        assert.deepEqual(await violations("container-resource-limits", [deployment()]), []);
    });

    it("fails a container with requests only, naming what is missing", async () => {
        const d = deployment({ container: { resources: { requests: { cpu: "100m", memory: "128Mi" } } } });
        assertOne(
            await violations("container-resource-limits", [d]),
            "Deployment client-a/stock-backend-api",
            'container "api"',
            "no cpu and no memory limit",
            "Fix: set resources.limits.cpu and resources.limits.memory",
        );
    });

    it("fails an init container without a memory limit", async () => {
        const d = deployment({ init: [{ name: "wait", image: "x:1", resources: { limits: { cpu: "100m" } } }] });
        assertOne(await violations("container-resource-limits", [d]), 'init container "wait" has no memory limit');
    });
});

describe("policy: image-tag-pinned", () => {
    it("parses image references: ports are not tags, digests win", () => {
        assert.deepEqual(parseImageRef(`${HARBOR}/stock_backend`), { name: `${HARBOR}/stock_backend`, tag: undefined, digest: undefined });
        assert.deepEqual(parseImageRef(`${HARBOR}/stock_backend:ctx-1`), {
            name: `${HARBOR}/stock_backend`,
            tag: "ctx-1",
            digest: undefined,
        });
        assert.equal(parseImageRef(`nginx:latest@sha256:${"a".repeat(64)}`).digest, `sha256:${"a".repeat(64)}`);
        assert.equal(unpinnedReason(`${HARBOR}/x@sha256:${"0".repeat(64)}`), undefined);
        assert.equal(unpinnedReason(`${HARBOR}/x:latest@sha256:${"0".repeat(64)}`), undefined);
        assert.match(unpinnedReason(`${HARBOR}/x@sha256:abc`) ?? "", /malformed digest/);
        assert.match(unpinnedReason(`${HARBOR}/x`) ?? "", /no tag/);
        assert.match(unpinnedReason("nginx:latest") ?? "", /latest/);
        assert.match(unpinnedReason("") ?? "", /no image/);
    });

    it("passes a content-hash tag and a digest", async () => {
        const digest = deployment({ container: { image: `${HARBOR}/stock_backend@sha256:${"f".repeat(64)}` } });
        assert.deepEqual(await violations("image-tag-pinned", [deployment(), digest]), []);
    });

    it("fails :latest and a tag-less image", async () => {
        const latest = await violations("image-tag-pinned", [deployment({ container: { image: `${HARBOR}/stock_backend:latest` } })]);
        assertOne(latest, 'container "api" image', "uses the mutable tag :latest", "Fix:");
        const bare = await violations("image-tag-pinned", [deployment({ container: { image: `${HARBOR}/stock_backend` } })]);
        assertOne(bare, "has no tag, which means :latest");
    });

    it("fails an image the stack pushes without a tag, passes one with a tag", async () => {
        const img = (tag: string) => resource("docker-build:index:Image", "client-a-images-backend", { tags: [tag] });
        assert.deepEqual(await violations("image-tag-pinned", [img(`${HARBOR}/stock_backend:ctx-1`)]), []);
        assertOne(await violations("image-tag-pinned", [img(`${HARBOR}/stock_backend`)]), "Image client-a-images-backend", "has no tag");
    });

    it("reports an image not known during preview as advisory, like the analyzer", async () => {
        const unknown = deployment({ container: { image: "04da6b54-80e4-46f7-96ec-b56ff0331ba9" } });
        const result = await analyze([unknown], { policies: [imageTagPinned] });
        assert.deepEqual(result.mandatory, []);
        assert.equal(result.advisory.length, 1);
        assert.match(result.advisory[0].message, /can't run policy 'image-tag-pinned' during preview/);
    });
});

describe("policy: image-from-allowed-registry", () => {
    it("matches prefixes at a path boundary and qualifies Docker Hub short names", () => {
        assert.ok(fromAllowedRegistry(`${HARBOR}/stock_backend:1`, DEFAULT_ALLOWED_REGISTRIES));
        assert.ok(fromAllowedRegistry(`${HARBOR}/stock_backend:1`, ["harbor.feng.local:9800/library"]));
        assert.ok(!fromAllowedRegistry("harbor.feng.local:9800/library-evil/x:1", ["harbor.feng.local:9800/library"]));
        assert.ok(!fromAllowedRegistry("harbor.feng.local/library/x:1", DEFAULT_ALLOWED_REGISTRIES));
        assert.ok(fromAllowedRegistry("nginx:1.25", ["docker.io/library/"]));
    });

    it("passes Harbor images", async () => {
        assert.deepEqual(await violations("image-from-allowed-registry", [deployment()]), []);
    });

    it("fails a Docker Hub image in a tenant namespace, naming where it would be pulled from", async () => {
        const d = deployment({ container: { image: "python:3.8-slim" } });
        assertOne(
            await violations("image-from-allowed-registry", [d]),
            "Deployment client-a/stock-backend-api",
            'container "api" image "python:3.8-slim" (pulled as docker.io/library/python:3.8-slim)',
            'not from an allowed registry ("harbor.feng.local:9800/library/")',
        );
    });

    it("exempts the redis namespace by default, and follows configured registries", async () => {
        const redis = deployment({ namespace: "redis", container: { image: "docker.io/bitnamilegacy/redis:8.2.1-debian-12-r0" } });
        assert.deepEqual(await violations("image-from-allowed-registry", [redis]), []);
        const config = { "image-from-allowed-registry": { allowedRegistries: ["registry.example.com/stock/"], exemptNamespaces: [] } };
        assert.equal((await violations("image-from-allowed-registry", [redis, deployment()], { config })).length, 2);
    });

    it("fails an image the stack pushes somewhere else", async () => {
        const img = resource("docker-build:index:Image", "client-a-images-frontend", { tags: ["docker.io/someone/frontend_stock:ctx-1"] });
        assertOne(
            await violations("image-from-allowed-registry", [img]),
            'Image client-a-images-frontend: tag "docker.io/someone/frontend_stock:ctx-1" is not pushed to an allowed registry',
        );
    });
});

describe("policy: no-external-service-in-tenant-namespace", () => {
    const service = (namespace: string | undefined, spec: Props) =>
        resource("kubernetes:core/v1:Service", `svc-${namespace}`, {
            metadata: { name: "stock-frontend", ...(namespace ? { namespace } : {}) },
            spec,
        });

    it("passes ClusterIP Services in tenant namespaces and a LoadBalancer in ingress-nginx", async () => {
        assert.deepEqual(
            await violations("no-external-service-in-tenant-namespace", [
                service("client-a", { type: "ClusterIP", ports: [{ port: 80 }] }),
                service("client-a", { ports: [{ port: 80 }] }),
                service("ingress-nginx", { type: "LoadBalancer" }),
            ]),
            [],
        );
    });

    it("fails NodePort and LoadBalancer in tenant namespaces (the default namespace included)", async () => {
        assertOne(
            await violations("no-external-service-in-tenant-namespace", [service("client-a", { type: "NodePort" })]),
            "Service client-a/stock-frontend is of type NodePort in tenant namespace client-a",
            "ingress controller",
            "Fix: use service.type ClusterIP",
        );
        assertOne(
            await violations("no-external-service-in-tenant-namespace", [service(undefined, { type: "LoadBalancer" })]),
            "Service default/stock-frontend is of type LoadBalancer in tenant namespace default",
        );
    });

    it("fails externalIPs in a tenant namespace", async () => {
        assertOne(
            await violations("no-external-service-in-tenant-namespace", [
                service("client-b", { type: "ClusterIP", externalIPs: ["10.1.2.3"] }),
            ]),
            "sets externalIPs (10.1.2.3)",
        );
    });

    it("follows the configured systemNamespaces", async () => {
        const config = { "no-external-service-in-tenant-namespace": { systemNamespaces: ["monitoring"] } };
        assert.deepEqual(
            await violations("no-external-service-in-tenant-namespace", [service("monitoring", { type: "NodePort" })], { config }),
            [],
        );
        assert.equal(
            (await violations("no-external-service-in-tenant-namespace", [service("redis", { type: "NodePort" })], { config })).length,
            1,
        );
    });
});

describe("policy: tenant-namespace-default-deny", () => {
    const namespace = (name: string, labels: Props = { "stock-deploy/tenant": name }) =>
        resource("kubernetes:core/v1:Namespace", `${name}-namespace`, { metadata: { name, labels } });
    const netpol = (name: string, namespace: string, spec: Props) =>
        resource("kubernetes:networking.k8s.io/v1:NetworkPolicy", `${namespace}-${name}`, { metadata: { name, namespace }, spec });
    const DENY = { podSelector: {}, policyTypes: ["Ingress", "Egress"] };

    it("passes a tenant namespace with a default-deny NetworkPolicy, and ignores unlabelled namespaces", async () => {
        assert.deepEqual(
            await violations("tenant-namespace-default-deny", [
                namespace("client-a"),
                netpol("default-deny", "client-a", DENY),
                netpol("stock-backend-api", "client-a", {
                    podSelector: { matchLabels: { app: "api" } },
                    policyTypes: ["Ingress"],
                    ingress: [{}],
                }),
                namespace("redis", {}),
            ]),
            [],
        );
    });

    it("fails a tenant namespace without any NetworkPolicy, reported against the Namespace", async () => {
        const ns = namespace("client-b");
        const found = await violations("tenant-namespace-default-deny", [ns, netpol("default-deny", "client-a", DENY)]);
        assertOne(
            found,
            "Tenant Namespace client-b (label stock-deploy/tenant=client-b) has no default-deny NetworkPolicy: it has no NetworkPolicy at all",
            "Fix: add a NetworkPolicy in namespace client-b",
        );
        assert.equal(found[0].urn, ns.urn);
    });

    it("fails when the only NetworkPolicies select some pods, lack Egress, or allow traffic", async () => {
        for (const [spec, why] of [
            [{ podSelector: { matchLabels: { app: "api" } }, policyTypes: ["Ingress", "Egress"] }, "podSelector is not {}"],
            [{ podSelector: {}, policyTypes: ["Ingress"] }, "policyTypes lack Egress"],
            [
                { podSelector: {}, policyTypes: ["Ingress", "Egress"], egress: [{ to: [{ ipBlock: { cidr: "0.0.0.0/0" } }] }] },
                "has egress rules",
            ],
            [{ policyTypes: ["Ingress", "Egress"] }, "podSelector is not {}"],
        ] as Array<[Props, string]>) {
            assertOne(
                await violations("tenant-namespace-default-deny", [namespace("client-a"), netpol("np", "client-a", spec)]),
                `np: its ${why}`.replace("its has", "it has"),
            );
        }
    });

    it("follows the configured tenant label", async () => {
        const config = { "tenant-namespace-default-deny": { tenantLabel: "example.com/customer" } };
        assert.deepEqual(await violations("tenant-namespace-default-deny", [namespace("client-a")], { config }), []);
        assert.equal(
            (await violations("tenant-namespace-default-deny", [namespace("x", { "example.com/customer": "x" })], { config })).length,
            1,
        );
    });
});

describe("policy: no-plaintext-credentials", () => {
    const configMap = (data: Props) =>
        resource("kubernetes:core/v1:ConfigMap", "client-a-env", { metadata: { name: "stock-backend-env", namespace: "client-a" }, data });
    const secret = (props: Props) =>
        resource("kubernetes:core/v1:Secret", "client-a-secret", {
            metadata: { name: "stock-backend-secret", namespace: "client-a" },
            ...props,
        });

    it("passes the app's ConfigMap keys, a typed Secret whose data is unknown at preview, and env from Secrets", async () => {
        const found = await violations("no-plaintext-credentials", [
            configMap({ DJANGO_DEBUG: "0", DJANGO_DB_HOST: "mysql.feng.local", DJANGO_REDIS_KEY_PREFIX: "client-a:" }),
            secret({ type: "Opaque", stringData: "04da6b54-80e4-46f7-96ec-b56ff0331ba9" }),
            deployment({ container: { env: [{ name: "DJANGO_DB_PWD", valueFrom: { secretKeyRef: { name: "s", key: "k" } } }] } }),
        ]);
        assert.deepEqual(found, []);
    });

    it("fails a ConfigMap key that looks like a credential, naming the key and the fix", async () => {
        assertOne(
            await violations("no-plaintext-credentials", [configMap({ DJANGO_DEBUG: "0", DJANGO_DB_PWD: "x" })]),
            'ConfigMap client-a/stock-backend-env: data key "DJANGO_DB_PWD" looks like a credential',
            "Fix: move DJANGO_DB_PWD to a Secret",
        );
        for (const key of ["API_TOKEN", "db_password", "SENTRY_SECRET", "AWS_ACCESS_KEY"]) {
            assert.equal((await violations("no-plaintext-credentials", [configMap({ [key]: "v" })])).length, 1, key);
        }
    });

    it("allows configured keys", async () => {
        const config = { "no-plaintext-credentials": { allowedKeys: ["CSRF_TOKEN_HEADER"] } };
        assert.deepEqual(await violations("no-plaintext-credentials", [configMap({ CSRF_TOKEN_HEADER: "X-CSRF" })], { config }), []);
    });

    it("fails a Secret without a type", async () => {
        assertOne(
            await violations("no-plaintext-credentials", [secret({ stringData: { a: "b" } })]),
            "Secret client-a/stock-backend-secret has no type",
        );
    });

    it("fails a credential-looking env var set to a literal value", async () => {
        const d = deployment({ container: { env: [{ name: "DJANGO_DB_PWD", value: "hunter22" }] } });
        assertOne(
            await violations("no-plaintext-credentials", [d]),
            'Deployment client-a/stock-backend-api: container "api" sets DJANGO_DB_PWD to a literal value',
            "secretKeyRef",
        );
    });

    it("accepts literal flags and file paths named like credentials (the Bitnami Redis env)", async () => {
        const d = deployment({
            container: {
                env: [
                    { name: "ALLOW_EMPTY_PASSWORD", value: "no" },
                    { name: "REDIS_PASSWORD_FILE", value: "/opt/bitnami/redis/secrets/redis-password" },
                    { name: "REDIS_TLS_KEY_FILE", value: "/opt/bitnami/redis/certs/tls.key" },
                ],
            },
        });
        assert.deepEqual(await violations("no-plaintext-credentials", [d]), []);
        assert.equal(
            (
                await violations("no-plaintext-credentials", [
                    deployment({ container: { env: [{ name: "ALLOW_EMPTY_PASSWORD", value: "hunter22" }] } }),
                ])
            ).length,
            1,
        );
    });
});

describe("policy: secret-config-not-in-plaintext", () => {
    const stackConfig = {
        "stock:tenant": "client-a",
        "stock:pullSecretName": "harbor-pull-secret",
        "stock:dbPassword": "fake-db-pass-0123456789",
        "stock:npmToken": "npm-token-0123456789",
        "stock:extraSecretEnv": JSON.stringify({ SENTRY_DSN: "https://key0123@sentry.example/1" }),
        "stock:harborPassword": "short",
    };

    it("finds credential keys by name, skips keys that only name one and values too short to search", () => {
        const found = credentialValues(stackConfig, stackSecretConfig());
        assert.deepEqual([...found.keys()].sort(), ["stock:dbPassword", "stock:extraSecretEnv", "stock:npmToken"]);
        assert.deepEqual(found.get("stock:extraSecretEnv"), ["https://key0123@sentry.example/1"]);
    });

    it("reads the stack config the engine passes in PULUMI_CONFIG", () => {
        assert.deepEqual(stackConfigFromEnv({ PULUMI_CONFIG: JSON.stringify({ "stock:a": "b", "stock:n": 3 }) }), {
            "stock:a": "b",
            "stock:n": "3",
        });
        assert.equal(stackConfigFromEnv({}), undefined);
        assert.equal(stackConfigFromEnv({ PULUMI_CONFIG: "not json" }), undefined);
    });

    const sinks = [
        resource("kubernetes:core/v1:Secret", "client-a-secret", {
            metadata: { name: "s", namespace: "client-a" },
            type: "Opaque",
            stringData: { DJANGO_DB_PWD: "fake-db-pass-0123456789" },
        }),
        resource("kubernetes:core/v1:Secret", "client-a-secret-b64", {
            metadata: { name: "s2", namespace: "client-a" },
            type: "Opaque",
            data: { P: Buffer.from("fake-db-pass-0123456789").toString("base64") },
        }),
        resource("docker-build:index:Image", "client-a-images-frontend", {
            tags: [`${HARBOR}/f:1`],
            registries: [{ address: HARBOR, password: "fake-db-pass-0123456789" }],
            buildArgs: { NPM_TOKEN: "npm-token-0123456789" },
        }),
        resource("docker-build:index:Image", "client-b-images-frontend", {
            tags: [`${HARBOR}/f:2`],
            secrets: { npm_token: "npm-token-0123456789" },
        }),
    ];

    it("passes credentials that only reach Secrets and image pushes", async () => {
        assert.deepEqual(await violations("secret-config-not-in-plaintext", sinks, { stackConfig }), []);
    });

    it("fails a credential in a ConfigMap, a chart value or base64-encoded in an annotation, without printing it", async () => {
        const leaks = [
            resource("kubernetes:core/v1:ConfigMap", "client-a-env", {
                metadata: { name: "stock-backend-env", namespace: "client-a" },
                data: { DATABASE_URL: "mysql://u:fake-db-pass-0123456789@db/x" },
            }),
            resource("kubernetes:helm.sh/v4:Chart", "client-a-backend-api", {
                values: { extraEnv: [{ name: "SENTRY", value: "https://key0123@sentry.example/1" }] },
            }),
            resource(DEPLOYMENT, "d", {
                metadata: { name: "d", namespace: "client-a", annotations: { x: Buffer.from("npm-token-0123456789").toString("base64") } },
            }),
        ];
        const found = await violations("secret-config-not-in-plaintext", [...sinks, ...leaks], { stackConfig });
        assert.equal(found.length, 3, found.map((f) => f.message).join("\n"));
        assert.match(
            found[0].message,
            /secret stack config stock:dbPassword appears in ConfigMap client-a\/stock-backend-env \(kubernetes:core\/v1:ConfigMap\) at data\.DATABASE_URL/,
        );
        assert.equal(found[0].urn, leaks[0].urn);
        assert.match(found[1].message, /stock:extraSecretEnv appears in Chart client-a-backend-api .* at values\.extraEnv\.0\.value/);
        assert.match(found[2].message, /stock:npmToken appears in Deployment client-a\/d .* at metadata\.annotations\.x/);
        for (const f of found) {
            for (const secretValue of ["fake-db-pass-0123456789", "npm-token-0123456789", "key0123@sentry"])
                assert.ok(!f.message.includes(secretValue), f.message);
        }
    });

    it("skips values unknown during preview instead of failing the policy", () => {
        const preview = [resource("kubernetes:core/v1:ConfigMap", "c", { data: { A: "04da6b54-80e4-46f7-96ec-b56ff0331ba9" } })];
        assert.deepEqual(checkSecretConfigNotInPlaintext(preview, stackConfig), []);
    });

    it("is not applicable when the engine passes no stack config", async () => {
        const result = await analyze(sinks, { policies: [secretConfigNotInPlaintext] });
        assert.deepEqual(result.diagnostics, []);
        assert.deepEqual(
            result.notApplicable.map((n) => n.policy),
            ["secret-config-not-in-plaintext"],
        );
    });
});

describe("policy: registry-over-tls", () => {
    const tls = { "stock:harborServer": "harbor.feng.local:9800", "stock:harborPlainHttp": "false" };
    const plain = { "stock:harborServer": "kind-registry:5000", "stock:harborPlainHttp": "true" };

    it("passes a stack that asks its registry over TLS (the key false or absent)", async () => {
        assert.deepEqual(await violations("registry-over-tls", [], { stackConfig: tls }), []);
        assert.deepEqual(await violations("registry-over-tls", [], { stackConfig: { "stock:role": "shared" } }), []);
    });

    it("fails stock:harborPlainHttp true for a registry not listed, naming it, the risk and both fixes", async () => {
        const found = await violations("registry-over-tls", [], { stackConfig: plain });
        assertOne(
            found,
            "stock:harborPlainHttp is true: the stack asks kind-registry:5000 over plain HTTP, so the robot's credentials cross the network unencrypted",
            "pulumi config set stock:harborPlainHttp false",
            "add 'kind-registry:5000' to plainHttpRegistries",
        );
    });

    it("passes it for a registry the policy config lists, and only that one", async () => {
        const config = { "registry-over-tls": { plainHttpRegistries: ["kind-registry:5000"] } };
        assert.deepEqual(await violations("registry-over-tls", [], { stackConfig: plain, config }), []);
        const other = { ...plain, "stock:harborServer": "harbor.feng.local:9800" };
        assert.equal((await violations("registry-over-tls", [], { stackConfig: other, config })).length, 1);
    });

    it("is not applicable when the engine passes no stack config", async () => {
        const result = await analyze([], { policies: [registryOverTls] });
        assert.deepEqual(
            result.notApplicable.map((n) => n.policy),
            ["registry-over-tls"],
        );
    });
});

describe("policy pack: wiring", () => {
    it("exports every policy object it lists", () => {
        assert.deepEqual(policies, [
            podRunsAsNonRoot,
            containerResourceLimits,
            imageTagPinned,
            imageFromAllowedRegistry,
            noExternalServiceInTenantNamespace,
            tenantNamespaceDefaultDeny,
            noPlaintextCredentials,
            secretConfigNotInPlaintext,
            redisImagePatched,
            registryOverTls,
        ]);
    });

    it("a policy disabled in the config does not run", async () => {
        const d = deployment({ container: { image: "nginx:latest" } });
        const result = await analyze([d], { config: { "image-tag-pinned": { enforcementLevel: "disabled" } } });
        assert.ok(!result.diagnostics.some((x) => x.policy === "image-tag-pinned"), explain(result));
        assert.ok(
            result.diagnostics.some((x) => x.policy === "image-from-allowed-registry"),
            explain(result),
        );
    });
});
