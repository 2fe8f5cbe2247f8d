/**
 * Per-tenant isolation on the shared Redis (one Bitnami Redis installed by the
 * `shared` stack, used as Celery broker/result store by every tenant).
 *
 * Pure functions only: no Pulumi resources, no I/O. The shared stack renders
 * its ACL file with `aclFileLines()` (components/redis/values.ts, Secret
 * `redis-acl`, loaded by Redis with `--aclfile`; the chart's own `auth.acl`
 * is not used, see SECURITY.md), hands each tenant `tenantRedisAccess()`
 * (username, key prefix), and the app settings use `kombuTransportOptions()`.
 *
 * Model: every tenant is its own Redis ACL user named after the tenant, and
 * may only touch keys and pub/sub channels that start with "<tenant>:".
 * Because a tenant name is a DNS-1123 label it cannot contain ":", so no
 * tenant's prefix is a prefix of another tenant's prefix ("client-a:" never
 * matches "client-ab:x").
 *
 * Checked against Debian 12's redis-server 7.0.15 and Redis 8.0 (every command of both: tests/security/redis-command-table.test.ts), python3-celery 5.2.6,
 * python3-kombu 5.2.4 and python3-redis 4.3.4 (tests/security/).
 */

import { isDnsLabel } from "../config";
import { RedisCredential } from "./credential";

/** Everything a tenant needs to reach its own slice of the shared Redis. */
export interface TenantRedisAccess extends Omit<RedisCredential, "password"> {
    /** The tenant, e.g. `client-a`. */
    tenant: string;
    /**
     * Full ACL rule (keys, channels, commands) for the tenant's Redis user, e.g.
     * "~client-a:* &client-a:* &client-a:/0.celery.pidbox &client-a:/0.celeryev/worker.* +@all -@dangerous -scan ..."
     */
    aclRule: string;
}

/**
 * The Redis logical database every tenant must use (broker URL ".../0").
 * kombu puts the db number into its fanout channel names ("/0.celery.pidbox"),
 * and those channel names are pinned in the ACL rule below.
 */
export const TENANT_REDIS_DB = 0;

/**
 * Usernames a tenant may not take. `default` is the chart's admin user (used
 * by the Bitnami probes and replication); it is never handed to a tenant.
 */
export const RESERVED_REDIS_USERS: readonly string[] = ["default"];

/**
 * Commands removed from tenants on top of `-@dangerous` (KEYS, FLUSHALL,
 * FLUSHDB, CONFIG, ACL LIST/SETUSER, INFO, CLIENT LIST/KILL, MONITOR, SLOWLOG,
 * DEBUG, SHUTDOWN, SWAPDB, ... are all in @dangerous). Redis 7.0 does not
 * filter these by key/channel permissions, so they would let one tenant see or
 * disturb what other tenants do. Neither Celery 5.2 nor kombu 5.2 uses them.
 */
export const TENANT_DENIED_COMMANDS: readonly string[] = [
    "-scan", // SCAN returns every key name in the db, whatever the ~pattern
    "-randomkey", // returns another tenant's key name
    "-dbsize", // key count of all tenants
    "-pubsub", // PUBSUB CHANNELS/NUMSUB list other tenants' channels
    "-memory", // MEMORY STATS/DOCTOR describe the whole server
    "-function", // functions are server-global: FUNCTION FLUSH/DELETE/KILL
    "-script|flush", // would drop every tenant's cached scripts
    "-script|kill", // would kill another tenant's running script
    // CLIENT TRACKING in BCAST mode sends the caller an invalidation for every key any client
    // writes, whatever its key permissions (fixed upstream only in redis/redis#15371): it would
    // leak every other tenant's key names. Celery and kombu never enable tracking.
    "-client|tracking",
    // Streams: XACKDEL (Redis 8.2) carries CVE-2025-62507, and no tenant needs a stream
    // command at all (kombu's Redis transport uses lists, hashes, sorted sets and pub/sub).
    // A category, not `-xackdel`, because Redis refuses a rule naming a command it does not
    // have, and the 7.0/8.0 servers the tests also run predate XACKDEL.
    "-@stream",
    "-script|exists", // probes other tenants' cached scripts (redis-py loads with SCRIPT LOAD)
    "-script|debug", // SYNC mode blocks the whole server while one tenant debugs
    "-cluster", // GETKEYSINSLOT/COUNTKEYSINSLOT ignore key permissions in cluster mode
];

function describe(value: unknown): string {
    if (typeof value === "string") return JSON.stringify(value);
    return value === null ? "null" : typeof value;
}

/** Throws unless `tenant` can be a Kubernetes namespace and a Redis user. */
export function validateTenantName(tenant: unknown): asserts tenant is string {
    if (typeof tenant !== "string") {
        throw new Error(`redis-acl: tenant name must be a string, got ${describe(tenant)}`);
    }
    if (!isDnsLabel(tenant)) {
        throw new Error(
            `redis-acl: tenant ${JSON.stringify(tenant)} is not a DNS-1123 label ` +
                `(lowercase a-z, 0-9 and '-', starting and ending alphanumeric, at most 63 characters)`,
        );
    }
    if (RESERVED_REDIS_USERS.includes(tenant)) {
        throw new Error(
            `redis-acl: tenant ${JSON.stringify(tenant)} is reserved: the Redis user "default" ` +
                `belongs to the chart (probes, replication) and is never given to a tenant`,
        );
    }
}

