/**
 * The default profile's user and group really run an image laid out like the real stock app's:
 * code copied in as root under a root-owned directory (the image's /code), static files collected
 * by root at build time, then the rendered API container and migration Job of client-c started the
 * way the kubelet would: as the pod's numeric uid/gid (setpriv), with a READ-ONLY root filesystem
 * (a private mount namespace: `/` remounted read-only), the pod's emptyDirs as fresh tmpfs mounts,
 * our Python runtime at its mount path read-only, and exactly the container's env and command.
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { K8sObject, helmTemplate } from "../../tools/lib/helm";
import { reveal, runProgram } from "../../tools/lib/mock-run";
import { REPO_ROOT, loadTenantConfig } from "../../tools/lib/stack-files";
import { PYTHON_RUNTIME_DIR } from "../../components/tenant/python-runtime";
import {
    ManagedProcess,
    PYTHON,
    freePort,
    httpRequest,
    requireRealServers,
    runToCompletion,
    startProcess,
    waitForPort,
} from "../support/real-servers";

const STACK = "client-c";
/** Where the image's root-owned layers stand, inside the test's own mount namespace only. */
const IMAGE_ROOT = "/srv";
/** The image's WORKDIR (the real app's /code), under IMAGE_ROOT. */
const WORKDIR = `${IMAGE_ROOT}/code`;
/** The real app's STATIC_ROOT at build time (DEPLOY_TYPE unset = dev). */
const STATIC_ROOT = "/var/www/static";

/** `python manage.py collectstatic --noinput`, with PyMySQL standing in for the image's mysqlclient. */
const COLLECTSTATIC = [
    "import runpy, sys, pymysql",
    "pymysql.install_as_MySQLdb()",
    "sys.argv = ['manage.py', 'collectstatic', '--noinput']",
    "runpy.run_path('manage.py', run_name='__main__')",
].join("\n");

interface Pod {
    command: string[];
    env: Record<string, string>;
    mounts: Array<{ path: string; source: "emptyDir" | "runtime" }>;
    user: number;
    group: number;
    readOnlyRoot: boolean;
}

/** One rendered pod template's first container, as the kubelet would run it. */
function podOf(template: K8sObject, envFrom: Record<string, string>): Pod {
    const volumes = Object.fromEntries((template.spec.volumes ?? []).map((v: K8sObject) => [v.name, v]));
    const c = template.spec.containers[0];
    return {
        command: c.command,
        env: { ...envFrom, ...Object.fromEntries((c.env ?? []).map((e: K8sObject) => [e.name, String(e.value)])) },
        mounts: (c.volumeMounts ?? []).map((m: K8sObject) => {
            const v = volumes[m.name];
            assert.ok(
                v.emptyDir || v.configMap?.name === "stock-python-runtime",
                `${m.name}: only emptyDirs and the runtime ConfigMap are expected`,
            );
            return { path: m.mountPath, source: v.emptyDir ? "emptyDir" : "runtime" };
        }),
        user: c.securityContext.runAsUser,
        group: c.securityContext.runAsGroup,
        readOnlyRoot: c.securityContext.readOnlyRootFilesystem,
    };
}

/** The Debian binary each command word of the python:3.8-based image stands for. */
const BINARY_FOR: Record<string, string> = { python: PYTHON, python3: PYTHON, gunicorn: "/usr/bin/gunicorn" };
function local(command: string[]): string[] {
    assert.ok(BINARY_FOR[command[0]], `no local binary for ${command[0]}`);
    return [BINARY_FOR[command[0]], ...command.slice(1)];
}

const sh = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * A shell script for `unshare --mount`: build the image layout as root, mount the pod's volumes,
 * make everything else read-only, then exec the container's command as the pod's user.
 */
function podScript(pod: Pod, command: string[]): string {
    const lines = [
        "set -eu",
        "mount --make-rprivate /",
        // The image: code copied in as root, static collected as root (the Dockerfile's RUN steps).
        `mount -t tmpfs -o mode=755 image ${IMAGE_ROOT}`,
        `cp -r ${sh(path.join(REPO_ROOT, "fixtures", "upstream-app", "backend"))} ${WORKDIR}`,
        `chown -R 0:0 ${WORKDIR} && chmod -R u=rwX,go=rX ${WORKDIR}`,
        `mount -t tmpfs -o mode=755 www /var/www`,
        // The image has mysqlclient; Debian's PyMySQL stands in for it here (settings load the MySQL backend).
        `cd ${WORKDIR} && env -i PATH=/usr/bin:/bin PYTHONDONTWRITEBYTECODE=1 ${PYTHON} -c ${sh(COLLECTSTATIC)} >/dev/null`,
        `test -s ${STATIC_ROOT}/readme || test -n "$(ls -A ${STATIC_ROOT})"`,
    ];
    // The pod's volumes: every emptyDir writable by anyone (as the kubelet makes them), the runtime read-only.
    // The runtime is copied in first: an emptyDir on /tmp would hide a repository checked out under /tmp.
    const ordered = [...pod.mounts].sort((a, b) => Number(a.source === "emptyDir") - Number(b.source === "emptyDir"));
    for (const m of ordered) {
        if (m.source === "emptyDir") {
            // Mount points must exist already: nothing is created on this machine's own root.
            lines.push(`test -d ${sh(m.path)}`, `mount -t tmpfs -o mode=1777 emptydir ${sh(m.path)}`);
        } else {
            lines.push(
                `mount -t tmpfs -o mode=755 runtime /opt`,
                `mkdir -p ${sh(m.path)}`,
                `cp ${sh(PYTHON_RUNTIME_DIR)}/*.py ${sh(m.path)}/`,
                `mount -o remount,ro,bind /opt`,
            );
        }
    }
    // readOnlyRootFilesystem: the root and the image's layers.
    lines.push("mount -o remount,ro,bind /", `mount -o remount,ro,bind ${IMAGE_ROOT}`, "mount -o remount,ro,bind /var/www");
    const env = Object.entries({ PATH: "/usr/bin:/bin", HOSTNAME: "stock-backend-api-0", ...pod.env })
        .map(([k, v]) => sh(`${k}=${v}`))
        .join(" ");
    lines.push(
        `cd ${WORKDIR}`,
        `exec setpriv --reuid=${pod.user} --regid=${pod.group} --clear-groups env -i ${env} ${local(command).map(sh).join(" ")}`,
    );
    return lines.join("\n");
}

