/** Rules across a tenant stack's keys: workers and queues, hosts, env, database egress. */
import * as path from "path";
import { reservedEnvKeys } from "../tenant/app-env";
import { FRONTEND_API_URL_VARIABLE, PROJECT } from "./shapes";
import { KeyName, KeyValue } from "./keys";
import { Checked } from "./parse-keys";

/** Database egress wider than this is refused: more than a /8 of the internet is never "where the database lives". */
const NARROWEST_REFUSED_PREFIX = 7;
/** Wider than a /24 is accepted with a warning: a database is usually one address (/32). */
const WIDEST_QUIET_PREFIX = 24;

/** Rules across a tenant stack's keys. */
export function tenantRules(get: <K extends KeyName>(k: K) => KeyValue<K>, stack: string, file: string, checked: Checked): void {
    const prefix = `${PROJECT}:`;
    const queues = get("celeryQueues");
    const workers = get("celeryWorkers");
    workers.forEach((w, i) => {
        for (const q of w.queues) {
            if (!queues.includes(q)) {
                checked.problems.push(
                    `${prefix}celeryWorkers[${i}].queues in ${file} names unknown Celery queue '${q}'. Fix: use one of ${queues.join(", ")} (the app's queues, ${prefix}celeryQueues)`,
                );
            }
        }
    });
    const names = workers.map((w) => w.name);
    names
        .filter((n, i) => names.indexOf(n) !== i)
        .forEach((n) =>
            checked.problems.push(`${prefix}celeryWorkers in ${file} has two workers named '${n}'. Fix: give each worker its own name`),
        );
    kedaRules(get, stack, file, checked);
    // A worker scaled to 0 runs no process: its queues have no consumer. One KEDA scales (even from
    // 0) is started as soon as a task waits in one of its queues.
    const keda = get("celeryKeda");
    const running = new Set(workers.filter((w) => w.replicas > 0 || (keda && w.keda)).flatMap((w) => w.queues));
    const orphaned = queues.filter((q) => !running.has(q));
    const stopped = orphaned.filter((q) => workers.some((w) => w.queues.includes(q)));
    const unlisted = orphaned.filter((q) => !stopped.includes(q));
    if (unlisted.length)
        checked.problems.push(
            `${prefix}celeryWorkers in ${file} leaves queue(s) ${unlisted.join(", ")} without a worker, so their tasks would never run. Fix: add them to a worker's queues`,
        );
    for (const q of stopped) {
        const idle = workers.map((w, i) => ({ w, i })).filter(({ w }) => w.queues.includes(q));
        checked.problems.push(
            `${prefix}celeryWorkers in ${file}: queue '${q}' is consumed only by ${idle.map(({ w, i }) => `${w.name} (${prefix}celeryWorkers[${i}].replicas is 0)`).join(", ")}, so its tasks would never run. Fix: pulumi config set --path '${prefix}celeryWorkers[${idle[0].i}].replicas' 1 -s ${stack}, or add '${q}' to a worker with replicas`,
        );
    }
    if (!get("harborPullUsername") !== !get("harborPullPassword")) {
        checked.problems.push(
            `${prefix}harborPullUsername and ${prefix}harborPullPassword in ${file} go together: one is set, the other is not. Fix: pulumi config set ${prefix}harborPullUsername 'robot$stock-pull-${stack}' -s ${stack} and pulumi config set --secret ${prefix}harborPullPassword -s ${stack}`,
        );
    }
    const writablePaths = get("writablePaths") ?? [];
    writablePaths
        .filter((p, i) => writablePaths.indexOf(p) !== i)
        .forEach((p) => checked.problems.push(`${prefix}writablePaths in ${file} lists ${p} twice. Fix: list each directory once`));
    const scheduleDir = path.posix.dirname(get("celeryBeatSchedule"));
    if (writablePaths.includes(scheduleDir)) {
        checked.problems.push(
            `${prefix}writablePaths in ${file} lists ${scheduleDir}, the directory of ${prefix}celeryBeatSchedule, which beat already gets writable. Fix: remove ${scheduleDir} from ${prefix}writablePaths`,
        );
    }
    if (get("apiHost") && get("apiHost") === get("host")) {
        checked.problems.push(
            `${prefix}apiHost in ${file} is the same as ${prefix}host (${get("host")}): a separate API host must differ. Fix: pulumi config rm ${prefix}apiHost -s ${stack} (the API is then served at /api on ${get("host")}), or pulumi config set ${prefix}apiHost 'api.${get("host")}' -s ${stack}`,
        );
    }
    const computedFrontendKeys = Object.keys(get("frontendEnv") ?? {}).filter((k) => k === FRONTEND_API_URL_VARIABLE);
    computedFrontendKeys.forEach((k) =>
        checked.problems.push(
            `${prefix}frontendEnv.${k} in ${file}: the program computes ${k} from ${prefix}host, ${prefix}apiHost and ${prefix}tls. Fix: pulumi config rm --path '${prefix}frontendEnv.${k}' -s ${stack}`,
        ),
    );
    if (get("debug") && get("deployType") === "prod") {
        checked.problems.push(
            `${prefix}debug is true while ${prefix}deployType is prod in ${file}: Django would show stack traces to customers. Fix: pulumi config set ${prefix}debug false -s ${stack}`,
        );
    }
    const cidr = get("dbCidr");
    const bits = Number(cidr.split("/")[1]);
    const dbPort = get("dbPort");
    if (bits <= NARROWEST_REFUSED_PREFIX) {
        checked.problems.push(
            `${prefix}dbCidr in ${file} is ${cidr}: the database egress rule would let the tenant's pods reach port ${dbPort} on ${bits === 0 ? "every address on the internet" : `2^${32 - bits} addresses`}. Fix: pulumi config set ${prefix}dbCidr '<the database's address>/32' -s ${stack}`,
        );
    } else if (bits < WIDEST_QUIET_PREFIX) {
        checked.warnings.push(
            `${prefix}dbCidr in ${file} is ${cidr}: the tenant's pods may reach port ${dbPort} on ${2 ** (32 - bits)} addresses, while a database is usually one (/32). Fix, unless the database really moves within that network: pulumi config set ${prefix}dbCidr '<the database's address>/32' -s ${stack}`,
        );
    }
    // Explicit `env` in the charts wins over `envFrom`; the ConfigMap and Secret are the program's.
    const reserved = reservedEnvKeys();
    const extraSecretEnv = get("extraSecretEnv") ?? {};
    const extraEnv = get("extraEnv") ?? {};
    for (const [key, map] of [
        ["extraEnv", extraEnv],
        ["extraSecretEnv", extraSecretEnv],
    ] as const) {
        for (const name of Object.keys(map).filter((n) => reserved.includes(n))) {
            checked.problems.push(
                `${prefix}${key}.${name} in ${file} would override a variable the program or its charts set. Fix: pulumi config rm --path '${prefix}${key}.${name}' -s ${stack}; ${name} is computed from the other settings`,
            );
        }
    }
    Object.keys(extraEnv)
        .filter((n) => n in extraSecretEnv)
        .forEach((n) =>
            checked.problems.push(
                `${n} is in both ${prefix}extraEnv and ${prefix}extraSecretEnv in ${file}. Fix: keep it in one of them (pulumi config rm --path '${prefix}extraEnv.${n}' -s ${stack})`,
            ),
        );
}

