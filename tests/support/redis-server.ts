/**
 * Test support: start/stop a real (Debian) redis-server on a free loopback port (or on a fixed
 * port of a loopback address of its own, for an app that hard-codes 6379) with a given ACL
 * file, and run redis-cli against it. The binaries, the prerequisites check, the free port and the
 * process tracking (so that after() can always clean up, even when a test failed half way) are the
 * ones of ./real-servers.
 *
 * Nothing here touches the network beyond 127.0.0.1, and every wait is bounded.
 */
import { execFile, execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { delay, freePort, ManagedProcess, REDIS_CLI, REDIS_SERVER, SKIP_ENV, startProcess } from "./real-servers";

/** Where `.ci/build-redis8` installs Redis 8 built from Debian sid's source package. */
export const REDIS8_DIR = process.env.STOCK_REDIS8_DIR ?? "/opt/stock-deploy/redis8";

/** One redis-server build the real-server tests run on. */
export interface RedisBuild {
    /** Short name for test titles, e.g. "redis 7.0.15 (Debian 12)". */
    name: string;
    server: string;
    cli: string;
    /** How to get it when it is missing. */
    install: string;
}

/**
 * Every server the Redis tests run on: Debian 12's own package, and Redis 8 from Debian sid's
 * source package (the major version the shared stack deploys). A missing build fails its suites
 * (naming the command that provides it) unless STOCK_SKIP_REAL_SERVERS=1.
 */
export const REDIS_BUILDS: readonly RedisBuild[] = [
    { name: "Debian 12 redis-server", server: REDIS_SERVER, cli: REDIS_CLI, install: "apt-get install -y redis-server redis-tools" },
    {
        name: "Redis 8 (Debian sid source)",
        server: path.join(REDIS8_DIR, "bin", "redis-server"),
        cli: path.join(REDIS8_DIR, "bin", "redis-cli"),
        install: ".ci/build-redis8",
    },
];

/** Call from a `before` hook of a suite that runs on `build`: fails (or skips with SKIP_ENV=1) when it is missing. */
export function requireRedisBuild(ctx: Mocha.Context, build: RedisBuild): void {
    const missing = [build.server, build.cli].filter((f) => !fs.existsSync(f));
    if (missing.length === 0) return;
    const why = `${build.name} is missing (${missing.join(", ")}); run: ${build.install}`;
    if (process.env[SKIP_ENV] === "1") {
        console.warn(`    [skipped: ${SKIP_ENV}=1 and ${why}]`);
        ctx.skip();
    }
    throw new Error(`the Redis tests run on every server of REDIS_BUILDS: ${why} (or set ${SKIP_ENV}=1 to skip these tests)`);
}

const LOOPBACK = "127.0.0.1";

/** One round trip of a raw RESP command; resolves with the first reply line. */
function probe(host: string, port: number, timeoutMs: number): Promise<string> {
    return new Promise((resolve, reject) => {
        const sock = net.createConnection({ host, port });
        const timer = setTimeout(() => {
            sock.destroy();
            reject(new Error("probe timeout"));
        }, timeoutMs);
        let buf = "";
        sock.on("connect", () => sock.write("PING\r\n"));
        sock.on("data", (d) => {
            buf += d.toString("utf8");
            if (buf.includes("\r\n")) {
                clearTimeout(timer);
                sock.destroy();
                resolve(buf.split("\r\n")[0]);
            }
        });
        sock.on("error", (e) => {
            clearTimeout(timer);
            sock.destroy();
            reject(e);
        });
    });
}

export interface RedisServer {
    host: string;
    port: number;
    /** The redis-cli of the same build. */
    cli: string;
    /** `redis_version` of the running server, e.g. "8.0.6". */
    version: string;
    dir: string;
    /** Path of the users.acl the server loaded (`ACL LOAD` re-reads it). */
    aclFile: string;
    process: ManagedProcess;
    /** redis-server's own log so far. */
    log(): string;
    stop(): Promise<void>;
}

export interface StartRedisOptions {
    /**
     * The users.acl file, written byte for byte as given (e.g. the one the
     * shared stack puts into its `redis-acl` Secret).
     */
    usersAcl: string;
    extraArgs?: string[];
    startTimeoutMs?: number;
    /** The server build (default: Debian 12's). */
    build?: RedisBuild;
}

async function startOnce(host: string, port: number, opts: StartRedisOptions): Promise<RedisServer> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "stock-redis-"));
    const aclFile = path.join(dir, "users.acl");
    const logFile = path.join(dir, "redis.log");
    // The ACL file holds (fake) passwords in clear: keep it private.
    fs.writeFileSync(aclFile, opts.usersAcl, { mode: 0o600 });
    const args = [
        "--port",
        String(port),
        "--bind",
        host,
        "--protected-mode",
        "yes",
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        dir,
        "--aclfile",
        aclFile,
        "--logfile",
        logFile,
        "--daemonize",
        "no",
        "--enable-debug-command",
        "no",
        ...(opts.extraArgs ?? []),
    ];
    const build = opts.build ?? REDIS_BUILDS[0];
    const proc = startProcess("redis-server", build.server, args);
    const readLog = (): string => {
        try {
            return fs.readFileSync(logFile, "utf8");
        } catch {
            return "";
        }
    };
    const cleanupDir = (): void => fs.rmSync(dir, { recursive: true, force: true });
    const server: RedisServer = {
        host,
        port,
        cli: build.cli,
        version: /v=(\S+)/.exec(execFileSync(build.server, ["--version"], { encoding: "utf8" }))?.[1] ?? "unknown",
        dir,
        aclFile,
        process: proc,
        log: readLog,
        stop: async () => {
            await proc.stop(3000);
            cleanupDir();
        },
    };
    const deadline = Date.now() + (opts.startTimeoutMs ?? 5000);
    for (;;) {
        if (proc.hasExited) {
            const why = `${proc.log}\n${readLog()}`.trim();
            await proc.stop();
            cleanupDir();
            throw new Error(`redis-server exited during start-up on port ${port}: ${why}`);
        }
        try {
            const reply = await probe(host, port, 500);
            // "-NOAUTH ..." is the expected answer: no anonymous access.
            if (reply.startsWith("-NOAUTH") || reply.startsWith("+PONG")) return server;
        } catch {
            /* not listening yet */
        }
        if (Date.now() > deadline) {
            const why = `${proc.log}\n${readLog()}`.trim();
            await server.stop();
            throw new Error(`redis-server did not answer on ${host}:${port} within the start timeout: ${why}`);
        }
        await delay(50);
    }
}

