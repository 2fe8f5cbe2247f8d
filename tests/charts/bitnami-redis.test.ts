/**
 * The real Bitnami Redis chart (bitnami/charts at the tag of stock:redis.chartVersion, with the common
 * chart its Chart.lock pins, from a local mirror: tests/support/bitnami-chart.ts) rendered with the
 * values the shared stack computes: our ACL file, the acl-reload sidecar, the password wiring and the
 * patched official image hold in the objects the chart writes, and the chart runs the image only the
 * way SECURITY.md says we verified (its own start and health scripts, non-root, read-only root fs).
 *
 * Without the mirror (CI has none) the suite skips with a message; the values are then checked only
 * against what tests/program/shared.test.ts asserts.
 */
import { strict as assert } from "node:assert";
import { REDIS_ACL_DIR, REDIS_ACL_FILE, REDIS_ACL_SECRET, REDIS_AUTH_SECRET, REDIS_AUTH_SECRET_KEY, REDIS_CLIENT_LABEL, aclReloadScript } from "../../components/redis/values";
import { HelmError, K8sObject, helmTemplate } from "../../tools/lib/helm";
import { reveal, runProgram } from "../../tools/lib/mock-run";
import { loadStackConfig } from "../../tools/lib/stack-files";
import { bitnamiRedisChart } from "../support/bitnami-chart";

