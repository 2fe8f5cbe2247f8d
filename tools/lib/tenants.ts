/**
 * Onboarding and offboarding a customer as file edits: the tenant's stack file and its name in the
 * shared stack's `stock:tenants` (its frontend dotenv is computed by the program; its backend image
 * is the images stack's, which must build the tenant's backend source). Every file is checked with the program's own
 * config model before anything is written, so `tenant add` can never write a stack file the
 * program would refuse. YAML is edited with the `yaml` Document API, which keeps the comments.
 */
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import {
    ConfigError,
    PROJECT,
    RESERVED_NAMESPACES,
    TenantConfig,
    isDnsLabel,
    parseStackConfig,
    parseTenantEntry,
    stackFile,
} from "../../components/config";
import { frontendDotenv } from "../../components/tenant/frontend-env";
import { nginxServerBlock } from "../../components/tenant/nginx";
import { checkTenantSources } from "../../components/program";
import { RESERVED_REDIS_USERS } from "../../components/redis/acl";
import { backendImageProblems, imagesStackOf, imagesStacksIn } from "../../components/images/images-stack";
import { REPO_ROOT, rawStackConfig, readProjectFile, requiredSecrets, stackNames } from "./stack-files";

/** The stack that holds `stock:tenants`. */
export const SHARED_STACK = "shared";
/** The stack that builds the backend image every tenant deploys (Pulumi.images.yaml). */
export const IMAGES_STACK = "images";
const TENANTS_KEY = `${PROJECT}:tenants`;

/** Names no tenant may have: Kubernetes' and the shared stack's namespaces, Redis' own users, the shared and images stacks. */
export const RESERVED_TENANT_NAMES: readonly string[] = [
    ...new Set([...RESERVED_NAMESPACES, ...RESERVED_REDIS_USERS, SHARED_STACK, IMAGES_STACK]),
];

/** A refusal the CLI prints as is (exit 1); every one says what to do instead. */
export class TenantError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "TenantError";
    }
}

export interface AddOptions {
    tenant: string;
    host: string;
    /** BUILD_FOR, the dotenv the program writes under `envs/` of the staged frontend context; default: the tenant's name. */
    buildFor?: string;
    /** `stock:rolloutWave`; default 1 (0 = canary). */
    wave?: number;
    /** Defaults `stock_<tenant>` (MySQL allows 64 and 32 characters). */
    dbName?: string;
    dbUser?: string;
}

/** A file to write (`content`) or delete (`content: undefined`), relative to the repository. */
export interface FileChange {
    file: string;
    content: string | undefined;
}

export interface AddPlan {
    changes: FileChange[];
    /** The tenant as the program will see it. */
    config: TenantConfig;
    /** What the operator still has to do, in order. */
    nextSteps: string;
}

function refuseName(name: string): string | undefined {
    if (!isDnsLabel(name))
        return `'${name}' is not a valid tenant name: it must be a DNS-1123 label (lower-case letters, digits and '-', at most 63 characters, starting and ending with a letter or digit), e.g. client-d`;
    if (RESERVED_TENANT_NAMES.includes(name))
        return `'${name}' is a reserved name (${RESERVED_TENANT_NAMES.join(", ")}); pick another tenant name`;
    return undefined;
}

const read = (root: string, file: string) => fs.readFileSync(path.join(root, file), "utf8");

function sharedDocument(root: string): YAML.Document {
    const file = stackFile(SHARED_STACK);
    if (!fs.existsSync(path.join(root, file))) throw new TenantError(`${file} is missing in ${root}: the shared stack lists the tenants`);
    return YAML.parseDocument(read(root, file));
}

/** `stock:tenants` of the shared stack file as written (not the project default). */
export function listedTenants(root = REPO_ROOT): string[] {
    const value = sharedDocument(root).getIn(["config", TENANTS_KEY]);
    // An entry is `<tenant>` or `<tenant>@<stack>` (components/config/shapes.ts, parseTenantEntry).
    return YAML.isSeq(value) ? value.items.map((i) => parseTenantEntry(String(YAML.isScalar(i) ? i.value : i)).tenant) : [];
}

/** The shared stack file with `tenant` appended to `stock:tenants`, comments kept. */
export function withTenantListed(text: string, tenant: string): string {
    const doc = YAML.parseDocument(text);
    const seq = doc.getIn(["config", TENANTS_KEY], true);
    if (YAML.isSeq(seq)) seq.add(doc.createNode(tenant));
    else doc.setIn(["config", TENANTS_KEY], doc.createNode([tenant]));
    return doc.toString();
}

