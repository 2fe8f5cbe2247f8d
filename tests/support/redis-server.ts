/**
 * Test support: start/stop a real (Debian) redis-server on a free loopback
 * port with a given ACL file, run redis-cli against it, and keep track of
 * every child process so that after() can always clean up, even when a test
 * failed half way.
 *
 * Nothing here touches the network beyond 127.0.0.1, and every wait is bounded.
 */
import { ChildProcess, execFile, spawn, SpawnOptions } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";

export const REDIS_SERVER_BIN = process.env.STOCK_REDIS_SERVER_BIN ?? "/usr/bin/redis-server";
export const REDIS_CLI_BIN = process.env.STOCK_REDIS_CLI_BIN ?? "/usr/bin/redis-cli";
/** Debian's python3-* modules only load under the system interpreter. */
export const SYSTEM_PYTHON = process.env.STOCK_SYSTEM_PYTHON ?? "/usr/bin/python3";

/** Debian packages the real-server tests need. */
export const REAL_SERVER_PACKAGES = ["redis-server", "redis-tools", "python3-celery", "python3-kombu", "python3-redis"];

const LOOPBACK = "127.0.0.1";

// ---------------------------------------------------------------------------
// Child process bookkeeping

const tracked = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Last resort if mocha exits without running after() (e.g. process.exit):
  // kill every child we started, by its own pid/process group.
  process.on("exit", () => {
    for (const child of tracked) killTree(child, "SIGKILL");
  });
}

function killTree(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    // Children are spawned detached = leaders of their own process group, so
    // a negative pid reaches the child and anything it forked, and nothing else.
    process.kill(-child.pid, signal);
  } catch {
    try {
      child.kill(signal);
    } catch {
      /* already gone */
    }
  }
}

/** Spawn a process (own process group) that stopProcess()/stopAll() will reap. */
export function spawnTracked(command: string, args: string[], options: SpawnOptions = {}): ChildProcess {
  installExitHook();
  const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"], ...options, detached: true });
  tracked.add(child);
  child.once("exit", () => tracked.delete(child));
  child.once("error", () => tracked.delete(child));
  return child;
}

function waitForExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.off("exit", onExit);
      resolve(false);
    }, timeoutMs);
    const onExit = (): void => {
      clearTimeout(timer);
      resolve(true);
    };
    child.once("exit", onExit);
  });
}

/** Ask politely (SIGTERM by default), then SIGKILL after `graceMs`. Never throws. */
export async function stopProcess(
  child: ChildProcess | undefined,
  { signal = "SIGTERM" as NodeJS.Signals, graceMs = 3000 } = {},
): Promise<void> {
  if (!child) return;
  killTree(child, signal);
  if (!(await waitForExit(child, graceMs))) {
    killTree(child, "SIGKILL");
    await waitForExit(child, 2000);
  }
  tracked.delete(child);
}

/** Stop every process started through spawnTracked() that is still running. */
export async function stopAllTracked(graceMs = 3000): Promise<void> {
  await Promise.all([...tracked].map((c) => stopProcess(c, { graceMs })));
}

/** Collects a child's stdout+stderr (bounded) for error messages. */
export function captureOutput(child: ChildProcess, limit = 200_000): () => string {
  let out = "";
  const add = (chunk: Buffer): void => {
    if (out.length < limit) out += chunk.toString("utf8");
  };
  child.stdout?.on("data", add);
  child.stderr?.on("data", add);
  return () => out;
}

// ---------------------------------------------------------------------------
// Prerequisites

export interface Prereqs {
  ok: boolean;
  missing: string[];
  versions: Record<string, string>;
}

function run(cmd: string, args: string[], timeoutMs = 10_000): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: timeoutMs, encoding: "utf8" }, (err, stdout, stderr) => {
      const code = err ? ((err as NodeJS.ErrnoException & { code?: unknown }).code === "ENOENT" ? null : 1) : 0;
      resolve({ code, out: `${stdout ?? ""}${stderr ?? ""}` });
    });
  });
}

/** Checks the Debian binaries and Python modules the real-server tests need. */
export async function checkRealServerPrereqs(): Promise<Prereqs> {
  const missing: string[] = [];
  const versions: Record<string, string> = {};
  const server = await run(REDIS_SERVER_BIN, ["--version"]);
  if (server.code !== 0) missing.push(`${REDIS_SERVER_BIN} (Debian package redis-server)`);
  else versions["redis-server"] = (/v=(\S+)/.exec(server.out) ?? [])[1] ?? server.out.trim();
  const cli = await run(REDIS_CLI_BIN, ["--version"]);
  if (cli.code !== 0) missing.push(`${REDIS_CLI_BIN} (Debian package redis-tools)`);
  const py = await run(SYSTEM_PYTHON, [
    "-c",
    "import celery, kombu, redis; print(celery.__version__, kombu.__version__, redis.__version__)",
  ]);
  if (py.code !== 0) {
    missing.push(`${SYSTEM_PYTHON} with celery, kombu, redis (Debian packages python3-celery python3-kombu python3-redis)`);
  } else {
    const [celery, kombu, redis] = py.out.trim().split(/\s+/);
    Object.assign(versions, { celery, kombu, "redis-py": redis });
  }
  return { ok: missing.length === 0, missing, versions };
}

/**
 * In a mocha before(): skip the suite with a clear message if the tools are
 * missing and STOCK_SKIP_REAL_SERVERS=1, otherwise fail loudly.
 */
