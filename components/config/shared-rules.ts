/** Rules across the shared stack's keys: the tenant list and the Redis users. */
import { PROJECT, RESERVED_NAMESPACES, parseTenantEntry } from "./shapes";
import { KeyName, KeyValue } from "./keys";
import { Checked } from "./parse-keys";

/** Rules across the shared stack's keys; returns the tenants and which stack deploys each. */
export function sharedRules(
    get: <K extends KeyName>(k: K) => KeyValue<K>,
    stack: string,
    file: string,
    checked: Checked,
): { tenants: string[]; tenantStacks: Record<string, string> } {
    const prefix = `${PROJECT}:`;
    const entries = get("tenants").map(parseTenantEntry);
    const tenants = entries.map((e) => e.tenant);
    const duplicates = [...new Set(tenants.filter((t, i) => tenants.indexOf(t) !== i))];
    if (duplicates.length)
        checked.problems.push(
            `${prefix}tenants in ${file} lists ${duplicates.join(", ")} more than once. Fix: delete the repeated line(s) from ${prefix}tenants in ${file}, keeping one entry per tenant`,
        );
    const reserved = tenants.filter((t) => RESERVED_NAMESPACES.includes(t));
    if (reserved.length)
        checked.problems.push(
            `${prefix}tenants in ${file} contains reserved name(s) ${reserved.join(", ")}. Fix: rename the entry in ${file} to the customer's name, which must not be one of ${RESERVED_NAMESPACES.join(", ")}`,
        );
    const unique = entries.filter((e, i) => tenants.indexOf(e.tenant) === i);
    const stacks = unique.map((e) => e.stack);
    for (const s of [...new Set(stacks.filter((x, i) => stacks.indexOf(x) !== i))]) {
        const owners = unique.filter((e) => e.stack === s).map((e) => e.tenant);
        checked.problems.push(
            `${prefix}tenants in ${file} has stack '${s}' deploy ${owners.join(" and ")}, but a stack deploys exactly one tenant. Fix: give each of them its own stack: write '${owners[1]}' (deployed by stack ${owners[1]}) or '${owners[1]}@<its stack>' in ${file}`,
        );
    }
    if (stacks.includes(stack))
        checked.problems.push(
            `${prefix}tenants in ${file} has this shared stack '${stack}' deploy a tenant. Fix: write the tenant's own stack after its name, '<tenant>@<its stack>', in ${file}`,
        );
    const generations = get("redisPasswordGenerations") ?? {};
    const strangers = Object.keys(generations).filter((u) => u !== "default" && !tenants.includes(u));
    if (strangers.length)
        checked.problems.push(
            `${prefix}redisPasswordGenerations in ${file} names ${strangers.join(", ")}, which is neither 'default' nor in ${prefix}tenants. Fix: remove it from ${prefix}redisPasswordGenerations in ${file}, or add the tenant to ${prefix}tenants`,
        );
    return { tenants, tenantStacks: Object.fromEntries(entries.map((e) => [e.tenant, e.stack])) };
}