/** The shared stack file without `tenant` in `stock:tenants` or `stock:redisPasswordGenerations`, comments kept. */
export function withTenantUnlisted(text: string, tenant: string): string {
    const doc = YAML.parseDocument(text);
    const seq = doc.getIn(["config", TENANTS_KEY], true);
    if (YAML.isSeq(seq)) seq.items = seq.items.filter((i) => parseTenantEntry(String(YAML.isScalar(i) ? i.value : i)).tenant !== tenant);
    const generations = doc.getIn(["config", `${PROJECT}:redisPasswordGenerations`], true);
    if (YAML.isMap(generations) && generations.has(tenant)) generations.delete(tenant);
    return doc.toString();
}

const mysqlName = (tenant: string) => `stock_${tenant.replace(/-/g, "_")}`;

/** The comment block of a new stack file: where its values come from and the commands for its secrets. */
function header(tenant: string, secrets: string[]): string {
    return [
        ` Customer ${tenant}, onboarded with \`npm run tenant -- add\`. Everything not set here comes from`,
        ` Pulumi.yaml (README.md, Configuration). Secrets live only in the Pulumi backend, set with:`,
        ...secrets.map((k) => `   pulumi config set --secret ${k} -s ${tenant}`),
    ].join("\n");
}

const KEY_COMMENTS: Record<string, string> = {
    tenant: " its namespace, Redis user and key prefix",
    host: " the frontend at /, the API at /api; DNS must point it at the external load balancer",
    buildFor: " the program writes envs/<buildFor> (REACT_APP_HOST_URL) into the staged frontend build context",
    dbName: " on the external MySQL (stock:dbHost)",
    harborPullUsername: " a pull-only robot in Harbor, for the image-pull Secret",
    rolloutWave: " 0 = canary: deployed first, and any failure halts the rollout",
};

/** The complete, commented stack file of a new tenant. */
export function tenantStackFile(values: Record<string, string | number>, tenant: string, secrets: string[]): string {
    const doc = new YAML.Document({ config: values });
    doc.commentBefore = header(tenant, secrets);
    const config = doc.get("config", true) as YAML.YAMLMap<YAML.Scalar, YAML.Scalar>;
    for (const pair of config.items) {
        const comment = KEY_COMMENTS[String(pair.key.value).replace(`${PROJECT}:`, "")];
        if (comment) pair.key.commentBefore = comment;
    }
    return doc.toString();
}

function validate(stack: string, root: string, text: string) {
    try {
        return parseStackConfig(rawStackConfig(stack, { root, stackFileText: text }));
    } catch (e) {
        if (e instanceof ConfigError)
            throw new TenantError(`refusing to write ${stackFile(stack)}: the program would refuse it.\n${e.message}`);
        throw e;
    }
}

/** Relative path of the tenant's frontend dotenv, when the frontend source lives in the repository. */
function dotenvFile(root: string, config: TenantConfig): string | undefined {
    const dir = path.resolve(root, config.images.frontend.source);
    const rel = path.relative(root, path.join(dir, "envs", config.buildFor));
    return rel.startsWith("..") || path.isAbsolute(rel) ? undefined : rel.split(path.sep).join("/");
}

type TenantStack = { stack: string; config?: TenantConfig; problems?: string[] };

/** Every tenant stack in the repository with its config, or its problems (the model's, then the file system's). */
function tenantStacks(root: string): TenantStack[] {
    const project = readProjectFile(root);
    return stackNames(root).flatMap((stack): TenantStack[] => {
        const raw = rawStackConfig(stack, { root, project });
        if (raw.values[`${PROJECT}:role`] !== "tenant") return [];
        try {
            const config = parseStackConfig(raw);
            if (config.role !== "tenant") return [];
            const sources = {
                backend: path.resolve(root, config.images.backend.source),
                frontend: path.resolve(root, config.images.frontend.source),
            };
            const problems = checkTenantSources(config, sources, root);
            return [problems.length ? { stack, config, problems } : { stack, config }];
        } catch (e) {
            if (e instanceof ConfigError) return [{ stack, problems: e.problems }];
            throw e;
        }
    });
}

