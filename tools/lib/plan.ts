/**
 * An offline plan of what `pulumi up` would create for a stack: the real program under Pulumi's
 * mocks (the same harness as the tests), the charts rendered by the real helm binary with the exact
 * values the program computes. No cluster, registry or Pulumi CLI is touched. Secret values are
 * never printed: they show as [secret].
 */
import * as path from "path";
import { K8sObject, helmTemplate } from "./helm";
import { SECRET_BUILD_ARGS } from "../../components/tenant/images";
import { IMAGE_TYPE, ProgramRun, RecordedResource, UNKNOWN, fakeRegistry, reveal, runProgram, unwrapSecret } from "./mock-run";
import { imagesStackOf } from "../../components/images/images-stack";
import { parseStackConfig } from "../../components/config";
import { LoadOptions, REPO_ROOT, rawStackConfig } from "./stack-files";

export const SECRET = "[secret]";
export const UNKNOWN_UNTIL_UP = "[unknown until up]";

/** One Kubernetes object the stack would create, from the program itself or from one of its charts. */
export interface PlannedObject {
    apiVersion: string;
    kind: string;
    name: string;
    namespace: string;
    /** `program` or `chart <release>`. */
    source: string;
    body: Record<string, unknown>;
}

export interface Plan {
    stack: string;
    role: string;
    /** Every Pulumi resource the program registers: type and name. */
    resources: { type: string; name: string }[];
    objects: PlannedObject[];
    /** Remote charts (OCI) that helm.v4.Chart renders at preview time but that cannot be fetched offline. */
    unrendered: { name: string; chart: string; version: string; namespace: string }[];
    images: { name: string; image: string; context: string; buildArgs: Record<string, string>; secrets: string[] }[];
    /** A tenant's backend image: never built by the tenant, but by the images stack named here. */
    backend?: { image: string; context: string; builtBy: string };
    outputs: Record<string, unknown>;
    /** Required secrets the stack does not set: filled with placeholders here, refused by `pulumi up`. */
    missingSecrets: string[];
    /** What the config model accepted but warns about. */
    warnings: string[];
}

/** Replaces secret envelopes with [secret] and unknowns with [unknown until up]. */
export function redact(value: any): any {
    const { value: inner, secret } = unwrapSecret(value);
    if (secret) return SECRET;
    if (inner === UNKNOWN || (inner && typeof inner === "object" && inner.__pulumiUnknown)) return UNKNOWN_UNTIL_UP;
    if (Array.isArray(inner)) return inner.map(redact);
    if (inner && typeof inner === "object") return Object.fromEntries(Object.entries(inner).map(([k, v]) => [k, redact(v)]));
    return inner;
}

function objectFromProgram(r: RecordedResource): PlannedObject | undefined {
    const body = redact(r.inputs);
    if (!r.type.startsWith("kubernetes:") || !r.custom || !body.kind) return undefined;
    if (body.kind === "Secret") {
        const revealed = reveal(r.inputs);
        for (const field of ["data", "stringData"]) {
            const keys =
                revealed[field] && typeof revealed[field] === "object" && !revealed[field].__pulumiUnknown
                    ? Object.keys(revealed[field])
                    : undefined;
            if (keys) body[field] = Object.fromEntries(keys.map((k) => [k, SECRET]));
            else if (body[field]) body[field] = SECRET;
        }
    }
    return {
        apiVersion: body.apiVersion,
        kind: body.kind,
        name: body.metadata?.name ?? r.name,
        namespace: body.metadata?.namespace ?? "",
        source: "program",
        body,
    };
}

async function renderLocalChart(r: RecordedResource): Promise<PlannedObject[]> {
    const { chart, name, namespace, values } = r.inputs;
    const objects: K8sObject[] = await helmTemplate(chart, redact(values), { releaseName: name, namespace });
    return objects.map((o) => ({
        apiVersion: o.apiVersion,
        kind: o.kind,
        name: o.metadata.name,
        namespace: o.metadata.namespace ?? namespace,
        source: `chart ${name}`,
        body: o,
    }));
}

export interface PlanOptions extends LoadOptions {
    /** Tree holding index.ts, the stack files and charts (default: this repository). */
    root?: string;
}