function validateTenantList(tenants: unknown): asserts tenants is string[] {
    if (!Array.isArray(tenants)) {
        throw new Error(`redis-acl: tenants must be an array of tenant names, got ${describe(tenants)}`);
    }
    const seen = new Set<string>();
    for (const tenant of tenants) {
        validateTenantName(tenant);
        if (seen.has(tenant)) {
            throw new Error(`redis-acl: tenant ${JSON.stringify(tenant)} is listed more than once`);
        }
        seen.add(tenant);
    }
}

function keyPatterns(prefix: string): string[] {
    return [`~${prefix}*`];
}

function channelPatterns(prefix: string): string[] {
    const fanout = `${prefix}/${TENANT_REDIS_DB}.`;
    return [
        `&${prefix}*`,
        // kombu subscribes to fanout exchanges with PSUBSCRIBE, and Redis checks a
        // PSUBSCRIBE pattern literally (it must equal an allowed pattern), so the
        // exact patterns kombu uses are listed. Both stay inside the prefix.
        `&${fanout}celery.pidbox`, // worker remote control (celery inspect/control)
        `&${fanout}celeryev/worker.*`, // worker gossip (on unless --without-gossip)
    ];
}

function commandRules(): string[] {
    return ["+@all", "-@dangerous", ...TENANT_DENIED_COMMANDS];
}

/** The Redis user, key prefix and ACL rule for one tenant. */
export function tenantRedisAccess(tenant: string): TenantRedisAccess {
    validateTenantName(tenant);
    const keyPrefix = `${tenant}:`;
    return {
        tenant,
        username: tenant,
        keyPrefix,
        aclRule: [...keyPatterns(keyPrefix), ...channelPatterns(keyPrefix), ...commandRules()].join(" "),
    };
}

/**
 * kombu (5.2) broker transport options the tenant's Django/Celery settings
 * must use (`CELERY_BROKER_TRANSPORT_OPTIONS`). kombu 5.2 applies
 * `global_keyprefix` to most commands but not to WATCH (and the unacked
 * restore path), so the three unacked keys are given already prefixed;
 * without them a worker cannot restore unacknowledged messages (NOPERM on
 * WATCH "unacked") and those messages are stranded.
 */
export function kombuTransportOptions(tenant: string): Record<string, string> {
    const { keyPrefix } = tenantRedisAccess(tenant);
    return {
        global_keyprefix: keyPrefix,
        unacked_key: `${keyPrefix}unacked`,
        unacked_index_key: `${keyPrefix}unacked_index`,
        unacked_mutex_key: `${keyPrefix}unacked_mutex`,
    };
}

/** A password the ACL file format can carry after ">" (no whitespace). */
function checkPassword(owner: string, password: unknown): string {
    if (typeof password !== "string" || password.length === 0) {
        throw new Error(`redis-acl: missing Redis password for ${owner}`);
    }
    // Never echo the password itself in an error. Control characters are what this looks for.
    // eslint-disable-next-line no-control-regex
    if (/[\s\x00-\x1f\x7f]/.test(password)) {
        throw new Error(
            `redis-acl: the Redis password for ${owner} contains whitespace or control characters, ` + `which a users.acl line cannot hold`,
        );
    }
    return password;
}

function passwordTokens(owner: string, value: unknown): string[] {
    const list = Array.isArray(value) ? value : [value];
    if (list.length === 0) throw new Error(`redis-acl: missing Redis password for ${owner}`);
    return list.map((p) => `>${checkPassword(owner, p)}`);
}

/**
 * The lines of the ACL file the shared stack deploys (`--aclfile`):
 * `user default on >PWD ~* &* +@all`, then `user client-a on >PWD ~client-a:* ...`
 * per tenant. Every user gets at least one `>` password; never `nopass`.
 *
 * A tenant's entry in `passwords` may also be a list: a Redis ACL user may
 * hold several passwords at once, any of which authenticates (used for
 * a rotation overlap, see SECURITY.md). The output contains the passwords
 * in clear text: keep it in a Secret (as the shared stack does) or a private
 * (0600) file, never in Helm values or logs.
 */
export function aclFileLines(tenants: string[], passwords: Record<string, string | readonly string[]>, defaultPassword: string): string[] {
    validateTenantList(tenants);
    if (passwords === null || typeof passwords !== "object") {
        throw new Error(`redis-acl: passwords must be an object keyed by tenant, got ${describe(passwords)}`);
    }
    const lines = [`user default on ${passwordTokens('the "default" user', defaultPassword).join(" ")} ~* &* +@all`];
    for (const tenant of tenants) {
        const value = Object.prototype.hasOwnProperty.call(passwords, tenant) ? passwords[tenant] : undefined;
        const tokens = passwordTokens(`tenant ${JSON.stringify(tenant)}`, value);
        const access = tenantRedisAccess(tenant);
        lines.push(`user ${access.username} on ${tokens.join(" ")} ${access.aclRule}`);
    }
    return lines;
}
