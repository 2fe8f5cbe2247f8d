// The policy redis-image-patched (policy/rules/redis-image-patched.ts): a Redis server image older than
// the release that fixed CVE-2025-49844, CVE-2025-46818 and CVE-2025-62507 is refused, naming each CVE
// it still carries; the image the shared stack deploys passes.
import * as assert from "node:assert/strict";
import {
    REDIS_MIN_PATCHED_VERSION,
    checkRedisImagePatched,
    isRedisServerImage,
    policies,
    redisImagePatched,
    redisVersionOfTag,
} from "../../policy/policies";
import { reveal, runProgram } from "../../tools/lib/mock-run";
import { loadStackConfig } from "../../tools/lib/stack-files";
import { InputResource, analyze, explain } from "./support";

const STATEFUL_SET = "kubernetes:apps/v1:StatefulSet";

/** The Redis master StatefulSet with the given containers (what the check reads of it). */
function statefulSet(containers: Array<{ name: string; image: string }>): InputResource {
    return {
        type: STATEFUL_SET,
        name: "redis-master",
        urn: `urn:pulumi:shared::stock::${STATEFUL_SET}::redis-master`,
        props: {
            apiVersion: "apps/v1",
            kind: "StatefulSet",
            metadata: { name: "redis-master", namespace: "redis" },
            spec: { template: { spec: { containers } } },
        },
    };
}
const one = (image: string) => statefulSet([{ name: "redis", image }]);

async function violations(resources: InputResource[]): Promise<string[]> {
    const result = await analyze(resources, { policies: [redisImagePatched] });
    assert.deepEqual(result.advisory, [], explain(result.advisory));
    return result.mandatory.map((d) => d.message);
}

describe("policy: redis-image-patched", () => {
    it("is part of the pack, mandatory", () => {
        assert.ok(policies.includes(redisImagePatched));
        assert.equal(redisImagePatched.enforcementLevel, "mandatory");
        assert.equal(REDIS_MIN_PATCHED_VERSION, "8.2.3");
    });

    it("refuses the frozen Bitnami legacy image 8.2.1, naming the three CVEs and the fix", async () => {
        const [message, ...rest] = await violations([one("docker.io/bitnamilegacy/redis:8.2.1-debian-12-r0")]);
        assert.deepEqual(rest, []);
        assert.match(message, /^StatefulSet redis\/redis-master: container "redis" runs Redis 8\.2\.1 .*older than 8\.2\.3: /);
        for (const cve of ["CVE-2025-49844", "CVE-2025-46818", "CVE-2025-62507"]) assert.match(message, new RegExp(cve));
        assert.match(message, /Fix: set stock:redis imageTag/);
    });

    it("names only the CVEs a release still carries: 8.2.2 has only the XACKDEL one", async () => {
        const [message] = await violations([one("redis:8.2.2-bookworm")]);
        assert.match(message, /CVE-2025-62507/);
        assert.doesNotMatch(message, /CVE-2025-49844|CVE-2025-46818/);
    });

    it("refuses Debian 12's 7.0.15 and an older major, passes 8.2.3, 8.2.10 and later lines", async () => {
        assert.equal((await violations([one("redis:7.0.15"), one("redis:6.2.0-alpine")])).length, 2);
        assert.deepEqual(
            await violations([
                one("redis:8.2.3"),
                one("docker.io/library/redis:8.2.10-bookworm@sha256:" + "a".repeat(64)),
                one("redis:8.4.0-alpine"),
                one("redis:9.0.0"),
            ]),
            [],
        );
    });

    it("refuses a tag that names no exact release (floating, latest, digest only): its version cannot be shown", async () => {
        for (const image of ["redis:8.2", "redis:bookworm", "redis", "redis@sha256:" + "b".repeat(64)]) {
            const [message] = await violations([one(image)]);
            assert.match(message ?? "", /names no exact release/, image);
        }
    });

    it("judges only Redis server images, and every container of the pod (the acl-reload sidecar too)", async () => {
        assert.equal(isRedisServerImage("docker.io/bitnami/redis-exporter:1.76.0"), false);
        assert.equal(isRedisServerImage("harbor.feng.local:9800/mirror/redis:8.2.10"), true);
        assert.deepEqual(
            await violations([
                statefulSet([
                    { name: "metrics", image: "bitnami/redis-exporter:1.0.0" },
                    { name: "web", image: "nginx:1.27" },
                ]),
            ]),
            [],
        );
        const both = checkRedisImagePatched(
            statefulSet([
                { name: "redis", image: "redis:8.2.10" },
                { name: "acl-reload", image: "redis:8.2.1" },
            ]),
        );
        assert.deepEqual(
            both.map((m) => m.split(" runs ")[0]),
            ['StatefulSet redis/redis-master: container "acl-reload"'],
        );
        assert.deepEqual(redisVersionOfTag("v7.0.15"), [7, 0, 15]);
        assert.equal(redisVersionOfTag("8.2"), undefined);
    });

    it("over the shared stack: the deployed image passes; stock:redis set back to the legacy image is refused for both containers", async () => {
        const podOf = async (overrides: Record<string, unknown>) => {
            const run = await runProgram("shared", { preview: false, overrides });
            const values = reveal(run.one("kubernetes:helm.sh/v4:Chart").inputs.values);
            // The images as the chart renders them (common.images.image: registry/repository:tag).
            return statefulSet([
                { name: "redis", image: `${values.image.registry}/${values.image.repository}:${values.image.tag}` },
                ...values.master.sidecars,
            ]);
        };
        assert.deepEqual(await violations([await podOf({})]), []);
        const shared = loadStackConfig("shared");
        assert.ok(shared.role === "shared");
        const redis = { ...shared.redis, imageRepository: "bitnamilegacy/redis", imageTag: "8.2.1-debian-12-r0" };
        const refused = await violations([await podOf({ "stock:redis": redis })]);
        assert.equal(refused.length, 2, refused.join("\n"));
        assert.ok(refused.every((m) => /runs Redis 8\.2\.1 .*CVE-2025-49844/.test(m)));
    });
});
