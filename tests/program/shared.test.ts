import * as assert from "assert";
import { ProgramRun, UNKNOWN, reveal, runProgram, unwrapSecret } from "../support/program-harness";

describe("shared stack under mocks", () => {
    let run: ProgramRun;
    before(async () => { run = await runProgram("shared", { preview: false }); });

    it("creates namespace redis, the auth secrets and one Bitnami release, all children of SharedRedis", () => {
        const parent = run.one("stock:index:SharedRedis", "redis");
        const children = run.resources.filter((r) => r.parent === parent.urn).map((r) => `${r.type} ${r.name}`).sort();
        assert.deepStrictEqual(children, [
            "kubernetes:core/v1:Namespace redis-namespace",
            "kubernetes:core/v1:Secret redis-acl-users",
            "kubernetes:core/v1:Secret redis-auth",
            "kubernetes:helm.sh/v4:Chart redis-release",
            "random:index/randomPassword:RandomPassword redis-client-a-password",
            "random:index/randomPassword:RandomPassword redis-client-b-password",
            "random:index/randomPassword:RandomPassword redis-default-password",
        ]);
        assert.strictEqual(run.one("kubernetes:core/v1:Namespace").inputs.metadata.name, "redis");
    });

    it("installs the pinned chart with the legacy image, existing-secret auth, noeviction and tenant-only network access", () => {
        const chart = run.one("kubernetes:helm.sh/v4:Chart").inputs;
        assert.strictEqual(chart.chart, "oci://registry-1.docker.io/bitnamicharts/redis");
        assert.match(chart.version, /^\d+\.\d+\.\d+$/);
        assert.strictEqual(chart.namespace, "redis");
        assert.strictEqual(chart.name, "redis");
        const v = chart.values;
        assert.strictEqual(v.architecture, "standalone");
        assert.deepStrictEqual(v.image, { registry: "docker.io", repository: "bitnamilegacy/redis", tag: "8.2.1-debian-12-r0" });
        assert.strictEqual(v.global.security.allowInsecureImages, true);
        assert.strictEqual(v.auth.existingSecret, "redis-auth");
        assert.strictEqual(v.auth.existingSecretPasswordKey, "redis-password");
        assert.match(v.commonConfiguration, /^maxmemory-policy noeviction$/m);
        assert.deepStrictEqual(v.master.persistence, { enabled: true, size: "8Gi", storageClass: "" });
        assert.strictEqual(v.master.resources.limits.memory, "1Gi");
        assert.strictEqual(v.networkPolicy.allowExternal, false);
        assert.deepStrictEqual(v.networkPolicy.ingressNSMatchLabels, { "stock-deploy/redis-client": "true" });
        assert.ok(!JSON.stringify(v).includes("FAKE-SECRET"), "no password in chart values");
    });

    it("keeps every chart value known at preview", async () => {
        const preview = await runProgram("shared");
        const values = JSON.stringify(preview.one("kubernetes:helm.sh/v4:Chart").inputs.values);
        assert.ok(!values.includes("__pulumiUnknown") && !values.includes(UNKNOWN), values);
    });

    it("stores one generated password per tenant in the ACL users secret", () => {
        const users = run.one("kubernetes:core/v1:Secret", "redis-acl-users").inputs;
        assert.ok(unwrapSecret(users.stringData).secret);
        const data = reveal(users.stringData);
        assert.deepStrictEqual(Object.keys(data).sort(), ["client-a", "client-b"]);
        assert.strictEqual(data["client-a"], "FAKE-SECRET-random-redis-client-a-password-shared");
    });

    it("exports the master host, port, tenants and one secret credential per tenant", () => {
        assert.strictEqual(run.outputs.redisHost, "redis-master.redis.svc.cluster.local");
        assert.strictEqual(run.outputs.redisPort, 6379);
        assert.deepStrictEqual(run.outputs.tenants, ["client-a", "client-b"]);
        assert.deepStrictEqual(run.outputs["redisCredential-client-a"], { username: "client-a", password: "FAKE-SECRET-random-redis-client-a-password-shared", keyPrefix: "client-a:" });
        assert.deepStrictEqual(run.secretOutputs.sort(), ["redisCredential-client-a", "redisCredential-client-b"]);
    });
});
