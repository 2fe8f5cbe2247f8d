/**
 * Everything the real-server tests (tests/app/*.test.ts, tests/security/redis-isolation.test.ts)
 * share, in one place:
 *
 * - the Debian prerequisites: where Debian's python3, redis-server and redis-cli are, which Debian
 *   package provides what, and `requireRealServers()`, the STOCK_SKIP_REAL_SERVERS logic (fail
 *   loudly naming the `apt-get install` line, or skip with that message when the variable is 1);
 * - child processes: spawn a process in its own process group, wait until it answers (a TCP port,
 *   an HTTP path, a file, a log line), and kill it and all its children reliably, from `after()`
 *   hooks, even when a test failed, and as a last resort when mocha itself exits;
 * - a free loopback port, a dead one (held, resetting every connection), and a plain HTTP client
 *   that may set any Host header.
 *
 *     before(function () { requireRealServers(this, { redis: true }); });
 *     const server = startProcess("gunicorn", PYTHON, ["-m", "gunicorn", ...], { cwd, env });
 *     after(() => stopAll());                       // or: after(() => server.stop())
 *     await waitForHttp(`http://127.0.0.1:${port}/healthz`, { process: server });
 *
 * Every failure message carries the tail of the process's stdout+stderr. Nothing here touches the
 * network beyond 127.0.0.1, and every wait is bounded.
 */