/** Everything `tenant add` would write, checked; nothing is written. */
export function planAdd(options: AddOptions, root = REPO_ROOT): AddPlan {
    const { tenant, host } = options;
    const nameProblem = refuseName(tenant);
    if (nameProblem) throw new TenantError(nameProblem);
    const file = stackFile(tenant);
    if (fs.existsSync(path.join(root, file)))
        throw new TenantError(`${file} already exists: tenant ${tenant} is onboarded (npm run tenant -- list)`);
    if (listedTenants(root).includes(tenant))
        throw new TenantError(
            `${tenant} is already in ${TENANTS_KEY} of ${stackFile(SHARED_STACK)} without a stack file; remove it there first, or pick another name`,
        );
    for (const other of tenantStacks(root)) {
        if (other.config?.tenant === tenant)
            throw new TenantError(`stack ${other.stack} (${stackFile(other.stack)}) already deploys tenant ${tenant}`);
        if (other.config?.host === host)
            throw new TenantError(
                `host ${host} is already the host of tenant ${other.config.tenant} (${stackFile(other.stack)}); two tenants cannot share a host`,
            );
    }

    const values: Record<string, string | number> = {
        [`${PROJECT}:tenant`]: tenant,
        [`${PROJECT}:host`]: host,
        [`${PROJECT}:buildFor`]: options.buildFor ?? tenant,
        [`${PROJECT}:dbName`]: options.dbName ?? mysqlName(tenant),
        [`${PROJECT}:dbUser`]: options.dbUser ?? mysqlName(tenant),
        [`${PROJECT}:harborPullUsername`]: `robot$stock-pull-${tenant}`,
        [`${PROJECT}:rolloutWave`]: options.wave ?? 1,
    };
    const plain = Object.fromEntries(Object.entries(values).map(([k, v]) => [k, String(v)]));
    const secrets = requiredSecrets("tenant", plain);
    const text = tenantStackFile(values, tenant, secrets);
    const config = validate(tenant, root, text) as TenantConfig;

    const sharedFile = stackFile(SHARED_STACK);
    const sharedText = withTenantListed(read(root, sharedFile), tenant);
    validate(SHARED_STACK, root, sharedText);

    const changes: FileChange[] = [
        { file, content: text },
        { file: sharedFile, content: sharedText },
    ];
    // No dotenv to write: the program computes it. One the source already has must agree with it.
    const dotenvProblems = frontendDotenv(config, path.resolve(root, config.images.frontend.source)).problems;
    if (dotenvProblems.length) throw new TenantError(`refusing to add ${tenant}: ${dotenvProblems.join("\n")}`);
    // Its backend image is the images stack's: one that stack does not build would never be in Harbor.
    const backendProblems = backendImageProblems(config, imagesStacksIn(root), root);
    if (backendProblems.length) throw new TenantError(`refusing to add ${tenant}: ${backendProblems.join("\n")}`);
    return { changes, config, nextSteps: nextSteps(config, secrets, imagesStackOf(root)!.stack) };
}

function nextSteps(config: TenantConfig, secrets: string[], imagesStack: string): string {
    const t = config.tenant;
    const steps = [
        `Create the stack and set its secrets (values never go in a file):\n      pulumi stack init ${t}\n${secrets.map((k) => `      pulumi config set --secret ${k} -s ${t}`).join("\n")}`,
        `In Harbor, create the pull-only robot ${config.harbor.pullUsername} on project ${config.harbor.project}; its token is ${PROJECT}:harborPullPassword.`,
        `On MySQL (${config.database.host}), create database ${config.database.name} and user ${config.database.user}; its password is ${PROJECT}:dbPassword.`,
        `Deploy the shared stack, which creates the tenant's Redis user: pulumi up -s ${SHARED_STACK}. Its backend image (${config.images.backend.source}) is built by the images stack (${stackFile(imagesStack)}), which must have run since the backend last changed: pulumi up -s ${imagesStack} (the tenant's up refuses a backend tag Harbor does not have).`,
        `DNS: point ${config.host} at the external nginx load balancer.`,
        `Load balancer: add this block to the external nginx and reload it:\n${nginxServerBlock(config)
            .trimEnd()
            .split("\n")
            .map((l) => `      ${l}`)
            .join("\n")}`,
        `Check it offline (npm run plan -- --stack ${t}), open the pull request (CI previews ${t}), merge; the deploy runs ${t} in rollout wave ${config.rolloutWave}${config.rolloutWave === 0 ? " (canary)" : ""}.`,
    ];
    return steps.map((s, i) => `  ${i + 1}. ${s}`).join("\n") + "\n";
}

