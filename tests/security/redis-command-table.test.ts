/**
 * Every command of the real server, classified: instead of a list of probes, read the command table
 * (`COMMAND INFO`, `COMMAND DOCS`) of the redis-server the test starts, loaded with the ACL file the
 * shared stack deploys, and decide for every command and subcommand what a tenant's rule allows
 * (`ACL DRYRUN`, which applies the user's rule to a command line without running it):
 *
 * - a command with keys (key specs or movable keys) that a tenant may run must be refused on
 *   another tenant's keys (and allowed on its own, which proves the command line is well formed);
 * - a pub/sub command must be refused on another tenant's channels;
 * - a keyless command a tenant may run must be one that acts on its own connection only or reveals
 *   nothing about other tenants (CONNECTION_ONLY below, each with the reason);
 * - anything else a tenant may run fails the test with the command's name: a command a new server
 *   version adds (Redis 8 added HGETDEL, HSETEX, XACKDEL, ...) cannot slip through unclassified.
 *
 * Runs on every server of REDIS_BUILDS (Debian 12's 7.0.15 and Redis 8 built from Debian's
 * source), so the expectations are those of the command table of the server that runs.
 */
import { strict as assert } from "node:assert";
import { tenantRedisAccess } from "../../components/redis/acl";
import { REDIS_ACL_FILE, REDIS_ACL_SECRET, REDIS_AUTH_SECRET, REDIS_AUTH_SECRET_KEY } from "../../components/redis/values";
import { reveal, runProgram } from "../../tools/lib/mock-run";
import { requireRealServers, waitUntil } from "../support/real-servers";
import { REDIS_BUILDS, RedisServer, requireRedisBuild, startRedisServer } from "../support/redis-server";
import { RespConnection, RespError, RespValue, text } from "../support/resp";

const ME = "client-a";
const OTHER = "client-b";
const OWN_KEY = `${tenantRedisAccess(ME).keyPrefix}k`;
const OTHER_KEY = `${tenantRedisAccess(OTHER).keyPrefix}k`;

/**
 * Keyless commands a tenant may run, and why that is safe with other tenants on the same server.
 * A name here that the server does not have is fine (it belongs to another version).
 */
export const CONNECTION_ONLY: Record<string, string> = {
    auth: "logs this connection in",
    hello: "protocol and login of this connection",
    quit: "closes this connection",
    reset: "resets this connection",
    select: "switches this connection's db; key permissions apply in every db",
    ping: "answers the caller",
    echo: "answers the caller",
    time: "the server clock",
    lolwut: "prints the server version",
    multi: "transaction of this connection",
    exec: "runs this connection's transaction; each queued command was checked when queued",
    discard: "transaction of this connection",
    unwatch: "this connection's WATCHes",
    readonly: "cluster read flag of this connection",
    readwrite: "cluster read flag of this connection",
    asking: "cluster redirect flag of this connection",
    unsubscribe: "this connection's subscriptions",
    punsubscribe: "this connection's subscriptions",
    sunsubscribe: "this connection's subscriptions",
    "client|id": "this connection",
    "client|info": "this connection only (CLIENT LIST, for all, is refused)",
    "client|getname": "this connection",
    "client|setname": "this connection",
    "client|setinfo": "this connection",
    "client|reply": "this connection",
    "client|no-touch": "this connection",
    "client|caching": "this connection; tracking itself (CLIENT TRACKING) is refused",
    "client|getredir": "this connection's tracking target (tracking is refused)",
    "client|trackinginfo": "this connection's tracking state (tracking is refused)",
    "client|help": "help text",
    "command|count": "the command table",
    "command|docs": "the command table",
    "command|getkeys": "parses the caller's own command line",
    "command|getkeysandflags": "parses the caller's own command line",
    "command|help": "help text",
    "command|info": "the command table",
    "command|list": "the command table",
    "acl|whoami": "the caller's own user",
    "acl|cat": "the list of ACL categories",
    "acl|genpass": "random bytes",
    "acl|help": "help text",
    "config|help": "help text",
    "latency|help": "help text",
    "module|help": "help text",
    "object|help": "help text",
    "slowlog|help": "help text",
    "script|help": "help text",
    wait: "waits for the caller's own writes to reach the replicas; tells only the replica count",
    waitaof: "waits for the caller's own writes to be fsynced; tells only the replica count",
    "script|load": "adds to the script cache; a script runs with the caller's own permissions",
};

/** Pub/sub commands: allowed on the tenant's own channels only. */
const CHANNEL_COMMANDS = new Set(["publish", "subscribe", "psubscribe", "spublish", "ssubscribe"]);

