/** Unit tests of the pure functions in components/redis/acl.ts (no servers). */
import { strict as assert } from "node:assert";

import {
    aclFileLines,
    kombuTransportOptions,
    RESERVED_REDIS_USERS,
    TENANT_DENIED_COMMANDS,
    tenantRedisAccess,
    validateTenantName,
} from "../../components/redis/acl";

const FAKE = { "client-a": "fake-pw-a", "client-b": "fake-pw-b" };
const FAKE_DEFAULT = "fake-pw-default";

/** Redis-style glob (only '*' is used in our patterns) -> RegExp. */
function globToRegExp(glob: string): RegExp {
    return new RegExp(
        "^" +
            glob
                .split("*")
                .map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"))
                .join(".*") +
            "$",
    );
}

function tokens(rule: string, sigil: string): string[] {
    return rule
        .split(" ")
        .filter((t) => t.startsWith(sigil))
        .map((t) => t.slice(1));
}

describe("redis-acl: tenantRedisAccess", function () {
    it("returns the documented shape for client-a", function () {
        const a = tenantRedisAccess("client-a");
        assert.deepEqual(Object.keys(a).sort(), ["aclRule", "keyPrefix", "tenant", "username"]);
        assert.equal(a.tenant, "client-a");
        assert.equal(a.username, "client-a");
        assert.equal(a.keyPrefix, "client-a:");
        assert.equal(
            a.aclRule,
            "~client-a:* &client-a:* &client-a:/0.celery.pidbox &client-a:/0.celeryev/worker.* +@all -@dangerous " +
                TENANT_DENIED_COMMANDS.join(" "),
        );
    });

    it("grants keys and channels only under the tenant prefix, never everything", function () {
        for (const t of ["client-a", "b", "x-1-y"]) {
            const { aclRule, keyPrefix } = tenantRedisAccess(t);
            for (const p of [...tokens(aclRule, "~"), ...tokens(aclRule, "&")]) {
                assert.ok(p.startsWith(keyPrefix), `${p} outside ${keyPrefix}`);
            }
            for (const forbidden of ["allkeys", "allchannels", "~*", "&*", "%R~*", "nopass", "+@dangerous", "resetchannels"]) {
                assert.ok(!aclRule.split(" ").includes(forbidden), `${forbidden} in rule`);
            }
            // no passwords in the rule itself
            assert.ok(!/(^| )[>#<]/.test(aclRule));
            // +@all comes before the removals (ACL rules apply left to right)
            const words = aclRule.split(" ");
            assert.ok(words.indexOf("+@all") < words.indexOf("-@dangerous"));
            for (const d of TENANT_DENIED_COMMANDS) assert.ok(words.indexOf("+@all") < words.indexOf(d));
        }
    });

    it("no tenant's patterns match another tenant's keys, even when one name prefixes the other", function () {
        const names = ["client-a", "client-ab", "client", "a", "a-b", "client-a-2"];
        for (const me of names) {
            const patterns = tokens(tenantRedisAccess(me).aclRule, "~").concat(tokens(tenantRedisAccess(me).aclRule, "&"));
            for (const other of names.filter((n) => n !== me)) {
                for (const key of [`${other}:x`, `${other}:celery-task-meta-1`, `${other}:/0.celery.pidbox`, `${other}:price`]) {
                    for (const p of patterns) {
                        assert.ok(!globToRegExp(p).test(key), `${me}'s pattern ${p} matches ${other}'s ${key}`);
                    }
                }
            }
            assert.ok(globToRegExp(patterns[0]).test(`${me}:price`));
        }
    });

    it("rejects names that are not DNS-1123 labels, naming the tenant", function () {
        for (const bad of ["", "Client-A", "client_a", "-a", "a-", "a.b", "a:b", "a b", "a*", "é", "a".repeat(64), "client-a\n"]) {
            assert.throws(
                () => tenantRedisAccess(bad),
                (e: Error) => e.message.includes(JSON.stringify(bad)),
                bad,
            );
        }
        assert.doesNotThrow(() => tenantRedisAccess("a".repeat(63)));
        assert.throws(() => tenantRedisAccess(undefined as unknown as string), /must be a string/);
    });

    it("refuses the reserved `default` user as a tenant", function () {
        assert.deepEqual(RESERVED_REDIS_USERS, ["default"]);
        assert.throws(() => validateTenantName("default"), /"default" is reserved/);
    });
});

describe("redis-acl: kombuTransportOptions", function () {
    it("prefixes the global key prefix and the three unacked keys", function () {
        assert.deepEqual(kombuTransportOptions("client-a"), {
            global_keyprefix: "client-a:",
            unacked_key: "client-a:unacked",
            unacked_index_key: "client-a:unacked_index",
            unacked_mutex_key: "client-a:unacked_mutex",
        });
        assert.throws(() => kombuTransportOptions("Bad"), /"Bad"/);
    });
});

describe("redis-acl: aclFileLines", function () {
    it("renders the default user and one line per tenant", function () {
        assert.deepEqual(aclFileLines(["client-a", "client-b"], FAKE, FAKE_DEFAULT), [
            "user default on >fake-pw-default ~* &* +@all",
            `user client-a on >fake-pw-a ${tenantRedisAccess("client-a").aclRule}`,
            `user client-b on >fake-pw-b ${tenantRedisAccess("client-b").aclRule}`,
        ]);
    });

    it("allows several passwords per tenant (rotation overlap)", function () {
        const [, a] = aclFileLines(["client-a"], { "client-a": ["fake-old", "fake-new"] }, FAKE_DEFAULT);
        assert.ok(a.startsWith("user client-a on >fake-old >fake-new ~client-a:* "));
    });

    it("requires a password for every tenant and names the tenant", function () {
        assert.throws(() => aclFileLines(["client-a", "client-b"], { "client-a": "x" }, FAKE_DEFAULT), /tenant "client-b"/);
        assert.throws(() => aclFileLines(["client-a"], { "client-a": "" }, FAKE_DEFAULT), /tenant "client-a"/);
        assert.throws(() => aclFileLines(["client-a"], { "client-a": [] }, FAKE_DEFAULT), /tenant "client-a"/);
        assert.throws(() => aclFileLines(["toString"], {}, FAKE_DEFAULT), /tenant "toString"/);
        assert.throws(() => aclFileLines(["client-a"], FAKE, ""), /"default" user/);
    });

    it("rejects passwords a users.acl line cannot hold, without echoing them", function () {
        for (const bad of ["has space-SECRETVALUE", "tab\tSECRETVALUE", "nl\nSECRETVALUE"]) {
            assert.throws(
                () => aclFileLines(["client-a"], { "client-a": bad }, FAKE_DEFAULT),
                (e: Error) => e.message.includes('tenant "client-a"') && !e.message.includes("SECRETVALUE"),
            );
        }
        assert.throws(() => aclFileLines(["client-a"], FAKE, "with space"), /"default" user/);
    });

    it("validates the tenant list the same way", function () {
        assert.throws(() => aclFileLines(["client-a", "client-a"], FAKE, FAKE_DEFAULT), /listed more than once/);
        assert.throws(() => aclFileLines(["default"], { default: "x" }, FAKE_DEFAULT), /reserved/);
    });
});
