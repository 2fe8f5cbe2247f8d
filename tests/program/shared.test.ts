import * as assert from "assert";
import { redisPassword } from "../../components/redis/passwords";
import { ProgramRun, UNKNOWN, reveal, runProgram, unwrapSecret } from "../../tools/lib/mock-run";

const SEED = "FAKE-SECRET-redisPasswordSeed-shared";

describe("shared stack under mocks", () => {
    let run: ProgramRun;
    before(async () => {
        run = await runProgram("shared", { preview: false });
    });

    it("creates namespace redis, the auth secrets and one Bitnami release, all children of SharedRedis", () => {
        const parent = run.one("stock:index:SharedRedis", "redis");
        const children = run.resources
            .filter((r) => r.parent === parent.urn)
            .map((r) => `${r.type} ${r.name}`)
            .sort();
        assert.deepStrictEqual(children, [
            "kubernetes:core/v1:Namespace redis-namespace",
            "kubernetes:core/v1:Secret redis-acl",
            "kubernetes:core/v1:Secret redis-auth",
            "kubernetes:helm.sh/v4:Chart redis-release",
        ]);
        assert.strictEqual(run.one("kubernetes:core/v1:Namespace").inputs.metadata.name, "redis");
    });

    it("installs the pinned chart with the patched official image (tag and digest), existing-secret auth, noeviction and tenant-only network access", () => {
        const chart = run.one("kubernetes:helm.sh/v4:Chart").inputs;
        assert.strictEqual(chart.chart, "oci://registry-1.docker.io/bitnamicharts/redis");
        assert.match(chart.version, /^\d+\.\d+\.\d+$/);
        assert.strictEqual(chart.namespace, "redis");
        assert.strictEqual(chart.name, "redis");
        const v = chart.values;
        assert.strictEqual(v.architecture, "standalone");
        const pinned = "8.2.10-bookworm@sha256:164c759a0c342ee69d08fc99219382b0fd682181465c0df2e0e6911f4c85d73c";
        assert.deepStrictEqual(
            v.image,
            { registry: "docker.io", repository: "library/redis", tag: pinned },
            "the tag carries the digest: the chart's image.digest would drop the version",
        );
        assert.strictEqual(v.global.security.allowInsecureImages, true);
        assert.strictEqual(v.auth.existingSecret, "redis-auth");
        assert.strictEqual(v.auth.existingSecretPasswordKey, "redis-password");
        assert.deepStrictEqual(v.auth.acl, { enabled: false }, "the chart's lookup-based ACL rendering is not used");
        assert.deepStrictEqual(v.master.extraFlags, ["--aclfile", "/opt/bitnami/redis/acl/users.acl"]);
        assert.deepStrictEqual(v.master.extraVolumes, [{ name: "acl", secret: { secretName: "redis-acl" } }]);
        assert.deepStrictEqual(v.master.extraVolumeMounts, [{ name: "acl", mountPath: "/opt/bitnami/redis/acl", readOnly: true }]);
        assert.match(v.master.podAnnotations["checksum/default-password"], /^[0-9a-f]{16}$/);
        const [sidecar] = v.master.sidecars;
        assert.strictEqual(sidecar.name, "acl-reload");
        assert.strictEqual(sidecar.image, `docker.io/library/redis:${pinned}`, "the Redis image: it has redis-cli and bash");
        assert.deepStrictEqual(
            sidecar.env.find((e: { name: string }) => e.name === "REDIS_PASSWORD"),
            { name: "REDIS_PASSWORD", valueFrom: { secretKeyRef: { name: "redis-auth", key: "redis-password" } } },
        );
        assert.deepStrictEqual(sidecar.volumeMounts, [{ name: "acl", mountPath: "/opt/bitnami/redis/acl", readOnly: true }]);
        assert.match(sidecar.command[2], /ACL SETUSER/);
        assert.ok(
            sidecar.resources.limits.memory && sidecar.securityContext.runAsNonRoot && sidecar.securityContext.readOnlyRootFilesystem,
        );
        assert.strictEqual(v.replica.replicaCount, 0);
        assert.match(v.commonConfiguration, /^maxmemory-policy noeviction$/m);
        assert.match(
            v.commonConfiguration,
            new RegExp(`^maxmemory ${Math.floor(0.75 * 2 ** 30)}$`, "m"),
            "three quarters of the 1Gi limit",
        );
        assert.deepStrictEqual(v.master.persistence, { enabled: true, size: "8Gi", storageClass: "" });
        assert.strictEqual(v.master.resources.limits.memory, "1Gi");
        assert.strictEqual(v.networkPolicy.allowExternal, false);
        assert.deepStrictEqual(v.networkPolicy.ingressNSMatchLabels, { "stock-deploy/redis-client": "true" });
        for (const user of ["default", "client-a", "client-b"])
            assert.ok(!JSON.stringify(v).includes(redisPassword(SEED, user)), `no ${user} password in chart values`);
    });

    it("restarts Redis only when the default user's password rotates; tenant changes are applied live by the sidecar", async () => {
        const checksum = (r: ProgramRun) =>
            r.one("kubernetes:helm.sh/v4:Chart").inputs.values.master.podAnnotations["checksum/default-password"];
        const acl = (r: ProgramRun) => reveal(r.one("kubernetes:core/v1:Secret", "redis-acl").inputs.stringData)["users.acl"];
        const same = await runProgram("shared", { preview: false });
        const rotated = await runProgram("shared", { preview: false, overrides: { "stock:redisPasswordGenerations": { "client-a": 1 } } });
        const added = await runProgram("shared", {
            preview: false,
            overrides: { "stock:tenants": ["client-a", "client-b", "client-c", "client-d"] },
        });
        const rotatedDefault = await runProgram("shared", {
            preview: false,
            overrides: { "stock:redisPasswordGenerations": { default: 1 } },
        });
        assert.strictEqual(checksum(same), checksum(run));
        assert.strictEqual(checksum(rotated), checksum(run), "a tenant's rotation does not restart Redis");
        assert.strictEqual(checksum(added), checksum(run), "a new tenant does not restart Redis");
        assert.notStrictEqual(acl(rotated), acl(run), "but its ACL file changes, for the sidecar to apply");
        assert.notStrictEqual(
            checksum(rotatedDefault),
            checksum(run),
            "the default user's rotation restarts Redis (its probes read that password at start-up)",
        );
        assert.notStrictEqual(rotated.outputs["redisCredential-client-a"].password, run.outputs["redisCredential-client-a"].password);
        assert.strictEqual(rotated.outputs["redisCredential-client-b"].password, run.outputs["redisCredential-client-b"].password);
    });

    it("refuses a generation for a user that is neither default nor a tenant, and a missing or plaintext seed", async () => {
        await assert.rejects(
            runProgram("shared", { overrides: { "stock:redisPasswordGenerations": { "client-z": 1 } } }),
            /stock:redisPasswordGenerations .*client-z/,
        );
        await assert.rejects(
            runProgram("shared", { overrides: { "stock:redisPasswordSeed": undefined } }),
            /stock:redisPasswordSeed is required .*pulumi config set --secret stock:redisPasswordSeed -s shared/,
        );
        await assert.rejects(
            runProgram("shared", { overrides: { "stock:redisPasswordSeed": "x".repeat(40) } }),
            /stock:redisPasswordSeed is stored in plaintext/,
        );
    });

    it("keeps every chart value known at preview", async () => {
        const preview = await runProgram("shared");
        const values = JSON.stringify(preview.one("kubernetes:helm.sh/v4:Chart").inputs.values);
        assert.ok(!values.includes("__pulumiUnknown") && !values.includes(UNKNOWN), values);
    });

    it("writes the ACL file (default plus one user per tenant, each with its derived password) into a Secret", () => {
        const acl = run.one("kubernetes:core/v1:Secret", "redis-acl").inputs;
        assert.ok(unwrapSecret(acl.stringData).secret);
        const lines = reveal(acl.stringData)["users.acl"].trim().split("\n");
        assert.deepStrictEqual(
            lines.map((l: string) => l.split(" ").slice(0, 3).join(" ")),
            ["user default on", "user client-a on", "user client-b on", "user client-c on"],
        );
        assert.ok(lines[0].includes(`>${redisPassword(SEED, "default")}`));
        assert.ok(lines[1].includes(`>${redisPassword(SEED, "client-a")}`) && lines[1].includes("~client-a:*"));
        const auth = reveal(run.one("kubernetes:core/v1:Secret", "redis-auth").inputs.stringData);
        assert.deepStrictEqual(
            auth,
            { "redis-password": redisPassword(SEED, "default") },
            "the chart's requirepass matches the ACL file's default user",
        );
    });

    it("exports the master host, port, tenants and one secret credential per tenant", () => {
        assert.strictEqual(run.outputs.redisHost, "redis-master.redis.svc.cluster.local");
        assert.strictEqual(run.outputs.redisPort, 6379);
        assert.deepStrictEqual(run.outputs.tenants, ["client-a", "client-b", "client-c"]);
        assert.deepStrictEqual(run.outputs["redisCredential-client-a"], {
            username: "client-a",
            password: redisPassword(SEED, "client-a"),
            keyPrefix: "client-a:",
        });
        assert.ok(!JSON.stringify(run.outputs).includes(redisPassword(SEED, "default")), "the default user's password is never handed out");
        assert.deepStrictEqual(run.secretOutputs.sort(), [
            "redisCredential-client-a",
            "redisCredential-client-b",
            "redisCredential-client-c",
        ]);
    });
});