export interface RemovePlan {
    changes: FileChange[];
    /** What was left alone, and why. */
    notes: string[];
}

/** Everything `tenant remove` would change; nothing is written. The caller checks the Pulumi stack. */
export function planRemove(tenant: string, root = REPO_ROOT): RemovePlan {
    const nameProblem = refuseName(tenant);
    if (nameProblem) throw new TenantError(nameProblem);
    const file = stackFile(tenant);
    const hasFile = fs.existsSync(path.join(root, file));
    const listed = listedTenants(root).includes(tenant);
    if (!hasFile && !listed)
        throw new TenantError(`no tenant ${tenant}: neither ${file} nor an entry in ${TENANTS_KEY} of ${stackFile(SHARED_STACK)}`);

    const changes: FileChange[] = [];
    const notes: string[] = [];
    if (hasFile) {
        const config = parseIfTenant(tenant, root);
        if (config) {
            const dotenv = dotenvFile(root, config);
            const sharedByOthers = tenantStacks(root).some(
                (o) =>
                    o.stack !== tenant &&
                    o.config?.buildFor === config.buildFor &&
                    o.config.images.frontend.source === config.images.frontend.source,
            );
            // The program computes dotenvs; a file in the source was written by hand and stays.
            if (dotenv && fs.existsSync(path.join(root, dotenv))) {
                notes.push(
                    sharedByOthers
                        ? `kept ${dotenv}: another tenant builds with it`
                        : `kept ${dotenv}: written by hand (the program computes the dotenv); delete it yourself if no longer needed`,
                );
            }
        } else {
            notes.push(`${file} is not a valid tenant stack file; removed without looking for its dotenv`);
        }
        changes.push({ file, content: undefined });
    }
    if (listed) {
        const sharedFile = stackFile(SHARED_STACK);
        if (listedTenants(root).length === 1)
            throw new TenantError(
                `${tenant} is the last tenant in ${TENANTS_KEY}: the shared stack needs at least one. Destroy the shared stack instead (pulumi destroy -s ${SHARED_STACK})`,
            );
        const sharedText = withTenantUnlisted(read(root, sharedFile), tenant);
        validate(SHARED_STACK, root, sharedText);
        changes.push({ file: sharedFile, content: sharedText });
    }
    return { changes, notes };
}

function parseIfTenant(stack: string, root: string): TenantConfig | undefined {
    try {
        const config = parseStackConfig(rawStackConfig(stack, { root }));
        return config.role === "tenant" ? config : undefined;
    } catch (e) {
        if (e instanceof ConfigError) return undefined;
        throw e;
    }
}

/** Writes (or deletes) the planned files. */
export function applyChanges(changes: readonly FileChange[], root = REPO_ROOT): void {
    for (const change of changes) {
        const full = path.join(root, change.file);
        if (change.content === undefined) fs.rmSync(full);
        else {
            fs.mkdirSync(path.dirname(full), { recursive: true });
            fs.writeFileSync(full, change.content);
        }
    }
}

export interface TenantRow {
    tenant: string;
    stack: string | undefined;
    host: string | undefined;
    wave: number | undefined;
    listedInShared: boolean;
    /** `ok`, or what is wrong. */
    status: string;
}

/** One row per tenant: every tenant stack file and every name in the shared stack's list. */
export function tenantRows(root = REPO_ROOT): TenantRow[] {
    const listed = listedTenants(root);
    const rows: TenantRow[] = tenantStacks(root).map(({ stack, config, problems }) => {
        const name = config?.tenant ?? stack;
        const status = problems
            ? `invalid: ${problems.length} problem${problems.length === 1 ? "" : "s"} (npm run plan -- --stack ${stack})`
            : listed.includes(name)
              ? "ok"
              : `not in ${TENANTS_KEY} of ${stackFile(SHARED_STACK)}`;
        return { tenant: name, stack, host: config?.host, wave: config?.rolloutWave, listedInShared: listed.includes(name), status };
    });
    for (const name of listed.filter((t) => !rows.some((r) => r.tenant === t))) {
        rows.push({
            tenant: name,
            stack: undefined,
            host: undefined,
            wave: undefined,
            listedInShared: true,
            status: `no stack file (${stackFile(name)})`,
        });
    }
    return rows.sort((a, b) => (a.tenant < b.tenant ? -1 : a.tenant > b.tenant ? 1 : 0));
}
