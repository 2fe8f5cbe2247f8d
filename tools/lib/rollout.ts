/**
 * The order in which the fleet runner deploys stacks, and when it stops: pure functions over the
 * stack files' rollout settings (`stock:rolloutWave` per tenant, `stock:rolloutBatchSize` and
 * `stock:rolloutFailureBudget` in the shared stack), read through the one config model.
 *
 * Order: the images stack first (it builds and pushes the backend image every tenant deploys, and a
 * tenant's `up` refuses a backend tag Harbor does not have), then the shared stack(s) (every tenant
 * reads Redis from them), then the tenants wave by wave in ascending `rolloutWave`, wave 0 being
 * the canaries; a wave larger than the batch size is
 * split into balanced batches that run one after another. Within a batch the runner deploys in
 * parallel (bounded by its own `--parallel`); one failing stack never stops the others of its batch.
 */
import { ConfigError, RolloutPolicy, Role, parseStackConfig } from "../../components/config";
import { INFRA_WAVES, Wave } from "./fleet/report";
import { REPO_ROOT, rawStackConfig, readProjectFile, stackNames } from "./stack-files";

/** What the scheduler needs to know of one stack. */
export interface FleetStack {
    /** The Pulumi stack name (`Pulumi.<name>.yaml`). */
    name: string;
    role: Role;
    /** `stock:rolloutWave` of a tenant; ignored for the images and shared stacks. */
    wave: number;
}

/** One step of a rollout: stacks deployed together, after every earlier step has finished. */
export interface RolloutStep {
    /** `"images"` for the images stack, `"shared"` for the shared stack(s), else the tenants' `stock:rolloutWave`. */
    wave: Wave;
    /** 1-based batch within the wave, and the wave's number of batches. */
    batch: number;
    batches: number;
    /** Wave 0: any failure halts the rollout. */
    canary: boolean;
    /** Stack names, sorted. */
    stacks: string[];
    /** For progress lines and summaries, e.g. `wave 1 (batch 2/3)`. */
    label: string;
}

const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Splits `names` into `ceil(n / size)` batches whose sizes differ by at most one. */
export function balancedBatches<T>(names: readonly T[], size: number): T[][] {
    if (!Number.isInteger(size) || size < 1) throw new Error(`batch size must be a whole number of at least 1 (got ${size})`);
    const count = Math.ceil(names.length / size);
    const batches: T[][] = [];
    let start = 0;
    for (let i = 0; i < count; i++) {
        const length = Math.floor(names.length / count) + (i < names.length % count ? 1 : 0);
        batches.push(names.slice(start, start + length));
        start += length;
    }
    return batches;
}

/** The whole rollout, in order: images, shared, then canaries, then each wave in batches. */
export function planRollout(stacks: readonly FleetStack[], policy: RolloutPolicy): RolloutStep[] {
    const seen = new Set<string>();
    for (const s of stacks) {
        if (seen.has(s.name)) throw new Error(`stack ${s.name} is listed twice`);
        seen.add(s.name);
        if (s.role === "tenant" && !(Number.isInteger(s.wave) && s.wave >= 0)) {
            throw new Error(
                `stock:rolloutWave of stack ${s.name} must be a whole number of 0 or more (got ${s.wave}). Fix: pulumi config set stock:rolloutWave 1 -s ${s.name}`,
            );
        }
    }
    const steps: RolloutStep[] = [];
    for (const role of INFRA_WAVES) {
        const names = stacks
            .filter((s) => s.role === role)
            .map((s) => s.name)
            .sort(byName);
        if (names.length) steps.push({ wave: role, batch: 1, batches: 1, canary: false, stacks: names, label: role });
    }

    const waves = new Map<number, string[]>();
    for (const s of stacks.filter((t) => t.role === "tenant")) waves.set(s.wave, [...(waves.get(s.wave) ?? []), s.name]);
    for (const wave of [...waves.keys()].sort((a, b) => a - b)) {
        const batches = balancedBatches(waves.get(wave)!.sort(byName), policy.batchSize);
        batches.forEach((names, i) => {
            const name = wave === 0 ? "wave 0 (canary)" : `wave ${wave}`;
            steps.push({
                wave,
                batch: i + 1,
                batches: batches.length,
                canary: wave === 0,
                stacks: names,
                label: batches.length > 1 ? `${name} batch ${i + 1}/${batches.length}` : name,
            });
        });
    }
    return steps;
}

/** The rollout as lists of stack names, step by step: `[["images"], ["shared"], ["client-a"], ["client-b", ...], ...]`. */
export function planWaves(stacks: readonly FleetStack[], policy: RolloutPolicy): string[][] {
    return planRollout(stacks, policy).map((s) => s.stacks);
}

/**
 * After `step` has finished with `failedInStep` failed stacks and the stacks `busyInStep` busy
 * (another update of them was running, HTTP 409), and `failedBefore` tenant stacks failed in
 * earlier steps: the reason to stop the rollout here, or `undefined` to go on.
 * A failed or busy images or shared stack always halts (every tenant needs it complete, and a busy
 * one did not run the change), and so do a failed or busy canary: canaries exist to run a change
 * before anyone else, and a busy one did not run it. Busy is not failed: the runner exits 3 (run
 * again later) when busy stacks alone halted it. Other waves halt once
 * the failures exceed the budget; their busy stacks are reported, never counted (the change has
 * passed the canaries, and re-running picks them up).
 */
