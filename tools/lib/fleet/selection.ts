/**
 * Which stacks a fleet run touches, and in what order: every stack, the ones named by --stacks,
 * or the ones a change since a git ref can affect (--affected-by, through an injected function so
 * the runner does not depend on how "affected" is decided). The order and the halt rule come from
 * tools/lib/rollout.ts over the stack files' rollout settings.
 */
import { Fleet, RolloutStep, haltReason, loadFleet, planRollout } from "../rollout";
import { RolloutPlan, RolloutStepPlan } from "./runner";

/** The stacks a change since `ref` can affect, in the repository at `root`. */
export type AffectedStacks = (ref: string, root: string) => string[] | Promise<string[]>;

export interface SelectionRequest {
    /** --stacks a,b */
    stacks?: string[];
    /** --affected-by REF */
    affectedBy?: string;
}

export class SelectionError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "SelectionError";
    }
}

export interface Selection {
    fleet: Fleet;
    plan: RolloutPlan;
    /** How the stacks were chosen, for the log. */
    description: string;
}

/** Parses `a,b , c` into names, refusing an empty list or a name given twice. */
export function parseStackList(text: string): string[] {
    const names = text
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean);
    if (!names.length) throw new SelectionError("--stacks needs at least one stack name, e.g. --stacks shared,client-a");
    const twice = names.filter((n, i) => names.indexOf(n) !== i);
    if (twice.length) throw new SelectionError(`--stacks names ${[...new Set(twice)].join(", ")} twice`);
    return names;
}

export function rolloutPlanOf(fleet: Fleet): RolloutPlan {
    const planned = new Map<RolloutStepPlan, RolloutStep>();
    for (const step of planRollout(fleet.stacks, fleet.policy))
        planned.set({ wave: step.wave, label: step.label, stacks: step.stacks }, step);
    return {
        steps: [...planned.keys()],
        haltReason: (step, failedInStep, failedBefore, busyInStep) =>
            haltReason(planned.get(step)!, failedInStep, failedBefore, fleet.policy, busyInStep),
    };
}

/** The fleet and rollout plan of a request; every problem (unknown stack, refused stack file) before anything runs. */
export async function selectFleet(request: SelectionRequest, root: string, affected: AffectedStacks): Promise<Selection> {
    if (request.stacks && request.affectedBy) throw new SelectionError("give either --stacks or --affected-by, not both");
    let only: string[] | undefined;
    let description = "every stack";
    if (request.stacks) {
        only = request.stacks;
        description = `--stacks ${only.join(",")}`;
    } else if (request.affectedBy) {
        only = [...(await affected(request.affectedBy, root))].sort();
        description = `stacks affected since ${request.affectedBy}: ${only.length ? only.join(", ") : "none"}`;
    }
    let fleet: Fleet;
    try {
        fleet = loadFleet(root, only);
    } catch (e) {
        throw new SelectionError((e as Error).message);
    }
    if (fleet.invalid.length) {
        const problems = fleet.invalid.map((i) => `${i.stack}:\n${i.problems.map((p) => `  - ${p}`).join("\n")}`).join("\n");
        throw new SelectionError(
            `${fleet.invalid.length} stack file(s) are refused by the config model; fix them before a fleet run:\n${problems}`,
        );
    }
    return { fleet, plan: rolloutPlanOf(fleet), description };
}
