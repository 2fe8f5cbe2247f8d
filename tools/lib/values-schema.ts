/**
 * The post-step that turns readme-generator-for-helm's schema output into a chart's
 * values.schema.json. Pure functions over plain JSON; tools/lib/chart-schema.ts reads the files.
 *
 * 1. completeFromDefaults: what the generator loses, from the values.yaml defaults: the `[object]`
 *    params it drops, the items of lists (it types every `[array]` param's items as strings),
 *    integers (it says "number"), and the strictness a default implies: an object with keys is
 *    closed (`additionalProperties: false`) and requires them (helm validates the values merged
 *    with the defaults, so a default key is missing only when someone set it to null).
 * 2. applyRules: the strictness no default can say (enums, patterns, minimums, maps, Kubernetes
 *    objects passed through), declared in schema.rules.yaml files keyed by value path.
 * 3. schemaProblems: every object must be closed or declared open, every list must type its
 *    items, every value must have a type; a `{}` or `[]` default needs a rule to say what it takes.
 */
export type Schema = Record<string, any>;

/** A rule: JSON-schema keywords, the name of a fragment, or a list of both (merged in order). */
export type Rule = string | Schema | (string | Schema)[];

/** One schema.rules.yaml: rules by value path, fragments they may name, and keywords per type. */
export interface RulesFile {
    /** The file, as messages name it (e.g. charts/celery/schema.rules.yaml). */
    file: string;
    fragments?: Record<string, Schema>;
    /** Keywords every value of a type gets unless it says otherwise, e.g. integer: {minimum: 0}. */
    types?: Record<string, Schema>;
    rules?: Record<string, Rule>;
}

/** The JSON-schema keywords a rule may use (a misspelt keyword would be ignored by helm, so it is refused), and `sameAs`. */
const KEYWORDS = new Set([
    ...["type", "description", "enum", "const", "not", "if", "then", "else", "allOf", "anyOf", "oneOf"],
    ...["pattern", "minLength", "maxLength", "minimum", "maximum"],
    ...["items", "minItems", "maxItems", "uniqueItems", "properties", "additionalProperties", "required"],
    // Takes the finished schema of another value path (its defaults left out) as the base of this one.
    "sameAs",
]);

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const clone = <T>(v: T): T => structuredClone(v);

/** "object", "array", "string", ... of a default value. */
function kindOf(value: unknown): string {
    if (Array.isArray(value)) return "array";
    if (value === null) return "null";
    if (typeof value === "number") return Number.isInteger(value) ? "integer" : "number";
    return typeof value;
}

/** One example item made of all of a list's items: the union of their keys, the items of their lists. */
function mergedExample(examples: unknown[], path: string): unknown {
    if (examples.every(isObject)) {
        const keys = [...new Set(examples.flatMap((e) => Object.keys(e)))];
        const values = (k: string) => examples.filter((e) => k in e).map((e) => e[k]);
        return Object.fromEntries(
            keys.map((k) => [k, values(k).every(Array.isArray) ? values(k).flat() : mergedExample(values(k), `${path}.${k}`)]),
        );
    }
    const kinds = new Set(examples.map(kindOf));
    if (kinds.size > 1) throw new Error(`${path}: the default's items mix ${[...kinds].join(" and ")}; give them one type`);
    return examples[0];
}

/**
 * The schema of one value from its default, on the generator's node for it when there is one
 * (its description and default are kept, the default corrected: the generator writes "[]" for
 * `[array]` params). `described` supplies the description of params the generator dropped.
 */
function fromDefault(gen: Schema | undefined, value: unknown, path: string, described: Map<string, string>, inList: boolean): Schema {
    const kind = kindOf(value);
    if (kind === "null" || kind === "undefined") throw new Error(`${path}: a null default has no type; give it one`);
    const node: Schema = { type: kind };
    const description = (gen?.description as string | undefined) ?? described.get(path);
    if (description !== undefined) node.description = description;
    if (!inList && (gen !== undefined ? "default" in gen : described.has(path))) node.default = clone(value);
    if (Array.isArray(value)) {
        if (value.length > 0) node.items = fromDefault(undefined, mergedExample(value, `${path}[]`), `${path}[]`, described, true);
    } else if (isObject(value)) {
        const keys = Object.keys(value);
        if (keys.length > 0) {
            const props = gen?.properties as Schema | undefined;
            node.properties = Object.fromEntries(
                keys.map((k) => [k, fromDefault(props?.[k], value[k], `${path}.${k}`, described, inList)]),
            );
            node.additionalProperties = false;
            // Items of a list are examples, not defaults merged into the user's values.
            if (!inList) node.required = keys;
        }
    }
    return node;
}