export function haltReason(
    step: RolloutStep,
    failedInStep: number,
    failedBefore: number,
    policy: RolloutPolicy,
    busyInStep: readonly string[] = [],
): string | undefined {
    const infra = step.wave === "images" || step.wave === "shared";
    const busyCanaries = step.canary || infra ? busyInStep : [];
    if (failedInStep === 0 && failedBefore <= policy.failureBudget && busyCanaries.length === 0) return undefined;
    if (step.wave === "images" && failedInStep > 0) {
        return `the images stack failed (${failedInStep} of ${step.stacks.length}): it pushes the backend image every tenant deploys, and a tenant's up refuses a tag Harbor does not have, so nothing after it runs`;
    }
    if (step.wave === "shared" && failedInStep > 0) {
        return `the shared stack failed (${failedInStep} of ${step.stacks.length}): every tenant reads Redis from it, so no tenant is deployed`;
    }
    if (step.canary && failedInStep > 0) {
        const busy = busyCanaries.length ? `; busy: ${busyCanaries.join(", ")}` : "";
        return `${failedInStep} canary stack${failedInStep === 1 ? "" : "s"} failed in ${step.label}: canaries halt the rollout on any failure${busy}`;
    }
    if (infra && busyCanaries.length) {
        const which = step.wave === "images" ? "images stack" : "shared stack";
        const needs = step.wave === "images" ? "the backend image every tenant deploys" : "the Redis every tenant reads";
        return (
            `the ${which} ${busyCanaries.join(", ")} was busy (another update of it was in progress), so it did not run the change and no tenant is deployed (they need ${needs}). ` +
            `Fix: wait for that update to finish (\`pulumi stack history -s ${busyCanaries[0]}\` shows it; \`pulumi cancel -s ${busyCanaries[0]}\` only if it is stale, no person or job still running it), then run the rollout again`
        );
    }
    if (busyCanaries.length) {
        const ran = step.stacks.length - busyCanaries.length;
        const one = busyCanaries.length === 1;
        return (
            `canary stack${one ? "" : "s"} ${busyCanaries.join(", ")} ${one ? "was" : "were"} busy in ${step.label} (another update of ${one ? "it" : "them"} was in progress), ` +
            `so the change ran on ${ran} of ${step.stacks.length} canaries and no later wave is deployed. ` +
            `Fix: wait for that update to finish (\`pulumi stack history -s ${busyCanaries[0]}\` shows it; \`pulumi cancel -s ${busyCanaries[0]}\` only if it is stale, no person or job still running it), then run the rollout again`
        );
    }
    const failed = failedBefore + failedInStep;
    if (failed > policy.failureBudget) {
        return `${failed} tenant stack${failed === 1 ? "" : "s"} failed, over the failure budget of ${policy.failureBudget} (stock:rolloutFailureBudget in the shared stack)`;
    }
    return undefined;
}

/** The fleet as the stack files describe it. */
export interface Fleet {
    /** The shared stack's rollout settings. */
    policy: RolloutPolicy;
    /** Every stack whose config the model accepts, with its role and wave. */
    stacks: FleetStack[];
    /** Stacks the model refuses: the runner reports them and never schedules them. */
    invalid: Array<{ stack: string; problems: string[] }>;
}

/**
 * Reads every stack file of the repository at `root` (or only `only`) through the config model.
 * The policy comes from the one stack whose role is `shared`; without exactly one, or when the
 * shared stack's config is refused, it throws (a rollout must not guess its failure budget). With
 * tenant stacks, exactly one stack must have the role `images` (it builds their backend image).
 */
export function loadFleet(root = REPO_ROOT, only?: readonly string[]): Fleet {
    const project = readProjectFile(root);
    const all = stackNames(root);
    const unknown = (only ?? []).filter((s) => !all.includes(s));
    if (unknown.length)
        throw new Error(
            `no stack file for ${unknown.join(", ")} (expected ${unknown.map((s) => `Pulumi.${s}.yaml`).join(", ")} in ${root})`,
        );

    const stacks: FleetStack[] = [];
    const invalid: Fleet["invalid"] = [];
    let policy: RolloutPolicy | undefined;
    const shared: string[] = [];
    const images: string[] = [];
    let tenants = 0;
    for (const name of all) {
        let config;
        try {
            config = parseStackConfig(rawStackConfig(name, { root, project }));
        } catch (e) {
            if (!(e instanceof ConfigError)) throw e;
            const role = rawStackConfig(name, { root, project }).values["stock:role"];
            if (role === "shared") {
                throw new Error(`the shared stack's rollout settings cannot be read:\n${e.message}`, { cause: e });
            }
            // Still the fleet's images stack: its problems are reported like any refused stack's.
            if (role === "images") images.push(name);
            if (!only || only.includes(name)) invalid.push({ stack: name, problems: e.problems });
            continue;
        }
        if (config.role === "shared") {
            shared.push(name);
            policy = config.rollout;
        }
        if (config.role === "images") images.push(name);
        if (config.role === "tenant") tenants++;
        if (!only || only.includes(name)) stacks.push({ name, role: config.role, wave: config.role === "tenant" ? config.rolloutWave : 0 });
    }
    if (shared.length !== 1 || !policy) {
        throw new Error(
            `expected exactly one stack with stock:role shared in ${root}, found ${shared.length ? shared.join(", ") : "none"}: its stock:rolloutBatchSize and stock:rolloutFailureBudget govern the rollout`,
        );
    }
    if (tenants > 0 && images.length !== 1) {
        throw new Error(
            `expected exactly one stack with stock:role images in ${root}, found ${images.length ? images.join(", ") : "none"}: it builds and pushes the backend image the tenant stacks deploy (README, "Deploy")`,
        );
    }
    return { policy, stacks, invalid };
}
