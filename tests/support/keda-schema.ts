/**
 * Validation of the KEDA objects charts/celery renders (ScaledObject, TriggerAuthentication) against
 * KEDA's own CRD schemas, kept as fixtures in tests/fixtures/keda/ (the openAPIV3Schema of each CRD of
 * the pinned release, unchanged), with the JSON-schema validator ajv.
 *
 * The API server does more than the schema's JSON-schema part, and so does this file, as strictly:
 *   * unknown fields: the API server prunes them silently from a CRD object (so a misspelt
 *     `minReplicaCounts` would deploy as if absent); here they are an error, as with
 *     `kubectl apply --validate=strict`: every object schema that lists `properties` and neither
 *     `additionalProperties` nor `x-kubernetes-preserve-unknown-fields` is closed;
 *   * `x-kubernetes-validations` (CEL): ajv cannot run CEL, so each rule the fixture carries is
 *     implemented below (CEL_RULES) and a rule the fixture has but this file does not know fails
 *     loading (a new KEDA release with new rules cannot pass unnoticed);
 *   * KEDA's admission webhook (apis/keda/v1alpha1/scaledobject_webhook.go and
 *     scaletriggers_types.go of the same release): the ScaledObject's name and the HPA name derived
 *     from it fit a label value (63), trigger names are unique, and min <= max replicas.
 * `format: int32` is checked as a 32-bit integer; `x-kubernetes-int-or-string` comes with an anyOf
 * that ajv checks; `x-kubernetes-list-type: atomic` needs no check.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import Ajv, { ValidateFunction } from "ajv";
import { parse } from "yaml";

const FIXTURES = path.join(__dirname, "..", "fixtures", "keda");

/** The KEDA release the fixtures come from (their header says so; checked when loading). */
export const KEDA_VERSION = "v2.20.2";
export const KEDA_API_VERSION = "keda.sh/v1alpha1";

const FIXTURE_FILES: Record<string, string> = {
    ScaledObject: "keda.sh_scaledobjects.v1alpha1.schema.yaml",
    TriggerAuthentication: "keda.sh_triggerauthentications.v1alpha1.schema.yaml",
};

/** apis/keda/v1alpha1: maxK8sLabelValueLength. */
const MAX_LABEL_VALUE = 63;

/** The ScaledObject's minReplicaCount and maxReplicaCount as the API server's CEL sees them. */
type Spec = { minReplicaCount?: number; maxReplicaCount?: number };

/** The CEL rules of the pinned CRDs, by their message, each implemented in TypeScript. */
const CEL_RULES: Record<string, { rule: string; holds: (self: Spec) => boolean }> = {
    "minReplicaCount must be less than or equal to maxReplicaCount": {
        rule: "!has(self.minReplicaCount) || self.minReplicaCount <= (has(self.maxReplicaCount) ? self.maxReplicaCount : 100)",
        holds: (self) => self.minReplicaCount === undefined || self.minReplicaCount <= (self.maxReplicaCount ?? 100),
    },
};

type Schema = Record<string, unknown>;
interface CelCheck {
    /** JSON pointer of the object the rule applies to, e.g. /spec. */
    at: string[];
    message: string;
    holds: (self: Spec) => boolean;
}

/** Closes object schemas and collects the CEL rules, walking only schema positions (never property names). */
function prepare(schema: Schema, at: string[], cel: CelCheck[]): Schema {
    const out: Schema = { ...schema };
    for (const key of Object.keys(out)) if (key.startsWith("x-kubernetes-")) delete out[key];
    const validations = schema["x-kubernetes-validations"] as Array<{ rule: string; message: string }> | undefined;
    for (const v of validations ?? []) {
        const known = CEL_RULES[v.message];
        if (!known || known.rule !== v.rule.replace(/\s+/g, " ")) {
            throw new Error(`tests/support/keda-schema.ts does not implement the CEL rule at /${at.join("/")}: ${v.rule} (${v.message})`);
        }
        cel.push({ at, message: v.message, holds: known.holds });
    }
    if (schema["x-kubernetes-int-or-string"] === true && !Array.isArray(schema.anyOf)) {
        throw new Error(`x-kubernetes-int-or-string without anyOf at /${at.join("/")}: ajv would not check it`);
    }
    if (out.properties) {
        const props = out.properties as Record<string, Schema>;
        out.properties = Object.fromEntries(Object.entries(props).map(([k, v]) => [k, prepare(v, [...at, k], cel)]));
        if (out.additionalProperties === undefined && schema["x-kubernetes-preserve-unknown-fields"] !== true)
            out.additionalProperties = false;
    }
    if (out.additionalProperties && typeof out.additionalProperties === "object")
        out.additionalProperties = prepare(out.additionalProperties as Schema, [...at, "*"], cel);
    if (out.items) out.items = prepare(out.items as Schema, [...at, "[]"], cel);
    for (const list of ["anyOf", "oneOf", "allOf"]) {
        if (Array.isArray(out[list])) out[list] = (out[list] as Schema[]).map((s) => prepare(s, at, cel));
    }
    return out;
}

