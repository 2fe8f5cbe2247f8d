/**
 * The ResourceQuota and LimitRange of a tenant namespace, sized from the tenant's config: every pod
 * the charts run (replicas × each container's requests and limits), plus the migration Job and the
 * pods of a rolling update (updatePeak), which run at the same time during `pulumi up`. A bad `replicas`
 * value then fails at admission inside the tenant's namespace instead of starving the node pool
 * every tenant shares. Pure: the Tenant component only creates the objects.
 */
import { Resources, TenantConfig } from "../config";
import { memoryBytes } from "../redis/values";
import { maxWorkerReplicas } from "./keda";

/** The Celery beat container's resources: the program sets them (chart value `beat.resources`) so the quota knows them. */
export const CELERY_BEAT_RESOURCES: Resources = { requests: { cpu: "50m", memory: "192Mi" }, limits: { cpu: "500m", memory: "384Mi" } };

/**
 * Pods of a Deployment at the peak of an update. A rolling update (API, frontend, workers) may have
 * every old pod still counted beside every new one: the quota counts a terminating pod until it is
 * gone, and a Celery worker drains its running tasks for up to terminationGracePeriodSeconds (300 s)
 * while the chart's `maxSurge` (25% or 1, never more than the replicas) starts the new ones. `Recreate`
 * (beat) stops the old pod before it starts the new one.
 */
export function updatePeak(replicas: number, strategy: "RollingUpdate" | "Recreate"): number {
    return strategy === "RollingUpdate" ? 2 * replicas : replicas;
}

/** One kind of pod the tenant runs: how many at most (during an update) and one container's resources. */
export interface PodBudget {
    /** `Deployment stock-backend-api`, `Job migrate`, ... */
    what: string;
    pods: number;
    resources: Resources;
}

/** Every pod of the tenant at the peak of a `pulumi up`: all replicas, the surge and the migration Job. */
export function podBudgets(config: Pick<TenantConfig, "replicas" | "resources" | "celery">): PodBudget[] {
    const budgets: PodBudget[] = [
        { what: "Deployment stock-backend-api", pods: updatePeak(config.replicas.api, "RollingUpdate"), resources: config.resources.api },
        { what: "Job stock-backend-api-migrate", pods: 1, resources: config.resources.api },
        {
            what: "Deployment stock-frontend",
            pods: updatePeak(config.replicas.frontend, "RollingUpdate"),
            resources: config.resources.frontend,
        },
        ...config.celery.workers.map((w) => ({
            what: `Deployment stock-backend-celery-${w.name}`,
            // A group KEDA scales may run up to its maxReplicas.
            pods: updatePeak(maxWorkerReplicas(config.celery, w), "RollingUpdate"),
            resources: w.resources ?? config.resources.celery,
        })),
    ];
    if (config.celery.beat)
        budgets.push({ what: "Deployment stock-backend-celery-beat", pods: updatePeak(1, "Recreate"), resources: CELERY_BEAT_RESOURCES });
    return budgets;
}

/** Millicores of a Kubernetes CPU quantity (the forms components/config/shapes.ts accepts: `250m`, `1`, `0.5`). */
export function cpuMillis(quantity: string): number {
    return quantity.endsWith("m") ? Number(quantity.slice(0, -1)) : Math.round(Number(quantity) * 1000);
}

const MI = 2 ** 20;
const formatCpu = (millis: number) => `${millis}m`;
const formatMemory = (bytes: number) => `${Math.ceil(bytes / MI)}Mi`;

export interface TenantQuota {
    /** `spec.hard` of the ResourceQuota. */
    hard: { pods: string; "requests.cpu": string; "requests.memory": string; "limits.cpu": string; "limits.memory": string };
    /** The Container limits of the LimitRange: no container above the largest the config asks for, defaults for one that sets none. */
    limitRange: {
        max: { cpu: string; memory: string };
        default: { cpu: string; memory: string };
        defaultRequest: { cpu: string; memory: string };
    };
}

/** The quota of a tenant namespace: exactly the sum of podBudgets(), so a pod beyond the config is refused. */
export function tenantQuota(config: Pick<TenantConfig, "replicas" | "resources" | "celery">): TenantQuota {
    const budgets = podBudgets(config);
    const sum = (pick: (r: Resources) => number) => budgets.reduce((total, b) => total + b.pods * pick(b.resources), 0);
    const all = budgets.map((b) => b.resources);
    const smallest = all.reduce((a, b) => (cpuMillis(b.limits.cpu) < cpuMillis(a.limits.cpu) ? b : a));
    return {
        hard: {
            pods: String(budgets.reduce((total, b) => total + b.pods, 0)),
            "requests.cpu": formatCpu(sum((r) => cpuMillis(r.requests.cpu))),
            "requests.memory": formatMemory(sum((r) => memoryBytes(r.requests.memory))),
            "limits.cpu": formatCpu(sum((r) => cpuMillis(r.limits.cpu))),
            "limits.memory": formatMemory(sum((r) => memoryBytes(r.limits.memory))),
        },
        limitRange: {
            max: {
                cpu: formatCpu(Math.max(...all.map((r) => cpuMillis(r.limits.cpu)))),
                memory: formatMemory(Math.max(...all.map((r) => memoryBytes(r.limits.memory)))),
            },
            default: { ...smallest.limits },
            defaultRequest: { ...smallest.requests },
        },
    };
}