/**
 * Keyless commands that reveal or affect other tenants: a tenant's rule must refuse them on every
 * server that has them (the holes closed so far, and what a careless rule would let through).
 */
export const MUST_REFUSE: Record<string, string> = {
    keys: "every key name",
    scan: "every key name, whatever the key pattern",
    randomkey: "another tenant's key name",
    dbsize: "the key count of all tenants",
    flushall: "deletes every tenant's keys",
    flushdb: "deletes every tenant's keys",
    swapdb: "swaps every tenant's keys",
    monitor: "every command of every client",
    "client|list": "every client, with its user and last command",
    "client|kill": "closes other tenants' connections",
    "client|tracking": "BCAST tracking sends every key name any client writes (redis/redis#15371)",
    "client|pause": "stops every client",
    "pubsub|channels": "other tenants' channel names",
    "pubsub|numsub": "other tenants' subscriptions",
    "pubsub|shardchannels": "other tenants' channel names",
    info: "server state, every client's and db's counts",
    "config|get": "server configuration",
    "config|set": "server configuration",
    "acl|list": "every user and rule",
    "acl|setuser": "self-escalation",
    "acl|log": "other tenants' denied commands",
    "memory|stats": "server memory",
    "memory|doctor": "server memory",
    "slowlog|get": "other tenants' slow commands with arguments",
    "latency|latest": "server latency",
    debug: "server internals",
    shutdown: "stops the server",
    "script|flush": "drops every tenant's cached scripts",
    "script|kill": "kills another tenant's running script",
    "script|exists": "probes other tenants' cached scripts",
    "script|debug": "SYNC mode blocks the whole server",
    "function|flush": "functions are server-wide",
    "function|load": "functions are server-wide",
    "function|list": "other tenants' functions",
    "cluster|getkeysinslot": "key names of a slot, whatever the key pattern",
    "cluster|countkeysinslot": "key counts of all tenants",
    xackdel: "CVE-2025-62507 (streams are refused: -@stream)",
};

interface Command {
    name: string;
    arity: number;
    flags: string[];
    categories: string[];
    hasKeys: boolean;
    docs: Map<string, RespValue> | undefined;
}

type Arg = Map<string, RespValue>;
const argList = (v: RespValue | undefined): Arg[] => (Array.isArray(v) ? (v as Arg[]) : []);
const flagsOf = (a: Arg): string[] => (Array.isArray(a.get("flags")) ? (a.get("flags") as string[]) : []);
const containsKey = (a: Arg): boolean => a.get("type") === "key" || argList(a.get("arguments")).some(containsKey);

/**
 * The shortest command line COMMAND DOCS allows, with `key` wherever a key (or a string) goes:
 * optional arguments only when they hold a key (so `EVAL script 1 key`), each `multiple` once,
 * the first alternative of a `oneof`.
 */
function commandLine(docs: Map<string, RespValue> | undefined, key: string): string[] {
    const build = (a: Arg): string[] => {
        const token = typeof a.get("token") === "string" ? [a.get("token") as string] : [];
        switch (a.get("type")) {
            case "pure-token":
                return token;
            case "integer":
            case "double":
            case "unix-time":
                return [...token, "1"];
            case "block":
                return [...token, ...argList(a.get("arguments")).flatMap(include)];
            case "oneof": {
                const options = argList(a.get("arguments"));
                return [...token, ...build(options.find(containsKey) ?? options[0])];
            }
            default:
                return [...token, key]; // key, string, pattern
        }
    };
    const include = (a: Arg): string[] => (flagsOf(a).includes("optional") && !containsKey(a) ? [] : build(a));
    return argList(docs?.get("arguments")).flatMap(include);
}

/** Command lines COMMAND DOCS cannot give (a literal a pattern must equal). */
const COMMAND_LINES: Record<string, (key: string) => string[]> = {
    // A PSUBSCRIBE pattern must equal an allowed channel pattern literally.
    psubscribe: (key) => [`${key.slice(0, key.indexOf(":") + 1)}*`],
};

function invocation(c: Command, key: string): string[] {
    const line = [...c.name.split("|"), ...(COMMAND_LINES[c.name]?.(key) ?? commandLine(c.docs, key))];
    // Commands without argument docs (module commands such as Redis 8's vector sets): the key
    // where the key spec puts it, then as many arguments as the arity asks for.
    const nameWords = c.name.split("|").length;
    while (line.length < Math.abs(c.arity) || (c.hasKeys && line.length === nameWords)) line.push(key);
    return line;
}