interface KindSchema {
    validate: ValidateFunction;
    cel: CelCheck[];
}

let compiled: Map<string, KindSchema> | undefined;

function schemas(): Map<string, KindSchema> {
    if (compiled) return compiled;
    // strictTypes off: Kubernetes' int-or-string schemas put `pattern` beside an anyOf of integer and string.
    const ajv = new Ajv({ allErrors: true, strict: true, strictTypes: false });
    ajv.addFormat("int32", { type: "number", validate: (n: number) => Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 31 });
    ajv.addFormat("int64", { type: "number", validate: (n: number) => Number.isInteger(n) });
    ajv.addFormat("date-time", (s: string) => !Number.isNaN(Date.parse(s)));
    const kinds = new Map<string, KindSchema>();
    for (const [kind, file] of Object.entries(FIXTURE_FILES)) {
        const text = fs.readFileSync(path.join(FIXTURES, file), "utf8");
        if (!text.includes(`tag ${KEDA_VERSION},`)) throw new Error(`${file} is not the schema of KEDA ${KEDA_VERSION} (see its header)`);
        const cel: CelCheck[] = [];
        kinds.set(kind, { validate: ajv.compile(prepare(parse(text) as Schema, [], cel)), cel });
    }
    compiled = kinds;
    return kinds;
}

function at(obj: unknown, pointer: string[]): unknown {
    return pointer.reduce<unknown>((o, k) => (o && typeof o === "object" ? (o as Record<string, unknown>)[k] : undefined), obj);
}

/** The admission webhook's checks of a ScaledObject (those that need no cluster). */
function webhookProblems(obj: { metadata?: { name?: string }; spec?: Record<string, unknown> }): string[] {
    const problems: string[] = [];
    const name = obj.metadata?.name ?? "";
    if (name.length > MAX_LABEL_VALUE)
        problems.push(`scaledobject name ${JSON.stringify(name)} is longer than ${MAX_LABEL_VALUE} characters`);
    const advanced = obj.spec?.advanced as { horizontalPodAutoscalerConfig?: { name?: string } } | undefined;
    const hpaName = advanced?.horizontalPodAutoscalerConfig?.name || `keda-hpa-${name}`;
    if (hpaName.length > MAX_LABEL_VALUE) problems.push(`HPA name ${JSON.stringify(hpaName)} is longer than ${MAX_LABEL_VALUE} characters`);
    const triggers = (obj.spec?.triggers as Array<{ name?: string }> | undefined) ?? [];
    if (triggers.length === 0) problems.push("no triggers defined in the ScaledObject");
    const names = triggers.map((t) => t.name).filter((n): n is string => !!n);
    for (const n of names.filter((n, i) => names.indexOf(n) !== i))
        problems.push(`triggerName ${JSON.stringify(n)} is defined multiple times`);
    return problems;
}

/** True for the objects this file validates. */
export function isKedaObject(obj: { apiVersion?: unknown }): boolean {
    return obj.apiVersion === KEDA_API_VERSION;
}

/** Every problem of one KEDA object: schema (strict), CEL rules, admission webhook; [] when valid. */
export function kedaProblems(obj: { apiVersion?: unknown; kind?: unknown; metadata?: { name?: unknown } }): string[] {
    const schema = schemas().get(String(obj.kind));
    if (!schema)
        return [`${String(obj.apiVersion)} ${String(obj.kind)}: no KEDA ${KEDA_VERSION} schema for this kind in tests/fixtures/keda`];
    const problems: string[] = [];
    if (!schema.validate(obj)) {
        for (const e of schema.validate.errors ?? []) {
            const extra =
                e.keyword === "additionalProperties" ? ` (${String((e.params as { additionalProperty: string }).additionalProperty)})` : "";
            problems.push(`${e.instancePath || "/"} ${e.message ?? e.keyword}${extra}`);
        }
    }
    for (const rule of schema.cel) {
        const self = at(obj, rule.at);
        if (self && typeof self === "object" && !rule.holds(self)) problems.push(`/${rule.at.join("/")}: ${rule.message}`);
    }
    if (obj.kind === "ScaledObject") problems.push(...webhookProblems(obj as Parameters<typeof webhookProblems>[0]));
    return problems;
}