/** Step 1: the generator's schema completed from the values.yaml defaults. */
export function completeFromDefaults(generated: Schema, values: Record<string, unknown>, described: Map<string, string>): Schema {
    const props = generated.properties as Schema | undefined;
    const keys = Object.keys(values);
    return {
        type: "object",
        additionalProperties: false,
        required: keys,
        properties: Object.fromEntries(keys.map((k) => [k, fromDefault(props?.[k], values[k], k, described, false)])),
    };
}

/** Every node of a schema with its value path ("a.b", "list[]" for an item of list). */
export function* schemaNodes(schema: Schema, path = ""): Generator<[string, Schema]> {
    if (path !== "") yield [path, schema];
    for (const [key, child] of Object.entries((schema.properties ?? {}) as Schema))
        yield* schemaNodes(child, path ? `${path}.${key}` : key);
    if (isObject(schema.items)) yield* schemaNodes(schema.items, `${path}[]`);
}

/** A rule's key as a matcher of value paths: `*` stands for any part of one key, `**` for anything, `{a,b}` for a or b. */
export function pathMatcher(glob: string): RegExp {
    const parts = glob.split(/(\*\*|\*|\{[^}]*\})/).map((p) => {
        if (p === "**") return ".*";
        if (p === "*") return "[^.]*";
        const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
        return p.startsWith("{") ? `(?:${p.slice(1, -1).split(",").map(escape).join("|")})` : escape(p);
    });
    return new RegExp(`^${parts.join("")}$`);
}

/** A rule as plain keywords: fragment names replaced by the fragment, here and in the sub-schemas of properties and items. */
function resolved(rule: Rule, fragments: Record<string, Schema>, where: string, problems: string[]): Schema {
    if (typeof rule === "string") {
        const fragment = fragments[rule];
        if (fragment === undefined) {
            problems.push(`${where}: no fragment named "${rule}" (known: ${Object.keys(fragments).join(", ")})`);
            return {};
        }
        return resolved(fragment, fragments, `${where} (fragment ${rule})`, problems);
    }
    if (Array.isArray(rule)) return rule.reduce<Schema>((acc, r) => mergeInto(acc, resolved(r, fragments, where, problems)), {});
    const out: Schema = {};
    for (const [keyword, value] of Object.entries(rule)) {
        if (!KEYWORDS.has(keyword)) problems.push(`${where}: unknown keyword "${keyword}"`);
        if (keyword === "properties")
            out.properties = Object.fromEntries(
                Object.entries(value as Schema).map(([k, v]) => [k, resolved(v as Rule, fragments, `${where}.properties.${k}`, problems)]),
            );
        else if (
            (keyword === "items" || keyword === "additionalProperties") &&
            (typeof value === "string" || isObject(value) || Array.isArray(value))
        )
            out[keyword] = resolved(value as Rule, fragments, `${where}.${keyword}`, problems);
        else out[keyword] = value;
    }
    return out;
}

/**
 * Merges a rule's keywords into a node (and returns it): keywords replace the node's, `properties`
 * and `items` merge key by key, and `additionalProperties` other than false declares a map or a
 * Kubernetes object, so the properties and required keys inferred from the example default go.
 */
export function mergeInto(node: Schema, rule: Schema): Schema {
    if ("additionalProperties" in rule && rule.additionalProperties !== false) {
        delete node.properties;
        delete node.required;
    }
    for (const [keyword, value] of Object.entries(rule)) {
        if (keyword === "properties") {
            const props = (node.properties ??= {}) as Schema;
            for (const [k, v] of Object.entries(value as Schema)) props[k] = mergeInto(props[k] ?? {}, v);
        } else if (keyword === "items" && isObject(value) && isObject(node.items)) node.items = mergeInto(node.items, value);
        else node[keyword] = clone(value);
    }
    return node;
}

