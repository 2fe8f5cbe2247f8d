/**
 * The frontend pod, run from the rendered chart: the container's own command, as the user and with
 * the filesystem its securityContext and volumeMounts give it. A private mount namespace
 * (`unshare -m`, needs root, as .ci/run has) holds
 * - the image's files: the tenant's build at /usr/share/nginx/html and the image's conf.d, read-only;
 * - the volumes exactly where the Deployment mounts them: ConfigMap keys (the chart's nginx.conf and
 *   default.conf, read-only), emptyDirs as tmpfs (with their sizeLimit);
 * - a read-only root filesystem when readOnlyRootFilesystem is set;
 * and nginx runs as runAsUser/runAsGroup with no capabilities and no_new_privs.
 * The one change to the chart's files: the container port's `listen` becomes a loopback port, since
 * every "pod" here shares the host's network. Debian's nginx stands in for the image's nginx.
 * Volume kinds and security settings the chart does not use are refused.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { K8sObject } from "../../tools/lib/helm";
import { ManagedProcess, startProcess, waitForPort } from "../support/real-servers";

export interface FrontendPodSpec {
    /** Every object the frontend chart rendered for the tenant. */
    objects: K8sObject[];
    /** The built site (the image's /usr/share/nginx/html). */
    buildDir: string;
    /** The nginx.conf of the build context (the image's /etc/nginx/conf.d/default.conf). */
    imageSiteConf: string;
    /** Where to put the staged files (must not be inside a path the pod mounts over). */
    stageDir: string;
    port: number;
}

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

function one<T>(items: T[], what: string): T {
    if (items.length !== 1) throw new Error(`expected one ${what}, found ${items.length}`);
    return items[0];
}