async function commandTable(admin: RespConnection): Promise<Command[]> {
    const info = (await admin.ok("COMMAND", "INFO")) as RespValue[][];
    const docs = (await admin.ok("COMMAND", "DOCS")) as Map<string, Map<string, RespValue>>;
    const leaves: Command[] = [];
    const visit = (entry: RespValue[], parentDocs: Map<string, RespValue> | undefined) => {
        const name = text(entry[0]).toLowerCase();
        const ownDocs = parentDocs
            ? (parentDocs.get("subcommands") as Map<string, Map<string, RespValue>> | undefined)?.get(name)
            : docs.get(name);
        const subcommands = (entry[9] as RespValue[][] | undefined) ?? [];
        if (subcommands.length > 0) {
            subcommands.forEach((s) => visit(s, ownDocs));
            return;
        }
        const flags = (entry[2] as string[]).map(String);
        leaves.push({
            name,
            arity: Number(entry[1]),
            flags,
            categories: (entry[6] as string[]).map(String),
            // Sharded pub/sub declares its channels as key specs flagged not_key.
            hasKeys:
                (entry[8] as Map<string, RespValue>[]).some((spec) => !(spec.get("flags") as string[]).includes("not_key")) ||
                flags.includes("movablekeys"),
            docs: ownDocs,
        });
    };
    info.forEach((e) => visit(e, undefined));
    return leaves.sort((a, b) => a.name.localeCompare(b.name));
}

const refusedToRun = (reply: RespValue) => /no permissions to run the '([^']+)' command/.test(text(reply));