describe("the default profile runs the real app's layout as a non-root user on a read-only root filesystem", function () {
    this.timeout(120_000);
    let api: Pod;
    let migrate: Pod;
    let server: ManagedProcess | undefined;

    before(async function () {
        requireRealServers(this, { modules: ["django", "gunicorn", "celery", "pymysql"] });
        if (process.getuid?.() !== 0) throw new Error("this test builds mount namespaces (unshare --mount) and needs root, as .ci/run has");
        const program = await runProgram(STACK, { preview: false });
        const envMap = reveal(program.one("kubernetes:core/v1:ConfigMap", `${STACK}-env`).inputs.data);
        const secret = reveal(program.one("kubernetes:core/v1:Secret", `${STACK}-secret`).inputs.stringData);
        const chart = program.ofType("kubernetes:helm.sh/v4:Chart").find((c) => c.inputs.chart.endsWith("backend-api"))!;
        const objects = await helmTemplate(chart.inputs.chart, reveal(chart.inputs.values), {
            releaseName: chart.inputs.name,
            namespace: chart.inputs.namespace,
        });
        const envFrom = { ...envMap, ...secret };
        api = podOf(objects.find((o) => o.kind === "Deployment")!.spec.template, envFrom);
        migrate = podOf(objects.find((o) => o.kind === "Job")!.spec.template, envFrom);
    });

    after(async () => {
        await server?.stop();
    });

    it("renders what the profile says: uid/gid 1000, read-only root, the runtime mounted, the code never written", () => {
        const profile = loadTenantConfig(STACK).app;
        for (const pod of [api, migrate]) {
            assert.deepEqual([pod.user, pod.group, pod.readOnlyRoot], [profile.runAs.backend.user, profile.runAs.backend.group, true]);
            assert.ok(pod.mounts.some((m) => m.source === "runtime" && m.path === "/opt/stock-runtime/python"));
            assert.ok(!pod.mounts.some((m) => m.path === "/code" || m.path.startsWith("/code/")), "nothing is mounted over the code");
        }
    });

    it("the migration Job migrates (SQLite under the /tmp emptyDir here: no MySQL on this machine)", () => {
        // DEPLOY_TYPE=test is the fixture's SQLite switch; everything else is the rendered Job.
        const pod = { ...migrate, env: { ...migrate.env, DEPLOY_TYPE: "test" } };
        const out = runToCompletion("unshare", ["--mount", "/bin/sh", "-c", podScript(pod, [...pod.command, "-v", "1"])], {
            env: { PATH: "/usr/bin:/bin" },
            timeoutMs: 90_000,
        });
        assert.match(out, /Apply(ing)? .*OK|No migrations to apply/);
    });

    it("the API serves its probe path as that user, with the gunicorn command the chart renders", async () => {
        const port = await freePort();
        const command = [...api.command];
        const bind = command.indexOf("--bind");
        assert.equal(command[bind + 1], "0.0.0.0:8080", "the pod listens on 8080");
        command[bind + 1] = `127.0.0.1:${port}`; // a free loopback port here instead
        // DEPLOY_TYPE=test: the fixture's SQLite switch (this machine has no MySQL client library).
        const pod = { ...api, env: { ...api.env, DEPLOY_TYPE: "test" } };
        server = startProcess("gunicorn (as uid 1000, read-only root)", "unshare", ["--mount", "/bin/sh", "-c", podScript(pod, command)], {
            env: { PATH: "/usr/bin:/bin" },
        });
        await waitForPort(port, { process: server, timeoutMs: 60_000 });
        const probePath = loadTenantConfig(STACK).app.api.probes.liveness;
        assert.ok(probePath.kind === "http");
        // The kubelet's Host is the pod IP: any Host must do.
        const res = await httpRequest(`http://127.0.0.1:${port}${probePath.path}`, { headers: { Host: "10.1.2.3:8080" } });
        assert.equal(res.status, 200, res.body);
        // The arbiter and its workers, from /proc: real, effective, saved and filesystem ids all 1000.
        const children = fs.readFileSync(`/proc/${server.pid}/task/${server.pid}/children`, "utf8").trim().split(/\s+/).filter(Boolean);
        assert.ok(children.length >= 1, "gunicorn forked its workers");
        for (const pid of [String(server.pid), ...children]) {
            const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
            const ids = (field: string) => new RegExp(`^${field}:\\s+(.*)$`, "m").exec(status)![1].trim().split(/\s+/);
            assert.deepEqual([ids("Uid"), ids("Gid")], [Array(4).fill(String(api.user)), Array(4).fill(String(api.group))], `pid ${pid}`);
            assert.match(status, /^Groups:\s*$/m, `pid ${pid} has no supplementary groups`);
        }
    });
});
