/**
 * What changed between two plans, per object and per field, the way a reviewer reads a pull
 * request: objects added or removed, and for changed objects each field with its old and new value.
 * Field differences come from jsondiffpatch (arrays of named items, such as containers or env, are
 * matched by name, not by position).
 */
import { Plan, PlannedObject, objectKey } from "./plan";

export interface FieldChange {
    op: "+" | "-" | "~";
    path: string;
    before?: unknown;
    after?: unknown;
}

export interface PlanDiff {
    added: PlannedObject[];
    removed: PlannedObject[];
    changed: { key: string; source: string; changes: FieldChange[] }[];
    /** Images and stack outputs. */
    stack: FieldChange[];
}

type Delta = any;
// jsondiffpatch is ESM-only; a real dynamic import keeps this CommonJS module able to load it.
// eslint-disable-next-line @typescript-eslint/no-implied-eval
const importEsm = new Function("specifier", "return import(specifier)") as (s: string) => Promise<any>;

async function differ() {
    const { create } = await importEsm("jsondiffpatch");
    return create({
        objectHash: (item: any, index?: number) =>
            item && typeof item === "object" && typeof item.name === "string"
                ? `name:${item.name}`
                : `index:${index}:${JSON.stringify(item)}`,
        arrays: { detectMove: false },
    });
}

function walk(delta: Delta, path: string, out: FieldChange[]): void {
    if (Array.isArray(delta)) {
        if (delta.length === 1) out.push({ op: "+", path, after: delta[0] });
        else if (delta.length === 2) out.push({ op: "~", path, before: delta[0], after: delta[1] });
        else if (delta.length === 3 && delta[2] === 0) out.push({ op: "-", path, before: delta[0] });
        return;
    }
    const isArray = delta._t === "a";
    for (const key of Object.keys(delta).sort()) {
        if (key === "_t") continue;
        const index = isArray ? key.replace(/^_/, "") : key;
        const child = isArray
            ? `${path}[${index}]`
            : /^[A-Za-z_$][\w$]*$/.test(key)
              ? path
                  ? `${path}.${key}`
                  : key
              : `${path}[${JSON.stringify(key)}]`;
        walk(delta[key], child, out);
    }
}

/** Field-level changes from `before` to `after`. */
export async function fieldChanges(before: unknown, after: unknown): Promise<FieldChange[]> {
    const delta = (await differ()).diff(before, after);
    const out: FieldChange[] = [];
    if (delta) walk(delta, "", out);
    return out;
}

export async function diffPlans(before: Plan, after: Plan): Promise<PlanDiff> {
    const index = (plan: Plan) => new Map(plan.objects.map((o) => [objectKey(o), o]));
    const old = index(before);
    const now = index(after);
    const changed: PlanDiff["changed"] = [];
    for (const [key, o] of now) {
        const previous = old.get(key);
        if (!previous) continue;
        const changes = await fieldChanges(previous.body, o.body);
        if (changes.length) changed.push({ key, source: o.source, changes });
    }
    return {
        added: [...now.keys()].filter((k) => !old.has(k)).map((k) => now.get(k)!),
        removed: [...old.keys()].filter((k) => !now.has(k)).map((k) => old.get(k)!),
        changed,
        stack: await fieldChanges({ images: before.images, outputs: before.outputs }, { images: after.images, outputs: after.outputs }),
    };
}

function show(value: unknown): string {
    const text = typeof value === "string" ? value : JSON.stringify(value);
    return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}

function formatChange(c: FieldChange): string {
    if (c.op === "~") return `    ~ ${c.path}: ${show(c.before)} -> ${show(c.after)}`;
    return `    ${c.op} ${c.path}: ${show(c.op === "+" ? c.after : c.before)}`;
}

export function isEmpty(diff: PlanDiff): boolean {
    return !diff.added.length && !diff.removed.length && !diff.changed.length && !diff.stack.length;
}

export function formatDiff(diff: PlanDiff, stack: string, ref: string): string {
    if (isEmpty(diff)) return `No changes for stack ${stack} against ${ref}.\n`;
    const out = [
        `Changes for stack ${stack} against ${ref}: ${diff.added.length} to add, ${diff.changed.length} to change, ${diff.removed.length} to delete`,
        "",
    ];
    for (const o of diff.added) out.push(`  + ${objectKey(o)}   (${o.source})`);
    for (const o of diff.removed) out.push(`  - ${objectKey(o)}   (${o.source})`);
    for (const c of diff.changed) out.push(`  ~ ${c.key}   (${c.source})`, ...c.changes.map(formatChange));
    if (diff.stack.length) out.push("  ~ images and stack outputs", ...diff.stack.map(formatChange));
    return out.join("\n") + "\n";
}
