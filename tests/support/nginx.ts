/**
 * Test support: a real (Debian) nginx on a loopback port, with a configuration the test writes.
 * Used by tests/e2e for the external load balancer and the ingress controller stand-in. Every
 * file nginx writes (pid, temp files, logs) stays in its own temporary directory.
 *
 *     const port = await freePort();
 *     const lb = await startNginx("load balancer", port, (dir) => httpMain(dir, `server { listen 127.0.0.1:${port}; ... }`));
 *     ...
 *     await lb.stop();
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ManagedProcess, NGINX, runToCompletion, startProcess, waitForPort } from "./real-servers";

export interface NginxServer {
    name: string;
    port: number;
    /** The configuration nginx runs with. */
    config: string;
    process: ManagedProcess;
    stop(): Promise<void>;
}

/** A main nginx.conf with everything nginx writes under `dir` and `http` as the body of its http {} block. */
export function httpMain(dir: string, http: string): string {
    const temp = ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"].map((t) => `    ${t}_temp_path ${dir}/${t}_temp;`);
    return [
        "worker_processes 1;",
        "error_log stderr warn;",
        `pid ${dir}/nginx.pid;`,
        "events { worker_connections 256; }",
        "http {",
        "    access_log off;",
        ...temp,
        ...http
            .trimEnd()
            .split("\n")
            .map((l) => (l ? `    ${l}` : l)),
        "}",
        "",
    ].join("\n");
}

/**
 * Writes the configuration `config(dir)` returns, checks it with `nginx -t` (a bad configuration
 * fails here with nginx's own message), starts nginx in the foreground and waits for `port`.
 */
export async function startNginx(name: string, port: number, config: (dir: string) => string): Promise<NginxServer> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "stock-nginx-"));
    // Workers run as nobody when the master is root: they must reach the temp paths.
    fs.chmodSync(dir, 0o755);
    const text = config(dir);
    const file = path.join(dir, "nginx.conf");
    fs.writeFileSync(file, text);
    const args = ["-e", "stderr", "-p", `${dir}/`, "-c", file];
    try {
        runToCompletion(NGINX, ["-t", "-q", ...args], { timeoutMs: 10_000 });
    } catch (err) {
        fs.rmSync(dir, { recursive: true, force: true });
        throw new Error(`nginx (${name}) refuses its configuration: ${(err as Error).message}\n--- configuration ---\n${text}`, {
            cause: err,
        });
    }
    const proc = startProcess(`nginx (${name})`, NGINX, [...args, "-g", "daemon off;"]);
    const stop = async () => {
        await proc.stop(3000);
        fs.rmSync(dir, { recursive: true, force: true });
    };
    try {
        await waitForPort(port, { process: proc, timeoutMs: 10_000 });
    } catch (err) {
        await stop();
        throw err;
    }
    return { name, port, config: text, process: proc, stop };
}