describe("the Bitnami Redis chart's real source rendered with the shared stack's values", function () {
    this.timeout(60000);
    let objects: K8sObject[];
    let values: Record<string, any>;
    let chartDir: string;
    let image: string;
    const byKind = (kind: string, name?: string) => objects.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));

    before(async function () {
        const shared = loadStackConfig("shared");
        assert.ok(shared.role === "shared");
        const chart = bitnamiRedisChart(shared.redis.chartVersion);
        if ("missing" in chart) {
            console.warn(`    [skipped: ${chart.missing}; fetch github.com/bitnami/charts as a bare mirror to run it]`);
            this.skip();
        }
        chartDir = chart.dir;
        const run = await runProgram("shared", { preview: false });
        const release = run.one("kubernetes:helm.sh/v4:Chart").inputs;
        values = reveal(release.values);
        image = `docker.io/${shared.redis.imageRepository}:${shared.redis.imageTag}@${shared.redis.imageDigest}`;
        objects = await helmTemplate(chartDir, values, { releaseName: release.name, namespace: release.namespace });
    });

    const master = () => {
        const [sts] = byKind("StatefulSet", "redis-master");
        assert.ok(sts, `no StatefulSet redis-master in ${objects.map((o) => `${o.kind}/${o.metadata.name}`).join(" ")}`);
        return sts;
    };
    const container = (name: string) => master().spec.template.spec.containers.find((c: K8sObject) => c.name === name);

    it("renders one standalone master and no replica, sentinel, metrics or permission-fixing containers", () => {
        assert.deepEqual(byKind("StatefulSet").map((s) => s.metadata.name), ["redis-master"]);
        assert.deepEqual(master().spec.template.spec.containers.map((c: K8sObject) => c.name), ["redis", "acl-reload"]);
        assert.deepEqual(master().spec.template.spec.initContainers ?? [], []);
    });

    it("runs the patched official image, pinned by tag and digest, in both containers", () => {
        assert.equal(container("redis").image, image);
        assert.equal(container("acl-reload").image, image);
        assert.match(image, /^docker\.io\/library\/redis:8\.2\.10-bookworm@sha256:[0-9a-f]{64}$/);
    });

    it("starts Redis with its password from the redis-auth Secret and our ACL file from the redis-acl Secret", () => {
        const redis = container("redis");
        assert.deepEqual(redis.command, ["/bin/bash"]);
        assert.deepEqual(redis.args, ["-ec", "/opt/bitnami/scripts/start-scripts/start-master.sh"]);
        const env = Object.fromEntries(redis.env.map((e: K8sObject) => [e.name, e.value]));
        assert.equal(env.REDIS_PASSWORD_FILE, "/opt/bitnami/redis/secrets/redis-password");
        const volumes = Object.fromEntries(master().spec.template.spec.volumes.map((v: K8sObject) => [v.name, v]));
        assert.deepEqual(volumes["redis-password"].secret.items, [{ key: REDIS_AUTH_SECRET_KEY, path: "redis-password" }]);
        assert.equal(volumes["redis-password"].secret.secretName, REDIS_AUTH_SECRET);
        assert.equal(volumes.acl.secret.secretName, REDIS_ACL_SECRET);
        const mounts = (c: K8sObject) => Object.fromEntries(c.volumeMounts.map((m: K8sObject) => [m.mountPath, m]));
        assert.deepEqual(mounts(redis)[REDIS_ACL_DIR], { name: "acl", mountPath: REDIS_ACL_DIR, readOnly: true });
        assert.equal(mounts(redis)["/opt/bitnami/redis/secrets/"].name, "redis-password");

        const scripts = byKind("ConfigMap", "redis-scripts")[0].data["start-master.sh"] as string;
        assert.match(scripts, /export REDIS_PASSWORD="\$\(< "\$\{REDIS_PASSWORD_FILE\}"\)"/);
        assert.match(scripts, /ARGS\+=\("--requirepass" "\$\{REDIS_PASSWORD\}"\)/);
        assert.match(scripts, new RegExp(`ARGS\\+=\\("--aclfile"\\)\\s+ARGS\\+=\\("${REDIS_ACL_DIR}/${REDIS_ACL_FILE}"\\)`));
        assert.match(scripts, /exec redis-server "\$\{ARGS\[@\]\}"/);
        // The chart's own ACL rendering (whose lookup writes nopass) is off: its users.acl is empty.
        assert.doesNotMatch(JSON.stringify(byKind("ConfigMap")), /nopass/);
        assert.doesNotMatch(byKind("ConfigMap", "redis-configuration")[0].data["redis.conf"], /aclfile/);
    });

    it("runs the acl-reload sidecar's script with the default password from the Secret and the ACL file read-only", () => {
        const sidecar = container("acl-reload");
        assert.deepEqual(sidecar.command, ["/bin/bash", "-c", aclReloadScript()]);
        assert.deepEqual(sidecar.env.find((e: K8sObject) => e.name === "REDIS_PASSWORD").valueFrom, { secretKeyRef: { name: REDIS_AUTH_SECRET, key: REDIS_AUTH_SECRET_KEY } });
        assert.deepEqual(sidecar.volumeMounts, [{ name: "acl", mountPath: REDIS_ACL_DIR, readOnly: true }]);
        assert.equal(sidecar.securityContext.readOnlyRootFilesystem, true);
    });

    it("runs as the chart's non-root user on a read-only root fs, with writable emptyDirs where the start script copies and a volume for /data", () => {
        const redis = container("redis");
        assert.equal(redis.securityContext.runAsUser, 1001);
        assert.equal(redis.securityContext.runAsNonRoot, true);
        assert.equal(redis.securityContext.readOnlyRootFilesystem, true);
        assert.equal(master().spec.template.spec.securityContext.fsGroup, 1001, "the official image's /data belongs to uid 999: fsGroup makes the volume writable for 1001");
        const mounts = Object.fromEntries(redis.volumeMounts.map((m: K8sObject) => [m.mountPath, m.name]));
        const volumes = Object.fromEntries(master().spec.template.spec.volumes.map((v: K8sObject) => [v.name, v]));
        for (const dir of ["/opt/bitnami/redis/etc/", "/tmp"]) assert.ok(volumes[mounts[dir]]?.emptyDir, `${dir} is an emptyDir`);
        assert.equal(mounts["/data"], "redis-data");
        assert.deepEqual(master().spec.volumeClaimTemplates.map((p: K8sObject) => [p.metadata.name, p.spec.resources.requests.storage]), [["redis-data", "8Gi"]]);
        assert.match(byKind("ConfigMap", "redis-configuration")[0].data["master.conf"], /^dir \/data$/m);
    });

    it("probes with the chart's health scripts: bash, timeout and redis-cli, as the default user", () => {
        const redis = container("redis");
        assert.deepEqual(redis.livenessProbe.exec.command.slice(0, 2), ["/bin/bash", "-ec"]);
        const health = byKind("ConfigMap", "redis-health")[0].data as Record<string, string>;
        for (const script of ["ping_liveness_local.sh", "ping_readiness_local.sh"]) {
            assert.match(health[script], /REDISCLI_AUTH="\$REDIS_PASSWORD"/);
            assert.match(health[script], /timeout -s 15 \$1 \\\s+redis-cli/);
        }
    });

    it("admits only namespaces labelled as Redis clients, on the Redis port", () => {
        const [policy] = byKind("NetworkPolicy");
        const peers = policy.spec.ingress.flatMap((r: K8sObject) => r.from ?? []);
        assert.ok(peers.some((p: K8sObject) => p.namespaceSelector?.matchLabels?.[REDIS_CLIENT_LABEL] === "true"), JSON.stringify(peers));
        assert.ok(!policy.spec.ingress.some((r: K8sObject) => r.from === undefined), "no rule open to every namespace");
    });

    it("refuses the non-Bitnami image unless global.security.allowInsecureImages is set (the only thing that flag gates)", async () => {
        const gated = { ...values, global: { security: { allowInsecureImages: false } } };
        await assert.rejects(helmTemplate(chartDir, gated, { releaseName: "redis", namespace: "redis" }), (e: HelmError) => /Original containers have been substituted for unrecognized ones/i.test(e.message) || /allowInsecureImages/.test(e.message));
    });
});