import { ChildProcess, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as net from "net";

// ---------------------------------------------------------------------------------------------
// Debian prerequisites
// ---------------------------------------------------------------------------------------------

/** Debian's interpreter: Debian's python3-* modules load only under it (the first python3 on PATH may be another). */
export const PYTHON = "/usr/bin/python3";
export const REDIS_SERVER = "/usr/bin/redis-server";
export const REDIS_CLI = "/usr/bin/redis-cli";
export const NGINX = "/usr/sbin/nginx";
export const CHROMIUM = "/usr/bin/chromium";
/** Makes the throwaway CAs and certificates of the TLS tests (tests/program/registry-private-ca.test.ts). */
export const OPENSSL = "/usr/bin/openssl";

/** Python module → the Debian package that ships it (what .ci/run must install). */
export const PYTHON_MODULES = {
    django: "python3-django",
    gunicorn: "gunicorn",
    celery: "python3-celery",
    kombu: "python3-kombu",
    redis: "python3-redis",
    whitenoise: "python3-whitenoise",
    pymysql: "python3-pymysql",
    django_celery_results: "python3-django-celery-results",
    corsheaders: "python3-django-cors-headers",
} as const;
export type PythonModule = keyof typeof PYTHON_MODULES;

/** The entry points the charts run by name (`celery ...`, `gunicorn ...`). */
export const CELERY = "/usr/bin/celery";
export const GUNICORN = "/usr/bin/gunicorn";

/** Binary → the Debian package that ships it. */
const REDIS_BINARIES: Record<string, string> = { [REDIS_SERVER]: "redis-server", [REDIS_CLI]: "redis-tools" };
const COMMAND_BINARIES: Record<string, string> = { [CELERY]: "celery", [GUNICORN]: "gunicorn" };
const BROWSER_BINARIES: Record<string, string> = { [NGINX]: "nginx-light", [CHROMIUM]: "chromium" };
export const MARIADB_SERVER = "/usr/sbin/mariadbd";
export const MARIADB_INSTALL_DB = "/usr/bin/mariadb-install-db";
export const MARIADB_CLIENT = "/usr/bin/mariadb";
const MYSQL_BINARIES: Record<string, string> = {
    [MARIADB_SERVER]: "mariadb-server-core",
    [MARIADB_INSTALL_DB]: "mariadb-server-core",
    [MARIADB_CLIENT]: "mariadb-client-core",
};

/** Set to 1 to skip (with a message) the suites whose Debian packages are missing, instead of failing. */
export const SKIP_ENV = "STOCK_SKIP_REAL_SERVERS";

export interface RealServerNeeds {
    /** The Python modules the suite imports under PYTHON; default: all of PYTHON_MODULES. */
    modules?: readonly PythonModule[];
    /** Whether the suite starts redis-server and runs redis-cli. */
    redis?: boolean;
    /** Whether the suite runs the `celery` and `gunicorn` commands by name, as the charts do. */
    commands?: boolean;
    /** Whether the suite starts nginx and Chromium (tests/e2e). */
    browser?: boolean;
    /** Whether the suite starts a MariaDB server standing for the external MySQL (tests/e2e). */
    mysql?: boolean;
    /** Whether the suite makes certificates with `openssl`. */
    openssl?: boolean;
}

/** Debian packages missing on this machine for a suite with `needs` (empty when all are there). */
export function missingDebianPackages(needs: RealServerNeeds = {}): string[] {
    const modules = needs.modules ?? (Object.keys(PYTHON_MODULES) as PythonModule[]);
    const missing = new Set<string>();
    if (!fs.existsSync(PYTHON)) {
        missing.add("python3");
        modules.forEach((m) => missing.add(PYTHON_MODULES[m]));
    } else if (modules.length > 0) {
        const probe = spawnSync(
            PYTHON,
            [
                "-c",
                ["import importlib.util, sys", "print(' '.join(m for m in sys.argv[1:] if importlib.util.find_spec(m) is None))"].join(
                    "\n",
                ),
                ...modules,
            ],
            { encoding: "utf8", env: { PATH: "/usr/bin:/bin" } },
        );
        if (probe.status !== 0) throw new Error(`${PYTHON} failed to run: ${probe.stderr}`);
        for (const mod of probe.stdout.trim().split(/\s+/).filter(Boolean)) missing.add(PYTHON_MODULES[mod as PythonModule]);
    }
    if (needs.redis) {
        for (const [bin, pkg] of Object.entries(REDIS_BINARIES)) if (!fs.existsSync(bin)) missing.add(pkg);
    }
    if (needs.commands) {
        for (const [bin, pkg] of Object.entries(COMMAND_BINARIES)) if (!fs.existsSync(bin)) missing.add(pkg);
    }
    if (needs.browser) {
        for (const [bin, pkg] of Object.entries(BROWSER_BINARIES)) if (!fs.existsSync(bin)) missing.add(pkg);
    }
    if (needs.mysql) {
        for (const [bin, pkg] of Object.entries(MYSQL_BINARIES)) if (!fs.existsSync(bin)) missing.add(pkg);
    }
    if (needs.openssl && !fs.existsSync(OPENSSL)) missing.add("openssl");
    return [...missing].sort();
}

/**
 * Call from a `before` hook: fails loudly when Debian's packages are missing, unless
 * STOCK_SKIP_REAL_SERVERS=1, in which case the suite is skipped with the reason.
 */
export function requireRealServers(ctx: Mocha.Context, needs: RealServerNeeds = {}): void {
    const missing = missingDebianPackages(needs);
    if (missing.length === 0) return;
    const install = `apt-get install -y ${missing.join(" ")}`;
    if (process.env[SKIP_ENV] === "1") {
        console.warn(`    [skipped: ${SKIP_ENV}=1 and missing Debian packages; run: ${install}]`);
        ctx.skip();
    }
    throw new Error(
        `the real-server tests need Debian packages that are missing: ${install} ` + `(or set ${SKIP_ENV}=1 to skip these tests)`,
    );
}

// ---------------------------------------------------------------------------------------------
// Free loopback port
// ---------------------------------------------------------------------------------------------

/**
 * A free TCP port on the loopback interface, chosen by the kernel (listen on port 0, read it, close).
 * Another process could take it between this call and its use; tests start their server right away,
 * and `startProcess` fails loudly (with the server's output) if the port was lost.
 */
export function freePort(host = "127.0.0.1"): Promise<number> {
    return new Promise((resolve, reject) => {
        const server = net.createServer();
        server.unref();
        server.once("error", reject);
        server.listen({ host, port: 0, exclusive: true }, () => {
            const address = server.address();
            if (address === null || typeof address === "string") {
                server.close();
                reject(new Error(`cannot read the port of ${String(address)}`));
                return;
            }
            server.close(() => resolve(address.port));
        });
    });
}

/** A loopback port held by this process that answers no request: see {@link deadPort}. */
export interface DeadPort {
    port: number;
    /** `127.0.0.1:<port>` */
    address: string;
    /** Connections accepted (and reset) so far: proof that a client really tried this port. */
    connections(): number;
    close(): Promise<void>;
}

/**
 * A dead upstream that nothing else can take: a listener this process owns that resets every
 * connection as soon as it is accepted (clients see ECONNRESET, nginx logs "Connection reset by
 * peer" and answers 502). A port freed with {@link freePort} and left closed would do the same
 * until another process on the machine binds it and answers 200, which a parallel test run does.
 */
export function deadPort(host = "127.0.0.1"): Promise<DeadPort> {
    let accepted = 0;
    const server = net.createServer((socket) => {
        accepted++;
        socket.on("error", () => undefined);
        socket.resetAndDestroy();
    });
    server.unref();
    return new Promise((resolve, reject) => {
        server.once("error", reject);
        server.listen({ host, port: 0, exclusive: true }, () => {
            const { port } = server.address() as net.AddressInfo;
            resolve({
                port,
                address: `${host}:${port}`,
                connections: () => accepted,
                close: () => new Promise<void>((done) => server.close(() => done())),
            });
        });
    });
}

// ---------------------------------------------------------------------------------------------
// Child processes
// ---------------------------------------------------------------------------------------------

const OUTPUT_LIMIT = 64 * 1024;
const running = new Set<ManagedProcess>();

export interface StartOptions {
    cwd?: string;
    /** The whole environment of the child (not merged with process.env unless you do it). */
    env?: NodeJS.ProcessEnv;
}

export class ManagedProcess {
    readonly child: ChildProcess;
    private output = "";
    private exitInfo: { code: number | null; signal: NodeJS.Signals | null } | null = null;
    private readonly exited: Promise<void>;

    constructor(
        readonly name: string,
        command: string,
        args: string[],
        options: StartOptions = {},
    ) {
        // detached: the child leads a new process group, so kill(-pid) reaches its children too
        // (gunicorn's workers, celery's pool).
        this.child = spawn(command, args, {
            cwd: options.cwd,
            env: options.env ?? process.env,
            detached: true,
            stdio: ["ignore", "pipe", "pipe"],
        });
        const keep = (chunk: Buffer) => {
            this.output += chunk.toString("utf8");
            if (this.output.length > OUTPUT_LIMIT) this.output = this.output.slice(-OUTPUT_LIMIT);
        };
        this.child.stdout?.on("data", keep);
        this.child.stderr?.on("data", keep);
        this.exited = new Promise((resolve) => {
            this.child.once("exit", (code, signal) => {
                this.exitInfo = { code, signal };
                resolve();
            });
            this.child.once("error", (err) => {
                this.output += `\n[spawn error] ${err.message}\n`;
                this.exitInfo = { code: null, signal: null };
                resolve();
            });
        });
        running.add(this);
    }

    get pid(): number | undefined {
        return this.child.pid;
    }

    get hasExited(): boolean {
        return this.exitInfo !== null;
    }

    /** The last lines of stdout+stderr, for failure messages. */
    tail(lines = 40): string {
        return this.output.split("\n").slice(-lines).join("\n");
    }

    /** Everything captured so far (the last 64 KiB). */
    get log(): string {
        return this.output;
    }

    describeExit(): string {
        if (!this.exitInfo) return `${this.name} is running`;
        return `${this.name} exited (code ${this.exitInfo.code}, signal ${this.exitInfo.signal})`;
    }

    /** Send `signal` to the whole process group (no-op once it is gone). */
    signal(signal: NodeJS.Signals): void {
        if (this.hasExited || this.pid === undefined) return;
        try {
            process.kill(-this.pid, signal);
        } catch {
            try {
                process.kill(this.pid, signal);
            } catch {
                /* already gone */
            }
        }
    }

    /** SIGTERM the group, wait up to `graceMs`, then SIGKILL it. Resolves once the leader has exited. */
    async stop(graceMs = 5000): Promise<void> {
        if (!this.hasExited) {
            this.signal("SIGTERM");
            const timedOut = await Promise.race([this.exited.then(() => false), delay(graceMs).then(() => true)]);
            if (timedOut) {
                this.signal("SIGKILL");
                await Promise.race([this.exited, delay(2000)]);
            }
        }
        // Children that outlived their leader (same group) get no grace.
        if (this.pid !== undefined) {
            try {
                process.kill(-this.pid, "SIGKILL");
            } catch {
                /* group is empty */
            }
        }
        running.delete(this);
    }

    /** Resolves when the process exits; rejects after `timeoutMs`. */
    async waitForExit(timeoutMs: number): Promise<void> {
        const timedOut = await Promise.race([this.exited.then(() => false), delay(timeoutMs).then(() => true)]);
        if (timedOut) throw new Error(`${this.name} did not exit within ${timeoutMs} ms\n${this.tail()}`);
    }
}

export function startProcess(name: string, command: string, args: string[], options: StartOptions = {}): ManagedProcess {
    return new ManagedProcess(name, command, args, options);
}

/** Stop every process started through this module that is still running. */
export async function stopAll(): Promise<void> {
    await Promise.all([...running].map((p) => p.stop()));
}

// Last resort: mocha exiting (--exit, an uncaught error) must not leave servers behind.
process.once("exit", () => {
    for (const p of running) {
        if (p.pid === undefined) continue;
        try {
            process.kill(-p.pid, "SIGKILL");
        } catch {
            /* gone */
        }
    }
});

/** Run a command to completion (e.g. `manage.py migrate`); throws with its output when it fails. */
export function runToCompletion(
    command: string,
    args: string[],
    options: StartOptions & { timeoutMs?: number; input?: string } = {},
): string {
    const result = spawnSync(command, args, {
        cwd: options.cwd,
        input: options.input,
        env: options.env ?? process.env,
        encoding: "utf8",
        timeout: options.timeoutMs ?? 60_000,
        killSignal: "SIGKILL",
    });
    const output = `${result.stdout ?? ""}${result.stderr ?? ""}`;
    if (result.error) throw new Error(`${command} ${args.join(" ")}: ${result.error.message}\n${output}`);
    if (result.status !== 0) {
        throw new Error(`${command} ${args.join(" ")} exited with ${result.status ?? result.signal}\n${output}`);
    }
    return output;
}

export interface WaitOptions {
    timeoutMs?: number;
    intervalMs?: number;
    /** Fail at once (with its output) if this process exits while waiting. */
    process?: ManagedProcess;
}

/** Poll `check` until it returns true. */
export async function waitUntil(what: string, check: () => boolean | Promise<boolean>, options: WaitOptions = {}): Promise<void> {
    const timeoutMs = options.timeoutMs ?? 15_000;
    const intervalMs = options.intervalMs ?? 100;
    const deadline = Date.now() + timeoutMs;
    let lastError = "";
    for (;;) {
        if (options.process?.hasExited) {
            throw new Error(`${options.process.describeExit()} while waiting for ${what}\n${options.process.tail()}`);
        }
        try {
            if (await check()) return;
        } catch (err) {
            lastError = err instanceof Error ? err.message : String(err);
        }
        if (Date.now() >= deadline) {
            const out = options.process ? `\n--- ${options.process.name} output ---\n${options.process.tail()}` : "";
            throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? ` (last error: ${lastError})` : ""}${out}`);
        }
        await delay(intervalMs);
    }
}

/** Wait until something accepts TCP connections on host:port. */
export function waitForPort(port: number, options: WaitOptions & { host?: string } = {}): Promise<void> {
    const host = options.host ?? "127.0.0.1";
    return waitUntil(`${host}:${port} to accept connections`, () => canConnect(host, port), options);
}

/** Wait until `url` answers with `status` (default: any status below 500). */
export function waitForHttp(url: string, options: WaitOptions & { status?: number; headers?: Record<string, string> } = {}): Promise<void> {
    return waitUntil(
        `${url} to answer`,
        async () => {
            const res = await httpRequest(url, { headers: options.headers, timeoutMs: 2000 });
            return options.status === undefined ? res.status < 500 : res.status === options.status;
        },
        options,
    );
}

/** Wait until a file exists. */
export function waitForFile(file: string, options: WaitOptions = {}): Promise<void> {
    return waitUntil(`${file} to exist`, () => fs.existsSync(file), options);
}

function canConnect(host: string, port: number): Promise<boolean> {
    return new Promise((resolve) => {
        const socket = net.connect({ host, port });
        const done = (ok: boolean) => {
            socket.destroy();
            resolve(ok);
        };
        socket.setTimeout(1000, () => done(false));
        socket.once("connect", () => done(true));
        socket.once("error", () => done(false));
    });
}

export interface HttpResponse {
    status: number;
    headers: http.IncomingHttpHeaders;
    body: string;
    /** The body parsed as JSON; throws if it is not JSON. */
    json<T = unknown>(): T;
}

/**
 * A plain HTTP request that may set any Host header (fetch does not allow it; the probes and
 * ALLOWED_HOSTS checks need it).
 */
export function httpRequest(
    url: string,
    options: { method?: string; headers?: Record<string, string>; body?: string; timeoutMs?: number } = {},
): Promise<HttpResponse> {
    return new Promise((resolve, reject) => {
        const req = http.request(url, { method: options.method ?? "GET", headers: options.headers, agent: false }, (res) => {
            const chunks: Buffer[] = [];
            res.on("data", (c: Buffer) => chunks.push(c));
            res.on("end", () => {
                const body = Buffer.concat(chunks).toString("utf8");
                resolve({
                    status: res.statusCode ?? 0,
                    headers: res.headers,
                    body,
                    json<T>() {
                        try {
                            return JSON.parse(body) as T;
                        } catch {
                            throw new Error(`not JSON (HTTP ${res.statusCode}): ${body.slice(0, 500)}`);
                        }
                    },
                });
            });
        });
        req.setTimeout(options.timeoutMs ?? 10_000, () => req.destroy(new Error(`timeout requesting ${url}`)));
        req.on("error", reject);
        if (options.body !== undefined) req.write(options.body);
        req.end();
    });
}

export function delay(ms: number): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, ms));
}