/** Start redis-server on a free loopback port with the given ACL users. */
export async function startRedisServer(opts: StartRedisOptions): Promise<RedisServer> {
    let lastError: unknown;
    // A free port can be taken between picking and binding: retry a few times.
    for (let attempt = 0; attempt < 3; attempt++) {
        const port = await freePort(LOOPBACK);
        try {
            return await startOnce(LOOPBACK, port, opts);
        } catch (e) {
            lastError = e;
            if (!/Address already in use/i.test(String(e))) throw e;
        }
    }
    throw lastError;
}

/** A random address of 127.0.0.0/8 other than 127.0.0.1 (Linux answers the whole block on lo). */
export function randomLoopbackAddress(): string {
    const octet = () => 1 + Math.floor(Math.random() * 254);
    return `127.${octet()}.${octet()}.${octet()}`;
}

/**
 * Start redis-server on a fixed port (an app that hard-codes 6379) on an address of its own in
 * 127.0.0.0/8, so tests and other programs using that port on 127.0.0.1 never collide.
 */
export async function startRedisServerOnPort(port: number, opts: StartRedisOptions): Promise<RedisServer> {
    let lastError: unknown;
    for (let attempt = 0; attempt < 3; attempt++) {
        try {
            return await startOnce(randomLoopbackAddress(), port, opts);
        } catch (e) {
            lastError = e;
            if (!/Address already in use|Cannot assign requested address/i.test(String(e))) throw e;
        }
    }
    throw lastError;
}

export interface CliAuth {
    user?: string;
    password?: string;
}

/**
 * Run one command with redis-cli as `auth` (or unauthenticated when null) and
 * return stdout+stderr. The password goes through REDISCLI_AUTH, not argv.
 * redis-cli exits 0 on error replies, so callers look at the text.
 */
export function redisCli(
    server: { host: string; port: number; cli?: string },
    auth: CliAuth | null,
    args: string[],
    timeoutMs = 5000,
): Promise<string> {
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: os.tmpdir() };
    const cliArgs = ["-h", server.host, "-p", String(server.port), "--no-auth-warning"];
    if (auth?.user) cliArgs.push("--user", auth.user);
    if (auth?.password !== undefined) env.REDISCLI_AUTH = auth.password;
    cliArgs.push(...args);
    return new Promise((resolve, reject) => {
        const cli = server.cli ?? REDIS_CLI;
        execFile(cli, cliArgs, { env, timeout: timeoutMs, encoding: "utf8" }, (err, stdout, stderr) => {
            const text = `${stdout ?? ""}${stderr ?? ""}`.trim();
            if (err && (err as { killed?: boolean }).killed) {
                reject(new Error(`redis-cli ${args.join(" ")} timed out after ${timeoutMs} ms: ${text}`));
            } else if (err && (err as NodeJS.ErrnoException).code === "ENOENT") {
                reject(new Error(`${cli} not found (Debian package redis-tools)`));
            } else {
                resolve(text);
            }
        });
    });
}