export async function requireRealServers(ctx: Mocha.Context): Promise<Prereqs> {
  const prereqs = await checkRealServerPrereqs();
  if (prereqs.ok) return prereqs;
  const what =
    `real-server tests need: ${prereqs.missing.join("; ")}. ` +
    `Install with: apt-get install -y ${REAL_SERVER_PACKAGES.join(" ")}`;
  if (process.env.STOCK_SKIP_REAL_SERVERS === "1") {
    console.warn(`    SKIPPED (STOCK_SKIP_REAL_SERVERS=1): ${what}`);
    ctx.skip();
  }
  throw new Error(`${what} (or set STOCK_SKIP_REAL_SERVERS=1 to skip them explicitly)`);
}

// ---------------------------------------------------------------------------
// redis-server

/** A port that was free on 127.0.0.1 a moment ago (the kernel picks it). */
export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.once("error", reject);
    srv.listen(0, LOOPBACK, () => {
      const addr = srv.address();
      srv.close(() => (addr && typeof addr === "object" ? resolve(addr.port) : reject(new Error("no port"))));
    });
  });
}

/** One round trip of a raw RESP command; resolves with the first reply line. */
function probe(port: number, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = net.createConnection({ host: LOOPBACK, port });
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
  dir: string;
  /** Path of the users.acl the server loaded (`ACL LOAD` re-reads it). */
  aclFile: string;
  process: ChildProcess;
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
}

async function startOnce(port: number, opts: StartRedisOptions): Promise<RedisServer> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "stock-redis-"));
  const aclFile = path.join(dir, "users.acl");
  const logFile = path.join(dir, "redis.log");
  // The ACL file holds (fake) passwords in clear: keep it private.
  fs.writeFileSync(aclFile, opts.usersAcl, { mode: 0o600 });
  const args = [
    "--port", String(port),
    "--bind", LOOPBACK,
    "--protected-mode", "yes",
    "--save", "",
    "--appendonly", "no",
    "--dir", dir,
    "--aclfile", aclFile,
    "--logfile", logFile,
    "--daemonize", "no",
    "--enable-debug-command", "no",
    ...(opts.extraArgs ?? []),
  ];
  const child = spawnTracked(REDIS_SERVER_BIN, args);
  const output = captureOutput(child);
  const readLog = (): string => {
    try {
      return fs.readFileSync(logFile, "utf8");
    } catch {
      return "";
    }
  };
  const cleanupDir = (): void => fs.rmSync(dir, { recursive: true, force: true });
  const server: RedisServer = {
    host: LOOPBACK,
    port,
    dir,
    aclFile,
    process: child,
    log: readLog,
    stop: async () => {
      await stopProcess(child, { graceMs: 3000 });
      cleanupDir();
    },
  };
  const deadline = Date.now() + (opts.startTimeoutMs ?? 5000);
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      const why = `${output()}\n${readLog()}`.trim();
      cleanupDir();
      throw new Error(`redis-server exited during start-up on port ${port}: ${why}`);
    }
    try {
      const reply = await probe(port, 500);
      // "-NOAUTH ..." is the expected answer: no anonymous access.
      if (reply.startsWith("-NOAUTH") || reply.startsWith("+PONG")) return server;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) {
      const why = `${output()}\n${readLog()}`.trim();
      await server.stop();
      throw new Error(`redis-server did not answer on ${LOOPBACK}:${port} within the start timeout: ${why}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Start redis-server on a free loopback port with the given ACL users. */
export async function startRedisServer(opts: StartRedisOptions): Promise<RedisServer> {
  let lastError: unknown;
  // A free port can be taken between picking and binding: retry a few times.
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freeLoopbackPort();
    try {
      return await startOnce(port, opts);
    } catch (e) {
      lastError = e;
      if (!/Address already in use/i.test(String(e))) throw e;
    }
  }
  throw lastError;
}

// ---------------------------------------------------------------------------
// redis-cli

export interface CliAuth {
  user?: string;
  password?: string;
}

/**
 * Run one command with redis-cli as `auth` (or unauthenticated when null) and
 * return stdout+stderr. The password goes through REDISCLI_AUTH, not argv.
 * redis-cli exits 0 on error replies, so callers look at the text.
 */
export function redisCli(server: { host: string; port: number }, auth: CliAuth | null, args: string[], timeoutMs = 5000): Promise<string> {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: os.tmpdir() };
  const cliArgs = ["-h", server.host, "-p", String(server.port), "--no-auth-warning"];
  if (auth?.user) cliArgs.push("--user", auth.user);
  if (auth?.password !== undefined) env.REDISCLI_AUTH = auth.password;
  cliArgs.push(...args);
  return new Promise((resolve, reject) => {
    execFile(REDIS_CLI_BIN, cliArgs, { env, timeout: timeoutMs, encoding: "utf8" }, (err, stdout, stderr) => {
      const text = `${stdout ?? ""}${stderr ?? ""}`.trim();
      if (err && (err as { killed?: boolean }).killed) {
        reject(new Error(`redis-cli ${args.join(" ")} timed out after ${timeoutMs} ms: ${text}`));
      } else if (err && (err as NodeJS.ErrnoException).code === "ENOENT") {
        reject(new Error(`${REDIS_CLI_BIN} not found (Debian package redis-tools)`));
      } else {
        resolve(text);
      }
    });
  });
}