/** stock:celeryKeda and the workers' `keda` blocks: bounds in order, something to scale, nothing configured in vain. */
function kedaRules(get: <K extends KeyName>(k: K) => KeyValue<K>, stack: string, file: string, checked: Checked): void {
    const prefix = `${PROJECT}:`;
    const workers = get("celeryWorkers").map((w, i) => ({ w, i }));
    const scaled = workers.filter(({ w }) => w.keda);
    for (const { w, i } of scaled) {
        if (w.keda && w.keda.minReplicas > w.keda.maxReplicas) {
            checked.problems.push(
                `${prefix}celeryWorkers[${i}].keda in ${file}: minReplicas ${w.keda.minReplicas} is above maxReplicas ${w.keda.maxReplicas} (worker '${w.name}'). Fix: pulumi config set --path '${prefix}celeryWorkers[${i}].keda.minReplicas' ${w.keda.maxReplicas} -s ${stack}, or raise maxReplicas`,
            );
        }
    }
    if (get("celeryKeda") && scaled.length === 0) {
        checked.problems.push(
            `${prefix}celeryKeda is true for ${file}, but no worker of ${prefix}celeryWorkers has a keda block, so KEDA would scale nothing. Fix: give the workers to scale a keda block ({minReplicas, maxReplicas, listLength}; README, "Scale Celery workers with KEDA"), or pulumi config set ${prefix}celeryKeda false -s ${stack}`,
        );
    }
    if (!get("celeryKeda") && scaled.length > 0) {
        checked.warnings.push(
            `${prefix}celeryWorkers in ${file}: ${scaled.map(({ w, i }) => `${w.name} (${prefix}celeryWorkers[${i}].keda)`).join(", ")} ${scaled.length === 1 ? "has a keda block" : "have keda blocks"}, but ${prefix}celeryKeda is false: ${scaled.length === 1 ? "it runs its" : "they run their"} fixed replicas. To scale with KEDA: pulumi config set ${prefix}celeryKeda true -s ${stack}`,
        );
    }
}