/** The rules of one file merged into the schema (in place); returns the rules that matched no value. */
function applyFile(schema: Schema, file: RulesFile, fragments: Record<string, Schema>, problems: string[]): string[] {
    const unmatched: string[] = [];
    for (const [glob, rule] of Object.entries(file.rules ?? {})) {
        const keywords = resolved(rule, fragments, `${file.file}: "${glob}"`, problems);
        const matcher = pathMatcher(glob);
        const targets = [...schemaNodes(schema)].filter(([path]) => matcher.test(path));
        if (targets.length === 0) unmatched.push(glob);
        for (const [, node] of targets) mergeInto(node, clone(keywords));
    }
    return unmatched;
}

/** The node at an exact value path, or undefined. */
function nodeAt(schema: Schema, path: string): Schema | undefined {
    for (const [p, node] of schemaNodes(schema)) if (p === path) return node;
    return undefined;
}

function withoutDefaults(schema: Schema): Schema {
    const out = clone(schema);
    for (const node of [out, ...[...schemaNodes(out)].map(([, n]) => n)]) delete node.default;
    return out;
}

/** `sameAs: <path>`: the node becomes the finished schema at that path, its own keywords merged over. */
function resolveSameAs(schema: Schema, problems: string[]): void {
    for (const [path, node] of [...schemaNodes(schema)]) {
        if (node.sameAs === undefined) continue;
        const { sameAs, ...own } = node as { sameAs: string };
        const target = nodeAt(schema, sameAs);
        if (target === undefined || target === node) {
            problems.push(`${path}: sameAs "${sameAs}" names no other value`);
            continue;
        }
        for (const k of Object.keys(node)) delete node[k];
        Object.assign(node, mergeInto(withoutDefaults(target), own));
    }
}

/** Keywords per type (types: integer: {minimum: 0}) added to every value of that type that lacks them. */
function applyTypeDefaults(schema: Schema, types: Record<string, Schema>): void {
    for (const [, node] of schemaNodes(schema)) {
        const extra = typeof node.type === "string" ? types[node.type] : undefined;
        for (const [k, v] of Object.entries(extra ?? {})) if (!(k in node)) node[k] = clone(v);
    }
}

/** Steps 2 and 3: the rules of each file, in order (later files refine earlier ones), then sameAs and the type defaults. */
export function applyRules(schema: Schema, files: RulesFile[]): { schema: Schema; unmatched: Map<string, string[]>; problems: string[] } {
    const out = clone(schema);
    const problems: string[] = [];
    const fragments = Object.assign({}, ...files.map((f) => f.fragments ?? {})) as Record<string, Schema>;
    const unmatched = new Map(files.map((f) => [f.file, applyFile(out, f, fragments, problems)]));
    resolveSameAs(out, problems);
    applyTypeDefaults(out, Object.assign({}, ...files.map((f) => f.types ?? {})) as Record<string, Schema>);
    // `required: []` only undoes the inferred list.
    for (const [, node] of schemaNodes(out)) if (Array.isArray(node.required) && node.required.length === 0) delete node.required;
    return { schema: out, unmatched, problems };
}

/** What keeps a schema from being complete: a value without a type, an object neither closed nor declared open, a list with untyped items. */
export function schemaProblems(schema: Schema): string[] {
    const problems: string[] = [];
    for (const [path, node] of schemaNodes(schema)) {
        const types: unknown[] = Array.isArray(node.type) ? node.type : [node.type];
        if (node.type === undefined && !["enum", "const", "oneOf", "anyOf"].some((k) => k in node)) problems.push(`${path} has no type`);
        if (types.includes("object") && !("additionalProperties" in node))
            problems.push(
                `${path} defaults to {}: which keys it takes cannot be inferred (close it with properties, or declare a map or a Kubernetes object)`,
            );
        if (types.includes("array") && !isObject(node.items))
            problems.push(`${path} defaults to []: the type of its items cannot be inferred`);
    }
    return problems;
}