export async function startFrontendPod(spec: FrontendPodSpec): Promise<ManagedProcess> {
    const deployment = one(
        spec.objects.filter((o) => o.kind === "Deployment"),
        "Deployment in the frontend chart",
    );
    const podSpec = deployment.spec.template.spec;
    const container = one<any>(podSpec.containers ?? [], `container in Deployment ${deployment.metadata.name}`);
    const where = `Deployment ${deployment.metadata.name} container ${container.name}`;
    const httpPort = one<any>(
        (container.ports ?? []).filter((p: { name: string }) => p.name === "http"),
        `port named http in ${where}`,
    ).containerPort;
    const security = { ...(podSpec.securityContext ?? {}), ...(container.securityContext ?? {}) };
    const uid = security.runAsUser;
    const gid = security.runAsGroup;
    if (!Number.isInteger(uid) || !Number.isInteger(gid) || uid === 0)
        throw new Error(`${where}: runAsUser/runAsGroup must be set and non-root (got ${uid}/${gid})`);
    if (security.allowPrivilegeEscalation !== false) throw new Error(`${where}: allowPrivilegeEscalation must be false`);
    if (JSON.stringify(security.capabilities) !== JSON.stringify({ drop: ["ALL"] }))
        throw new Error(`${where}: capabilities ${JSON.stringify(security.capabilities)} are not emulated (drop ALL only)`);

    const script: string[] = ["set -eu", "mount --make-rprivate /"];
    // The image: its site and conf.d, read-only; it has an (empty) /var/cache/nginx.
    const image = path.join(spec.stageDir, "image");
    fs.mkdirSync(path.join(image, "conf.d"), { recursive: true });
    fs.writeFileSync(path.join(image, "conf.d", "default.conf"), spec.imageSiteConf, { mode: 0o444 });
    fs.chmodSync(spec.buildDir, 0o755);
    script.push(
        "mount -t tmpfs -o mode=0755 image-conf /etc/nginx/conf.d",
        `cp ${quote(path.join(image, "conf.d", "default.conf"))} /etc/nginx/conf.d/default.conf`,
        "mount -o remount,ro /etc/nginx/conf.d",
        `mount --bind ${quote(spec.buildDir)} /usr/share/nginx/html`,
        "mount -o remount,bind,ro /usr/share/nginx/html",
        "mount -t tmpfs -o mode=0755 image-var-cache /var/cache",
        "mkdir /var/cache/nginx",
        "mount -o remount,ro /var/cache",
    );

    // The volumes: ConfigMap files first (their staged sources may lie under an emptyDir's path).
    const volumes = new Map<string, any>((podSpec.volumes ?? []).map((v: { name: string }) => [v.name, v]));
    const emptyDirs: string[] = [];
    let listens = 0;
    for (const mount of container.volumeMounts ?? []) {
        const volume = volumes.get(mount.name);
        if (!volume) throw new Error(`${where}: volumeMount ${mount.name} has no volume`);
        const kinds = Object.keys(volume).filter((k) => k !== "name");
        if (kinds.length === 1 && kinds[0] === "configMap") {
            const cm = one(
                spec.objects.filter((o) => o.kind === "ConfigMap" && o.metadata.name === volume.configMap.name),
                `ConfigMap ${volume.configMap.name}`,
            );
            if (!mount.subPath) throw new Error(`${where}: a ConfigMap mounted without subPath is not emulated`);
            let text: string | undefined = cm.data?.[mount.subPath];
            if (text === undefined) throw new Error(`${where}: ConfigMap ${cm.metadata.name} has no key ${mount.subPath}`);
            const listen = new RegExp(`^(\\s*)listen\\s+${httpPort};\\s*$`, "gm");
            listens += (text.match(listen) ?? []).length;
            text = text.replace(listen, `$1listen 127.0.0.1:${spec.port};`);
            const file = path.join(spec.stageDir, "volumes", mount.name, mount.subPath);
            fs.mkdirSync(path.dirname(file), { recursive: true });
            fs.writeFileSync(file, text, { mode: 0o444 });
            script.push(`mount --bind ${quote(file)} ${quote(mount.mountPath)}`, `mount -o remount,bind,ro ${quote(mount.mountPath)}`);
        } else if (kinds.length === 1 && kinds[0] === "emptyDir") {
            const size = volume.emptyDir?.sizeLimit ? `,size=${String(volume.emptyDir.sizeLimit).replace(/i$/, "")}` : "";
            emptyDirs.push(`mount -t tmpfs -o mode=0777${size} ${quote(mount.name)} ${quote(mount.mountPath)}`);
        } else {
            throw new Error(`${where}: volume ${mount.name} (${kinds.join(", ")}) is not emulated (configMap with subPath, emptyDir)`);
        }
    }
    if (listens !== 1) throw new Error(`${where}: expected one "listen ${httpPort};" in the mounted nginx configuration, found ${listens}`);
    script.push(...emptyDirs);
    if (security.readOnlyRootFilesystem) script.push("mount -o remount,bind,ro /");
    // stdout through a pipe of the container's user, as a container runtime gives it: node's stdio
    // are sockets, which the chart's `access_log /dev/stdout` cannot open.
    script.push(
        `exec setpriv --reuid=${uid} --regid=${gid} --clear-groups --no-new-privs --inh-caps=-all --bounding-set=-all -- /bin/sh -c '"$@" | cat' pod "$@"`,
    );

    const probe = spawnSync("unshare", ["-m", "--", "/bin/true"], { encoding: "utf8" });
    if (probe.status !== 0) {
        throw new Error(
            `the e2e frontend pod needs a mount namespace of its own (unshare -m: root with CAP_SYS_ADMIN, as .ci/run runs; ` +
                `in a container: --cap-add SYS_ADMIN --security-opt seccomp=unconfined --security-opt apparmor=unconfined): ${probe.stderr.trim()}`,
        );
    }
    const command: string[] = [...(container.command ?? []), ...(container.args ?? [])];
    if (command.length === 0) throw new Error(`${where}: no command (the image's entrypoint is not emulated)`);
    const pod = startProcess(
        `frontend pod ${deployment.metadata.namespace}`,
        "unshare",
        ["-m", "--", "/bin/sh", "-c", script.join("\n"), "pod", ...command],
        {
            env: { PATH: "/usr/sbin:/usr/bin:/sbin:/bin", HOME: "/tmp" },
        },
    );
    await waitForPort(spec.port, { process: pod, timeoutMs: 10_000 });
    return pod;
}