for (const build of REDIS_BUILDS) {
    describe(`shared Redis: every command of the server, classified for tenants (${build.name})`, function () {
        this.timeout(60_000);
        let server: RedisServer;
        let admin: RespConnection;
        let table: Command[];
        const dryRun = (user: string, line: string[]) => admin.call("ACL", "DRYRUN", user, ...line);

        before(async function () {
            requireRealServers(this, { modules: [], redis: true });
            requireRedisBuild(this, build);
            const run = await runProgram("shared", { preview: false });
            const secret = (name: string) =>
                reveal(run.ofType("kubernetes:core/v1:Secret").find((s) => s.inputs.metadata.name === name)!.inputs.stringData);
            const password = secret(REDIS_AUTH_SECRET)[REDIS_AUTH_SECRET_KEY];
            server = await startRedisServer({
                usersAcl: secret(REDIS_ACL_SECRET)[REDIS_ACL_FILE],
                extraArgs: ["--requirepass", password],
                build,
            });
            admin = await RespConnection.connect(server.host, server.port);
            await admin.ok("HELLO", "3", "AUTH", "default", password);
            table = await commandTable(admin);
        });

        after(async () => {
            admin?.close();
            await server?.stop();
        });

        it("reads the whole command table of the running server", () => {
            assert.ok(table.length > 200, `only ${table.length} commands in COMMAND INFO`);
            for (const name of ["get", "set", "eval", "client|tracking", "acl|dryrun"])
                assert.ok(
                    table.some((c) => c.name === name),
                    name,
                );
        });

        it("refuses every command a tenant may run on another tenant's keys and channels; every other allowed command is classified", async () => {
            const problems: string[] = [];
            let allowed = 0,
                keyed = 0,
                channels = 0,
                connection = 0,
                refused = 0;
            for (const c of table) {
                const own = invocation(c, OWN_KEY);
                const reply = await dryRun(ME, own);
                if (refusedToRun(reply)) {
                    refused++;
                    continue;
                }
                if (reply !== "OK") {
                    problems.push(
                        `${c.name}: cannot build a valid command line (${own.join(" ")} -> ${text(reply)}); add it to COMMAND_LINES`,
                    );
                    continue;
                }
                allowed++;
                if (c.hasKeys || CHANNEL_COMMANDS.has(c.name)) {
                    if (c.hasKeys) {
                        const keys = await admin.call("COMMAND", "GETKEYS", ...own);
                        if (!Array.isArray(keys) || keys.length === 0 || keys.some((k) => k !== OWN_KEY)) {
                            problems.push(
                                `${c.name}: the command line ${own.join(" ")} does not name the key (${text(keys)}); add it to COMMAND_LINES`,
                            );
                            continue;
                        }
                        keyed++;
                    } else channels++;
                    const other = await dryRun(ME, invocation(c, OTHER_KEY));
                    if (
                        !new RegExp(`no permissions to access the '${tenantRedisAccess(OTHER).keyPrefix}[^']*' (key|channel)`).test(
                            text(other),
                        )
                    ) {
                        problems.push(`${c.name}: ${ME} may run it on ${OTHER}'s ${c.hasKeys ? "key" : "channel"} (${text(other)})`);
                    }
                } else if (c.name in CONNECTION_ONLY) {
                    connection++;
                } else {
                    problems.push(
                        `${c.name} [${c.categories.join(" ")}]: keyless, allowed for tenants and not classified: refuse it in the rule (components/redis/acl.ts) or add it to CONNECTION_ONLY with the reason it reveals and affects no other tenant`,
                    );
                }
            }
            assert.deepEqual(problems, []);
            assert.equal(allowed + refused, table.length);
            assert.equal(keyed + channels + connection, allowed);
            console.log(
                `      redis ${server.version}: ${table.length} commands, ${refused} refused to tenants, ${keyed} with keys and ${channels} pub/sub refused on other tenants, ${connection} connection-only`,
            );
        });

        it("refuses every command that reveals or affects other tenants (those this server has)", async () => {
            const present = Object.keys(MUST_REFUSE).filter((name) => table.some((c) => c.name === name));
            assert.ok(
                present.length >= Object.keys(MUST_REFUSE).length - 4,
                `most of MUST_REFUSE exist on ${server.version}: ${present.join(" ")}`,
            );
            const allowedNames: string[] = [];
            for (const name of present) {
                const c = table.find((x) => x.name === name)!;
                if (!refusedToRun(await dryRun(ME, invocation(c, OWN_KEY)))) allowedNames.push(`${name} (${MUST_REFUSE[name]})`);
            }
            assert.deepEqual(allowedNames, []);
        });

        it("the classification is not vacuous: the default user may run what tenants may not", async () => {
            for (const name of ["keys", "client|tracking", "info"]) {
                const c = table.find((x) => x.name === name)!;
                assert.equal(await dryRun("default", invocation(c, OWN_KEY)), "OK", name);
            }
            assert.equal(await dryRun(ME, ["get", OWN_KEY]), "OK");
            assert.match(text(await dryRun(ME, ["get", OTHER_KEY])), /no permissions to access/);
        });

        it("a command Redis runs for real agrees with ACL DRYRUN (client tracking, a stream command)", async () => {
            const tenant = await RespConnection.connect(server.host, server.port);
            try {
                const run = await runProgram("shared", { preview: false });
                const credential = reveal(run.outputs[`redisCredential-${ME}`]);
                await tenant.ok("HELLO", "3", "AUTH", ME, credential.password);
                const tracking = await tenant.call("CLIENT", "TRACKING", "on", "BCAST");
                assert.ok(tracking instanceof RespError && /NOPERM/.test(tracking.message), `CLIENT TRACKING answered ${text(tracking)}`);
                const xadd = await tenant.call("XADD", OWN_KEY, "*", "f", "v");
                assert.ok(xadd instanceof RespError && /NOPERM/.test(xadd.message), `XADD answered ${text(xadd)}`);
            } finally {
                tenant.close();
            }
        });

        it("control: a rule without -client|tracking leaks another tenant's key names through BCAST invalidations", async () => {
            const run = await runProgram("shared", { preview: false });
            const rule = tenantRedisAccess(ME)
                .aclRule.split(" ")
                .filter((w) => w !== "-client|tracking");
            await admin.ok("ACL", "SETUSER", "leaky", "on", ">fake-leaky-password", ...rule);
            const [leaky, writer] = await Promise.all([
                RespConnection.connect(server.host, server.port),
                RespConnection.connect(server.host, server.port),
            ]);
            try {
                await leaky.ok("HELLO", "3", "AUTH", "leaky", "fake-leaky-password");
                assert.equal(await leaky.ok("CLIENT", "TRACKING", "on", "BCAST"), "OK");
                await writer.ok("AUTH", OTHER, reveal(run.outputs[`redisCredential-${OTHER}`]).password);
                await writer.ok("SET", `${OTHER_KEY}-private-name`, "1");
                await waitUntil(
                    "the leaky user to receive client-b's key name",
                    async () => {
                        await leaky.ok("PING"); // a round trip: pushes sent before it have arrived
                        return JSON.stringify(leaky.pushes).includes(`${OTHER_KEY}-private-name`);
                    },
                    { timeoutMs: 5000 },
                );
            } finally {
                leaky.close();
                writer.close();
                await admin.ok("ACL", "DELUSER", "leaky");
            }
        });
    });
}
