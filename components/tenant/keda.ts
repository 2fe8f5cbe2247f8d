/**
 * Which Celery worker groups KEDA scales, and the Secret keys its TriggerAuthentication reads.
 * Pure: the chart values (chart-values.ts), the Secret (app-env.ts) and the quota (quota.ts) are
 * computed from these.
 */
import { CeleryWorker, KedaScaling, TenantConfig } from "../config";

/**
 * Keys the program adds to the tenant's Secret when KEDA scales a worker group: what the celery
 * chart's TriggerAuthentication hands KEDA's redis scaler (`address`, `username`, `password`), so
 * that KEDA logs in as the tenant's own ACL user and the chart's values hold no credential.
 */
export const KEDA_SECRET_ENV = {
    address: "STOCK_REDIS_ADDRESS",
    username: "STOCK_REDIS_USERNAME",
    password: "STOCK_REDIS_PASSWORD",
} as const;

export type KedaScaledWorker = CeleryWorker & { keda: KedaScaling };

/** The worker groups KEDA scales: those with a `keda` block, when stock:celeryKeda is true; none otherwise. */
export function kedaScaledWorkers(celery: TenantConfig["celery"]): KedaScaledWorker[] {
    return celery.keda ? celery.workers.filter((w): w is KedaScaledWorker => w.keda !== undefined) : [];
}

/** Replicas a worker group may run at most: KEDA's maximum, or its fixed `replicas`. */
export function maxWorkerReplicas(celery: TenantConfig["celery"], worker: CeleryWorker): number {
    return kedaScaledWorkers(celery).includes(worker as KedaScaledWorker) ? worker.keda!.maxReplicas : worker.replicas;
}
