// The pack started the way the Pulumi CLI starts a Node.js policy pack, talked to over the analyzer
// gRPC protocol the engine uses. The CLI's `pulumi-analyzer-policy` plugin resolves
// @pulumi/pulumi/cmd/run-policy-pack from the pack directory (here: the repository's node_modules)
// and runs `node <run-policy-pack> <engine address> .` in policy/, with the stack's decrypted config
// in PULUMI_CONFIG; run-policy-pack type-checks index.ts with ts-node, the PolicyPack reads its
// version from policy/package.json and prints the port of its gRPC server.
//
// This proves what the unit tests cannot: the pack directory is complete (package.json,
// tsconfig.json, PulumiPolicy.yaml), it compiles under the analyzer's ts-node settings, and the
// real SDK server reports our policies, their config and their violations.
import * as assert from "node:assert/strict";
import { ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import * as YAML from "yaml";
import { policies } from "../../policy/policies";

const POLICY_DIR = path.resolve(__dirname, "..", "..", "policy");
const PULUMI_DIR = path.dirname(require.resolve("@pulumi/pulumi/package.json", { paths: [POLICY_DIR] }));
// The modules the generated analyzer client was built against (same instances, or instanceof checks fail).
const fromPulumi = (m: string) => require(require.resolve(m, { paths: [PULUMI_DIR] }));

const grpc: any = fromPulumi("@grpc/grpc-js");
const pb: any = require(path.join(PULUMI_DIR, "proto", "analyzer_pb.js"));
const services: any = require(path.join(PULUMI_DIR, "proto", "analyzer_grpc_pb.js"));
const { Struct }: any = fromPulumi("google-protobuf/google/protobuf/struct_pb.js");
const { Empty }: any = fromPulumi("google-protobuf/google/protobuf/empty_pb.js");

const DB_PASSWORD = "FAKE-SECRET-dbPassword-client-a";
const STACK_CONFIG = { "stock:tenant": "client-a", "stock:dbPassword": DB_PASSWORD, "stock:pullSecretName": "harbor" };

function call<T>(client: any, method: string, request: unknown): Promise<T> {
    return new Promise((resolve, reject) => client[method](request, (err: Error | null, res: T) => (err ? reject(err) : resolve(res))));
}

function options() {
    const o = new pb.AnalyzerResourceOptions();
    o.setCustomtimeouts(new pb.AnalyzerResourceOptions.CustomTimeouts());
    return o;
}

function analyzeRequest(type: string, name: string, props: object) {
    const req = new pb.AnalyzeRequest();
    req.setType(type);
    req.setName(name);
    req.setUrn(`urn:pulumi:client-a::stock::${type}::${name}`);
    req.setProperties(Struct.fromJavaScript(props));
    req.setOptions(options());
    return req;
}

function stackResource(type: string, name: string, props: object) {
    const r = new pb.AnalyzerResource();
    r.setType(type);
    r.setName(name);
    r.setUrn(`urn:pulumi:client-a::stock::${type}::${name}`);
    r.setProperties(Struct.fromJavaScript(props));
    r.setOptions(options());
    return r;
}

interface Diag {
    policy: string;
    message: string;
    level: number;
    urn: string;
}
function diagnostics(res: any): Diag[] {
    return res.getDiagnosticsList().map((d: any) => ({
        policy: d.getPolicyname(),
        message: d.getMessage(),
        level: d.getEnforcementlevel(),
        urn: d.getUrn(),
    }));
}

describe("policy pack process (started like the Pulumi CLI, over gRPC)", function () {
    this.timeout(90_000);
    let child: ChildProcess | undefined;
    let client: any;
    let stderr = "";

    before(async () => {
        // What `pulumi-analyzer-policy` does: resolve run-policy-pack from the pack directory.
        const runPolicyPack = require.resolve("@pulumi/pulumi/cmd/run-policy-pack", { paths: [POLICY_DIR] });
        child = spawn(process.execPath, [runPolicyPack, "127.0.0.1:1", "."], {
            cwd: POLICY_DIR,
            env: { ...process.env, PULUMI_CONFIG: JSON.stringify(STACK_CONFIG) },
            stdio: ["ignore", "pipe", "pipe"],
        });
        child.stderr!.on("data", (d) => (stderr += String(d)));
        const port = await new Promise<string>((resolve, reject) => {
            let out = "";
            child!.stdout!.on("data", (d) => {
                out += String(d);
                const line = out.split("\n")[0].trim();
                if (out.includes("\n") || /^\d+$/.test(line)) resolve(line);
            });
            child!.on("exit", (code) => reject(new Error(`policy pack exited (${code}) before printing its port:\n${stderr}`)));
        });
        assert.match(port, /^\d+$/, `expected a port, got ${port}\n${stderr}`);
        client = new services.AnalyzerClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    });

    after(() => {
        client?.close();
        if (child && child.exitCode === null) child.kill();
    });

    it("is a Node.js pack whose package.json carries the version the PolicyPack reads", () => {
        const manifest = YAML.parse(fs.readFileSync(path.join(POLICY_DIR, "PulumiPolicy.yaml"), "utf8"));
        assert.equal(manifest.runtime, "nodejs");
        const pkg = JSON.parse(fs.readFileSync(path.join(POLICY_DIR, "package.json"), "utf8"));
        const root = JSON.parse(fs.readFileSync(path.join(POLICY_DIR, "..", "package.json"), "utf8"));
        assert.match(pkg.version, /^\d+\.\d+\.\d+$/);
        // Same pins as the root, which is what actually serves them.
        for (const [name, version] of Object.entries({ ...pkg.dependencies, ...pkg.devDependencies })) {
            assert.equal(version, root.dependencies[name] ?? root.devDependencies[name], name);
        }
    });

    it("describes every policy as mandatory, with its config schema", async () => {
        const info: any = await call(client, "getAnalyzerInfo", new Empty());
        assert.equal(info.getName(), "stock-deploy-guardrails");
        assert.equal(info.getVersion(), "0.1.0");
        assert.equal(info.getSupportsconfig(), true);
        const listed = info.getPoliciesList().map((p: any) => [p.getName(), p.getEnforcementlevel()]);
        assert.deepEqual(
            listed,
            policies.map((p) => [p.name, pb.EnforcementLevel.MANDATORY]),
        );
        const registry = info.getPoliciesList().find((p: any) => p.getName() === "image-from-allowed-registry");
        assert.deepEqual(registry.getConfigschema().getProperties().toJavaScript().allowedRegistries.default, [
            "harbor.feng.local:9800/library/",
        ]);
    });

    it("reports a :latest Docker Hub image in a Deployment as mandatory violations, and passes a pinned Harbor one", async () => {
        const deployment = (image: string) => ({
            apiVersion: "apps/v1",
            kind: "Deployment",
            metadata: { name: "web", namespace: "client-a" },
            spec: {
                template: {
                    spec: {
                        securityContext: { runAsNonRoot: true, runAsUser: 1000 },
                        containers: [{ name: "web", image, resources: { limits: { cpu: "1", memory: "1Gi" } } }],
                    },
                },
            },
        });
        const bad = diagnostics(
            await call(client, "analyze", analyzeRequest("kubernetes:apps/v1:Deployment", "web", deployment("nginx:latest"))),
        );
        assert.deepEqual(
            bad.map((d) => [d.policy, d.level]),
            [
                ["image-tag-pinned", pb.EnforcementLevel.MANDATORY],
                ["image-from-allowed-registry", pb.EnforcementLevel.MANDATORY],
            ],
            stderr,
        );
        assert.match(bad[0].message, /Deployment client-a\/web: container "web" image "nginx:latest" uses the mutable tag :latest/);
        const good = diagnostics(
            await call(
                client,
                "analyze",
                analyzeRequest("kubernetes:apps/v1:Deployment", "web", deployment("harbor.feng.local:9800/library/web:ctx-1")),
            ),
        );
        assert.deepEqual(good, []);
    });

    it("applies --policy-pack-config (Configure): another allowed registry", async () => {
        const req = new pb.ConfigureAnalyzerRequest();
        const cfg = new pb.PolicyConfig();
        cfg.setEnforcementlevel(pb.EnforcementLevel.MANDATORY);
        cfg.setProperties(Struct.fromJavaScript({ allowedRegistries: ["docker.io/library/"], exemptNamespaces: [] }));
        req.getPolicyconfigMap().set("image-from-allowed-registry", cfg);
        await call(client, "configure", req);
        const svc = {
            apiVersion: "apps/v1",
            kind: "Deployment",
            metadata: { name: "web", namespace: "client-a" },
            spec: {
                template: {
                    spec: {
                        securityContext: { runAsNonRoot: true },
                        containers: [{ name: "web", image: "nginx:1.27", resources: { limits: { cpu: "1", memory: "1Gi" } } }],
                    },
                },
            },
        };
        assert.deepEqual(diagnostics(await call(client, "analyze", analyzeRequest("kubernetes:apps/v1:Deployment", "web", svc))), []);
    });

    it("reports the stack policies: a tenant namespace without default-deny, a password from PULUMI_CONFIG in a ConfigMap", async () => {
        const req = new pb.AnalyzeStackRequest();
        const ns = stackResource("kubernetes:core/v1:Namespace", "client-a-namespace", {
            metadata: { name: "client-a", labels: { "stock-deploy/tenant": "client-a" } },
        });
        req.setResourcesList([
            ns,
            stackResource("kubernetes:core/v1:ConfigMap", "client-a-env", {
                metadata: { name: "env", namespace: "client-a" },
                data: { URL: `mysql://u:${DB_PASSWORD}@db/x` },
            }),
            stackResource("kubernetes:core/v1:Secret", "client-a-secret", {
                metadata: { name: "s", namespace: "client-a" },
                type: "Opaque",
                stringData: { P: DB_PASSWORD },
            }),
        ]);
        const found = diagnostics(await call(client, "analyzeStack", req));
        assert.deepEqual(
            found.map((d) => [d.policy, d.urn]),
            [
                ["tenant-namespace-default-deny", ns.getUrn()],
                ["secret-config-not-in-plaintext", "urn:pulumi:client-a::stock::kubernetes:core/v1:ConfigMap::client-a-env"],
            ],
            stderr,
        );
        assert.match(found[1].message, /stock:dbPassword appears in ConfigMap client-a\/env .* at data\.URL/);
        assert.ok(!found[1].message.includes(DB_PASSWORD));
    });
});