export async function buildPlan(stack: string, options: PlanOptions = {}): Promise<Plan> {
    const root = options.root ?? REPO_ROOT;
    const role = rawStackConfig(stack, { ...options, root }).values["stock:role"];
    // Offline, nothing is asked of Harbor: the images stack is planned as if Harbor had none of its
    // tags (everything it would build), a tenant as if the images stack had run (no warning).
    const run: ProgramRun = await runProgram(stack, { ...options, root, tagLookup: role === "images" ? fakeRegistry().lookup : undefined });
    const objects: PlannedObject[] = [];
    const unrendered: Plan["unrendered"] = [];
    for (const r of run.resources) {
        const fromProgram = objectFromProgram(r);
        if (fromProgram) objects.push(fromProgram);
    }
    const charts = run.ofType("kubernetes:helm.sh/v4:Chart");
    const rendered = await Promise.all(
        charts.map((c) => (String(c.inputs.chart).startsWith("oci://") ? Promise.resolve(undefined) : renderLocalChart(c))),
    );
    charts.forEach((c, i) => {
        if (rendered[i]) objects.push(...rendered[i]);
        else unrendered.push({ name: c.inputs.name, chart: c.inputs.chart, version: c.inputs.version, namespace: c.inputs.namespace });
    });
    const images = run.ofType(IMAGE_TYPE).map((i) => {
        const inputs = reveal(i.inputs);
        const buildArgs: Record<string, string> = Object.fromEntries(
            Object.entries(inputs.buildArgs ?? {}).map(([k, v]) => [k, SECRET_BUILD_ARGS.includes(k) ? SECRET : String(v)]),
        );
        // BuildKit secrets by id only: their values never reach the plan.
        const secrets = Object.keys(inputs.secrets ?? {}).sort();
        return {
            name: i.name.replace(/^.*-images-/, ""),
            image: redact(i.inputs.tags?.[0]),
            context: path.relative(root, path.resolve(inputs.context?.location ?? "")),
            buildArgs,
            secrets,
        };
    });
    const outputs = Object.fromEntries(
        Object.entries(run.outputs).map(([k, v]) => [k, run.secretOutputs.includes(k) ? SECRET : redact(v)]),
    );
    const raw = rawStackConfig(stack, { ...options, root });
    const config = parseStackConfig(raw);
    const backend =
        config.role === "tenant" && typeof run.outputs.backendImage === "string"
            ? {
                  image: run.outputs.backendImage,
                  context: path.relative(root, path.resolve(root, config.images.backend.source)),
                  builtBy: imagesStackOf(root)?.stack ?? "images",
              }
            : undefined;
    return {
        stack,
        role: raw.values["stock:role"],
        backend,
        missingSecrets: raw.placeholders,
        warnings: config.warnings,
        resources: run.resources.map((r) => ({ type: r.type, name: r.name })),
        objects: objects.sort((a, b) => objectKey(a).localeCompare(objectKey(b))),
        unrendered,
        images,
        outputs,
    };
}

/** Identity of an object across plans. */
export function objectKey(o: Pick<PlannedObject, "apiVersion" | "kind" | "namespace" | "name">): string {
    return `${o.apiVersion}/${o.kind} ${o.namespace ? `${o.namespace}/` : ""}${o.name}`;
}

function table(rows: string[][]): string[] {
    if (rows.length === 0) return [];
    const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
    return rows.map(
        (r) =>
            "  " +
            r
                .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i])))
                .join("   ")
                .trimEnd(),
    );
}

export function formatPlan(plan: Plan): string {
    const out: string[] = [
        `Plan for stack ${plan.stack} (${plan.role}): offline, from Pulumi mocks and helm template; no cluster or registry touched.`,
        "",
    ];
    if (plan.backend) {
        out.push(
            `Backend image (built and pushed by stack ${plan.backend.builtBy}, Pulumi.${plan.backend.builtBy}.yaml, never by this stack; \`pulumi up\` first checks that Harbor has it)`,
        );
        out.push(...table([["backend", plan.backend.image, `context ${plan.backend.context}`]]), "");
    }
    if (plan.images.length) {
        out.push(
            plan.role === "images"
                ? "Images (built and pushed by `pulumi up` when Harbor does not have the tag yet; a preview never builds or pushes)"
                : "Images (built and pushed by `pulumi up`; a preview never builds or pushes)",
        );
        out.push(
            ...table(
                plan.images.map((i) => [
                    i.name,
                    i.image,
                    `context ${i.context}`,
                    [...Object.entries(i.buildArgs).map(([k, v]) => `${k}=${v}`), ...i.secrets.map((id) => `secret ${id}=${SECRET}`)].join(
                        " ",
                    ),
                ]),
            ),
        );
        out.push("");
    }
    if (typeof plan.outputs.frontendUrl === "string") {
        out.push(
            "Hosts",
            ...table([
                ["frontend", String(plan.outputs.frontendUrl)],
                ["api", String(plan.outputs.apiUrl)],
            ]),
            "",
        );
    }
    if (typeof plan.outputs.frontendDotenv === "string") {
        out.push(
            "Frontend dotenv (written into the staged build context)",
            ...plan.outputs.frontendDotenv
                .trimEnd()
                .split("\n")
                .map((l) => `  ${l}`),
            "",
        );
    }
    out.push(`Pulumi resources (${plan.resources.length})`, ...table(plan.resources.map((r) => ["+", r.type, r.name])), "");
    out.push(
        `Kubernetes objects (${plan.objects.length})`,
        ...table(
            plan.objects.map((o) => ["+", `${o.apiVersion}/${o.kind}`, o.namespace ? `${o.namespace}/${o.name}` : o.name, `(${o.source})`]),
        ),
    );
    for (const u of plan.unrendered)
        out.push(
            `  + objects of ${u.chart} ${u.version} in ${u.namespace}   (remote chart: rendered by helm.v4.Chart at preview, not offline)`,
        );
    out.push("", "Stack outputs");
    for (const [k, v] of Object.entries(plan.outputs)) {
        if (k === "nginxServerBlock" || k === "frontendDotenv") continue;
        out.push(`  ${k} = ${typeof v === "string" ? v : JSON.stringify(v)}`);
    }
    if (plan.missingSecrets.length) {
        out.push(
            "",
            `Secrets not set for stack ${plan.stack} (placeholders in this plan; \`pulumi up\` refuses the stack until each is set)`,
        );
        out.push(...table(plan.missingSecrets.map((k) => [k, `pulumi config set --secret ${k} -s ${plan.stack}`])));
    }
    if (plan.warnings.length) out.push("", "Warnings", ...plan.warnings.map((w) => `  - ${w}`));
    if (typeof plan.outputs.nginxServerBlock === "string") {
        out.push(
            "",
            "External nginx load balancer: add this server block and reload nginx",
            ...plan.outputs.nginxServerBlock
                .trimEnd()
                .split("\n")
                .map((l) => `  ${l}`),
        );
    }
    return out.join("\n") + "\n";
}
