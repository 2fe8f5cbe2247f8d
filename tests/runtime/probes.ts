/**
 * A rendered probe (startupProbe, readinessProbe, livenessProbe) run the way the kubelet runs it,
 * against a container started here with localRun (./pods.ts):
 * - httpGet: GET of the probe's path on the pod's address (here 127.0.0.1) and port, the Host
 *   header `<pod IP>:<port>` as Go's client sends it (or the probe's own httpHeaders), User-Agent
 *   kube-probe; success is a status from 200 to 399 (redirects are not followed here);
 * - tcpSocket: a TCP connect;
 * - exec: the command in the container's env (localRun), success is exit code 0 within timeoutSeconds.
 * A named port (`port: http`) is the container's port of that name; `ports` maps each containerPort
 * to the loopback port the local process listens on instead.
 */
import { spawnSync } from "node:child_process";
import * as net from "node:net";
import { K8sObject } from "../../tools/lib/helm";
import { ManagedProcess, httpRequest, waitUntil } from "../support/real-servers";
import { LocalPaths, RenderedContainer, TenantPods, localRun } from "./pods";

export type ProbeKind = "startupProbe" | "readinessProbe" | "livenessProbe";

/** The kubelet version the probes' User-Agent names (kube-probe/<major>.<minor>). */
const KUBE_PROBE_AGENT = "kube-probe/1.31";

export interface ProbeTarget {
    pods: TenantPods;
    container: RenderedContainer;
    paths: LocalPaths;
    /** containerPort → the loopback port the local process listens on. */
    ports?: Record<number, number>;
    /** Env the local run adds (the same as the container was started with). */
    extraEnv?: Record<string, string | undefined>;
}

export interface ProbeResult {
    ok: boolean;
    /** What was probed and what it answered, for a failure message. */
    detail: string;
}

function localPort(target: ProbeTarget, port: string | number): number {
    const { container } = target;
    const containerPort = typeof port === "number" ? port : container.ports[port];
    if (containerPort === undefined) throw new Error(`${container.pod}: probe port ${JSON.stringify(port)} is not a port of the container`);
    const local = target.ports?.[containerPort];
    if (local === undefined) throw new Error(`${container.pod}: the test maps no loopback port for containerPort ${containerPort}`);
    return local;
}

function canConnect(port: number, timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
        const socket = net.connect({ host: "127.0.0.1", port, timeout: timeoutMs });
        const done = (ok: boolean) => {
            socket.destroy();
            resolve(ok);
        };
        socket.once("connect", () => done(true));
        socket.once("error", () => done(false));
        socket.once("timeout", () => done(false));
    });
}

/** Run `probe` once. */
export async function runProbe(probe: K8sObject, target: ProbeTarget): Promise<ProbeResult> {
    const timeoutMs = 1000 * (probe.timeoutSeconds ?? 1);
    if (probe.httpGet) {
        const { path, port, scheme, httpHeaders } = probe.httpGet;
        if (scheme && scheme !== "HTTP") throw new Error(`${target.container.pod}: probe scheme ${scheme} is not emulated`);
        const local = localPort(target, port);
        const headers: Record<string, string> = { Host: `127.0.0.1:${local}`, "User-Agent": KUBE_PROBE_AGENT, Accept: "*/*" };
        for (const h of probeHeaders(httpHeaders)) headers[h.name] = h.value;
        const what = `GET ${path ?? "/"} (Host: ${headers.Host}) on port ${JSON.stringify(port)}`;
        try {
            const res = await httpRequest(`http://127.0.0.1:${local}${path ?? "/"}`, { headers, timeoutMs });
            return { ok: res.status >= 200 && res.status < 400, detail: `${what}: HTTP ${res.status} ${res.body.slice(0, 300)}` };
        } catch (err) {
            return { ok: false, detail: `${what}: ${(err as Error).message}` };
        }
    }
    if (probe.tcpSocket) {
        const local = localPort(target, probe.tcpSocket.port);
        const ok = await canConnect(local, timeoutMs);
        return { ok, detail: `TCP connect to port ${JSON.stringify(probe.tcpSocket.port)}: ${ok ? "connected" : "refused"}` };
    }
    if (probe.exec) {
        const run = localRun(target.pods, { ...target.container, command: probe.exec.command }, target.paths, target.extraEnv);
        const r = spawnSync(run.command, run.args, {
            cwd: run.cwd,
            env: run.env,
            encoding: "utf8",
            timeout: timeoutMs,
            killSignal: "SIGKILL",
        });
        const output = `${r.stdout ?? ""}${r.stderr ?? ""}${r.error ? ` ${r.error.message}` : ""}`.trim();
        return {
            ok: r.status === 0,
            detail: `exec ${JSON.stringify(probe.exec.command)}: exit ${r.status ?? r.signal}${output ? `: ${output}` : ""}`,
        };
    }
    throw new Error(`${target.container.pod}: probe ${JSON.stringify(probe)} has no httpGet, tcpSocket or exec`);
}

function probeHeaders(headers: unknown): { name: string; value: string }[] {
    return Array.isArray(headers) ? (headers as { name: string; value: string }[]) : [];
}

/**
 * Poll the container's `kind` probe until it succeeds (it must be rendered), failing with the
 * probe's last answer and the process's output if it does not within `timeoutMs` or the process exits.
 */
export async function waitForProbe(
    kind: ProbeKind,
    target: ProbeTarget,
    options: { process: ManagedProcess; timeoutMs: number },
): Promise<ProbeResult> {
    const probe = target.container[kind];
    if (!probe) throw new Error(`${target.pods.stack} ${target.container.pod}: no ${kind} rendered`);
    let last: ProbeResult = { ok: false, detail: "not run yet" };
    try {
        await waitUntil(
            `the ${kind} of ${target.pods.stack} ${target.container.pod}`,
            async () => (last = await runProbe(probe, target)).ok,
            { process: options.process, timeoutMs: options.timeoutMs, intervalMs: 200 },
        );
    } catch (err) {
        throw new Error(`${(err as Error).message}\nlast probe: ${last.detail}`, { cause: err });
    }
    return last;
}
