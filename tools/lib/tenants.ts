/**
 * Onboarding and offboarding a customer as file edits: the tenant's stack file and its name in the
 * shared stack's `stock:tenants` (its frontend dotenv is computed by the program; its backend image
 * is the images stack's, which must build the tenant's backend source). Every file is checked with
 * the program's own config model, and the new stack's build contexts and backend image with the
 * program's own source checks (checkTenantSources), before anything is written, so `tenant add`
 * can never write a stack file the program would refuse. YAML is edited with the `yaml` Document
 * API, which keeps the comments.
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
import { frontendDotenv, stagedContextDir } from "../../components/tenant/frontend-env";
import { nginxServerBlock } from "../../components/tenant/nginx";
import { checkTenantSources } from "../../components/program";
import { stackFilesIn } from "../../components/config/stack-conflicts";
import { RESERVED_REDIS_USERS } from "../../components/redis/acl";
import { ImagesStackIdentity, imagesStackOf, imagesStacksIn } from "../../components/images/images-stack";
import { REPO_ROOT, rawStackConfig, readProjectFile, requiredSecrets, stackNames } from "./stack-files";
import { AppProfile, DEFAULT_APP_PROFILE, appProfile, unknownProfileMessage } from "./app-profiles";

/** The stack that holds `stock:tenants`. */
export const SHARED_STACK = "shared";
/** The stack that builds the backend image every tenant deploys (Pulumi.images.yaml). */
export const IMAGES_STACK = "images";
const TENANTS_KEY = `${PROJECT}:tenants`;
const BACKEND_SOURCES_KEY = `${PROJECT}:backendSources`;

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
    /**
     * `stock:backendSource` and `stock:frontendSource`: the app's build contexts, written as given,
     * relative to the repository (where Pulumi.yaml is) or absolute. No default: a stack that names
     * no app must not build one.
     */
    backendSource: string;
    frontendSource: string;
    /** BUILD_FOR, the dotenv the program writes under `envs/` of the staged frontend context; default: the tenant's name. */
    buildFor?: string;
    /** `stock:rolloutWave`; default 1 (0 = canary). */
    wave?: number;
    /**
     * The app profile whose keys the stack file gets (./app-profiles.ts); default `real` (the
     * project defaults, nothing written). Required for this repository's reference app (app/backend).
     */
    profile?: string;
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

/** Each item of a YAML list as the text it holds. */
function itemText(item: unknown): string {
    return String(YAML.isScalar(item) ? item.value : item);
}

/** The entries of `stock:tenants` in the shared stack file as written (not the project default). */
function listedEntries(root: string): ReturnType<typeof parseTenantEntry>[] {
    const value = sharedDocument(root).getIn(["config", TENANTS_KEY]);
    // An entry is `<tenant>` or `<tenant>@<stack>` (components/config/shapes.ts, parseTenantEntry).
    return YAML.isSeq(value) ? value.items.map((i) => parseTenantEntry(itemText(i))) : [];
}

/** The tenants of `stock:tenants` in the shared stack file as written (not the project default). */
export function listedTenants(root = REPO_ROOT): string[] {
    return listedEntries(root).map((e) => e.tenant);
}

/** The stack file `text` with `entry` appended to the list under `config.<key>` (created if missing), comments kept. */
function withListEntry(text: string, key: string, entry: string): string {
    const doc = YAML.parseDocument(text);
    const seq = doc.getIn(["config", key], true);
    if (YAML.isSeq(seq)) seq.add(doc.createNode(entry));
    else doc.setIn(["config", key], doc.createNode([entry]));
    return doc.toString();
}

/** The parsed stack file `doc` without the items of the list under `config.<key>` that `drop` names. */
function dropListEntries(doc: YAML.Document, key: string, drop: (item: string) => boolean): void {
    const seq = doc.getIn(["config", key], true);
    if (YAML.isSeq(seq)) seq.items = seq.items.filter((i) => !drop(itemText(i)));
}

/** The shared stack file with `tenant` appended to `stock:tenants`, comments kept. */
export function withTenantListed(text: string, tenant: string): string {
    return withListEntry(text, TENANTS_KEY, tenant);
}

/** The shared stack file without `tenant` in `stock:tenants` or `stock:redisPasswordGenerations`, comments kept. */
export function withTenantUnlisted(text: string, tenant: string): string {
    const doc = YAML.parseDocument(text);
    dropListEntries(doc, TENANTS_KEY, (item) => parseTenantEntry(item).tenant === tenant);
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
    backendSource:
        " the app it builds (no project default): its backend's and frontend's build contexts,\n relative to this repository or absolute",
    buildFor: " the program writes envs/<buildFor> (REACT_APP_HOST_URL) into the staged frontend build context",
    dbName: " on the external MySQL (stock:dbHost)",
    harborPullUsername: " a pull-only robot in Harbor, for the image-pull Secret",
    rolloutWave: " 0 = canary: deployed first, and any failure halts the rollout",
};

/** The complete, commented stack file of a new tenant; `comments` (by key, without `stock:`) add to the standard ones. */
export function tenantStackFile(
    values: Record<string, string | number>,
    tenant: string,
    secrets: string[],
    comments: Record<string, string> = {},
): string {
    const doc = new YAML.Document({ config: values });
    doc.commentBefore = header(tenant, secrets);
    const config = doc.get("config", true) as YAML.YAMLMap<YAML.Scalar, YAML.Scalar>;
    for (const pair of config.items) {
        const key = String(pair.key.value).replace(`${PROJECT}:`, "");
        const comment = KEY_COMMENTS[key] ?? comments[key];
        if (comment) pair.key.commentBefore = comment;
    }
    return doc.toString();
}

/** The profile `options` names (the default when none), refusing an unknown one and the reference app without one. */
function profileOf(options: AddOptions, root: string): { name: string; profile: AppProfile } {
    const name = options.profile ?? DEFAULT_APP_PROFILE;
    const profile = appProfile(name);
    if (!profile) throw new TenantError(unknownProfileMessage(name));
    // The real app's defaults would deploy the reference app with probes it answers 400 (never ready).
    if (options.profile === undefined && path.resolve(root, options.backendSource) === path.join(root, "app", "backend"))
        throw new TenantError(
            `refusing to add ${options.tenant}: --backend-source ${options.backendSource} is this repository's reference app, which the default profile (${DEFAULT_APP_PROFILE}, the real app's) would probe on GET /api/v1/, which it answers 400 to the kubelet: its pods would never become ready. Fix: add --profile reference (or --profile ${DEFAULT_APP_PROFILE} to deploy it with the real app's profile anyway)`,
        );
    return { name, profile };
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

/** `file` relative to the repository, or undefined when it lies outside it. */
function insideRepo(root: string, file: string): string | undefined {
    const rel = path.relative(root, file);
    return rel.startsWith("..") || path.isAbsolute(rel) ? undefined : rel.split(path.sep).join("/");
}

/** Relative path of the tenant's frontend dotenv, when the frontend source lives in the repository. */
function dotenvFile(root: string, config: TenantConfig): string | undefined {
    return insideRepo(root, path.join(path.resolve(root, config.images.frontend.source), "envs", config.buildFor));
}

/** The tenant's build contexts as the program resolves them (against the repository). */
function sourcesOf(root: string, config: TenantConfig): { backend: string; frontend: string } {
    return { backend: path.resolve(root, config.images.backend.source), frontend: path.resolve(root, config.images.frontend.source) };
}

type TenantStack = { stack: string; config?: TenantConfig; problems?: string[] };

/** Every tenant stack in the repository with its config, or its problems (the model's, then the file system's). */
function tenantStacks(root: string): TenantStack[] {
    const project = readProjectFile(root);
    const stackFiles = stackFilesIn(root);
    return stackNames(root).flatMap((stack): TenantStack[] => {
        const raw = rawStackConfig(stack, { root, project });
        if (raw.values[`${PROJECT}:role`] !== "tenant") return [];
        try {
            const config = parseStackConfig(raw);
            if (config.role !== "tenant") return [];
            const problems = checkTenantSources(config, sourcesOf(root, config), root, { stackFiles });
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
    const others = tenantStacks(root);
    // A stack of another name may deploy it (`<tenant>@<stack>`): say so before the shared list, whose
    // "remove it there" would drop a deployed tenant's Redis user.
    const deployer = others.find((o) => o.config?.tenant === tenant);
    if (deployer)
        throw new TenantError(
            `stack ${deployer.stack} (${stackFile(deployer.stack)}) already deploys tenant ${tenant} (npm run tenant -- list)`,
        );
    if (listedTenants(root).includes(tenant))
        throw new TenantError(
            `${tenant} is already in ${TENANTS_KEY} of ${stackFile(SHARED_STACK)} without a stack file; remove it there first, or pick another name`,
        );
    for (const other of others) {
        if (other.config?.host === host)
            throw new TenantError(
                `host ${host} is already the host of tenant ${other.config.tenant} (${stackFile(other.stack)}); two tenants cannot share a host`,
            );
    }

    const { name: profileName, profile } = profileOf(options, root);
    const profileKeys = Object.entries(profile.keys);
    const values: Record<string, string | number> = {
        [`${PROJECT}:tenant`]: tenant,
        [`${PROJECT}:host`]: host,
        [`${PROJECT}:backendSource`]: options.backendSource,
        [`${PROJECT}:frontendSource`]: options.frontendSource,
        ...Object.fromEntries(profileKeys.map(([key, k]) => [`${PROJECT}:${key}`, k.value])),
        [`${PROJECT}:buildFor`]: options.buildFor ?? tenant,
        [`${PROJECT}:dbName`]: options.dbName ?? mysqlName(tenant),
        [`${PROJECT}:dbUser`]: options.dbUser ?? mysqlName(tenant),
        [`${PROJECT}:harborPullUsername`]: `robot$stock-pull-${tenant}`,
        [`${PROJECT}:rolloutWave`]: options.wave ?? 1,
    };
    const plain = Object.fromEntries(Object.entries(values).map(([k, v]) => [k, String(v)]));
    const secrets = requiredSecrets("tenant", plain);
    const text = tenantStackFile(values, tenant, secrets, Object.fromEntries(profileKeys.map(([key, k]) => [key, k.comment])));
    const config = validate(tenant, root, text) as TenantConfig;

    const sharedFile = stackFile(SHARED_STACK);
    const sharedText = withTenantListed(read(root, sharedFile), tenant);
    validate(SHARED_STACK, root, sharedText);

    const changes: FileChange[] = [
        { file, content: text },
        { file: sharedFile, content: sharedText },
    ];
    // The images stack builds the tenant's backend: a source it does not build yet is added to its list.
    const images = imagesStacksIn(root);
    const builder = images.length === 1 ? images[0] : undefined;
    const listed = builder && builds(root, builder, config.images.backend.source);
    if (builder && !listed) {
        const imagesText = withBackendSourceListed(read(root, builder.file), config.images.backend.source);
        validate(builder.stack, root, imagesText);
        changes.push({ file: builder.file, content: imagesText });
        builder.backendSources.push(config.images.backend.source);
    }
    // The program's own checks of the build contexts (a Dockerfile each), of its backend image
    // (the images stack, as it will be written) and of the frontend's dotenv (none to write: the
    // program computes it; one the source already has must agree).
    const sourceProblems = checkTenantSources(config, sourcesOf(root, config), root, { images });
    if (sourceProblems.length)
        throw new TenantError(
            `refusing to add ${tenant}: the program would refuse ${file}:\n${sourceProblems.map((p) => `  - ${p}`).join("\n")}\n` +
                `(with tenant add, stock:backendSource is --backend-source and stock:frontendSource is --frontend-source)`,
        );
    return { changes, config, nextSteps: nextSteps(config, secrets, root, builder !== undefined && !listed, profileName) };
}

/** Does the images stack build `source` (as a tenant stack file writes it, relative to `root`)? */
function builds(root: string, images: ImagesStackIdentity, source: string): boolean {
    return images.backendSources.some((s) => path.resolve(root, s) === path.resolve(root, source));
}

/** The images stack file with `source` appended to `stock:backendSources`, comments kept. */
export function withBackendSourceListed(text: string, source: string): string {
    return withListEntry(text, BACKEND_SOURCES_KEY, source);
}

/** The images stack file without `source` in `stock:backendSources`, comments kept. */
export function withBackendSourceUnlisted(text: string, source: string): string {
    const doc = YAML.parseDocument(text);
    dropListEntries(doc, BACKEND_SOURCES_KEY, (item) => item === source);
    return doc.toString();
}

/** Where the build contexts are, what CI needs for them, and the app profile they run with. */
function sourcesStep(config: TenantConfig, root: string, profileName: string): string {
    const sources = sourcesOf(root, config);
    const outside = [sources.backend, sources.frontend].some((dir) => insideRepo(root, dir) === undefined);
    return (
        `Build contexts: ${PROJECT}:backendSource ${config.images.backend.source} and ${PROJECT}:frontendSource ${config.images.frontend.source}` +
        (outside
            ? `, outside this repository: every \`pulumi up\` needs the app checked out at the same place relative to it. CI checks out the repository variable APP_REPOSITORY (default fengxia41103/stock) at APP_REF (a commit SHA; the deploy job requires one) as ../stock (docs/ci.md, "The app's checkout").`
            : ", in this repository.") +
        (Object.keys(appProfile(profileName)?.keys ?? {}).length === 0
            ? ` They run with the project's app profile (the real stock app's: probes on /api/v1/, celery inspect ping, the key-prefix shim); an app that differs sets its profile keys (README, "Bring your own app"; --profile reference for the reference app in app/).`
            : ` They run with app profile ${profileName}, whose keys the stack file sets (${Object.keys(appProfile(profileName)!.keys)
                  .map((k) => `${PROJECT}:${k}`)
                  .join(", ")}); everything else is the project's (README, "Bring your own app").`)
    );
}

/** What the frontend is built with: the dotenv the program computes, and the file of the source it keeps, if any. */
function dotenvStep(config: TenantConfig, root: string): string {
    const source = sourcesOf(root, config).frontend;
    const own = path.join(source, "envs", config.buildFor);
    const staged = insideRepo(root, stagedContextDir(root, config.stack));
    const text = frontendDotenv(config, source).text;
    return (
        `Frontend dotenv: nothing to write. The program computes envs/${config.buildFor} into the staged copy of the frontend source (${staged}/) at every plan, preview and up` +
        (fs.existsSync(own) ? `, keeping the other lines of ${insideRepo(root, own) ?? own} (which agrees with it)` : "") +
        `:\n${text
            .trimEnd()
            .split("\n")
            .map((l) => `      ${l}`)
            .join("\n")}`
    );
}

function nextSteps(config: TenantConfig, secrets: string[], root: string, backendAdded: boolean, profileName: string): string {
    const t = config.tenant;
    const imagesStack = imagesStackOf(root)?.stack ?? IMAGES_STACK;
    const steps = [
        sourcesStep(config, root, profileName),
        dotenvStep(config, root),
        `Create the stack and set its secrets (values never go in a file):\n      pulumi stack init ${t}\n${secrets.map((k) => `      pulumi config set --secret ${k} -s ${t}`).join("\n")}`,
        `In Harbor, create the pull-only robot ${config.harbor.pullUsername} on project ${config.harbor.project}; its token is ${PROJECT}:harborPullPassword.`,
        `On MySQL (${config.database.host}), create database ${config.database.name} and user ${config.database.user}; its password is ${PROJECT}:dbPassword.`,
        `Deploy the shared stack, which creates the tenant's Redis user: pulumi up -s ${SHARED_STACK}. Its backend image (${config.images.backend.source}) is built by the images stack (${stackFile(imagesStack)}${backendAdded ? `, where ${PROJECT}:backendSources now lists it` : ""}), which must have run since the backend last changed: pulumi up -s ${imagesStack} (the tenant's up refuses a backend tag Harbor does not have).`,
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
    /** The Pulumi stack that deploys the tenant (its own name, or the `<tenant>@<stack>` of the shared list). */
    stack: string;
    changes: FileChange[];
    /** What was left alone, and why. */
    notes: string[];
}

/** Everything `tenant remove` would change; nothing is written. The caller checks the Pulumi stack. */
export function planRemove(tenant: string, root = REPO_ROOT): RemovePlan {
    const nameProblem = refuseName(tenant);
    if (nameProblem) throw new TenantError(nameProblem);
    const stack = deployingStack(tenant, root);
    const file = stackFile(stack);
    const hasFile = fs.existsSync(path.join(root, file));
    const listed = listedTenants(root).includes(tenant);
    if (!hasFile && !listed)
        throw new TenantError(`no tenant ${tenant}: neither ${file} nor an entry in ${TENANTS_KEY} of ${stackFile(SHARED_STACK)}`);

    const changes: FileChange[] = [];
    const notes: string[] = [];
    if (hasFile) {
        const config = parseIfTenant(stack, root);
        if (config) {
            const dotenv = dotenvFile(root, config);
            const sharedByOthers = tenantStacks(root).some(
                (o) =>
                    o.stack !== stack &&
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
            changes.push(...backendSourceUnlisted(stack, config, root, notes));
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
    return { stack, changes, notes };
}

/** The stack that deploys `tenant`: a stack file saying so, else the shared list's `<tenant>@<stack>`, else its own name. */
function deployingStack(tenant: string, root: string): string {
    const byFile = tenantStacks(root).find((o) => o.config?.tenant === tenant);
    if (byFile) return byFile.stack;
    return listedEntries(root).find((e) => e.tenant === tenant)?.stack ?? tenant;
}

/** The images stack's list without the backend source of `stack`'s tenant when no other tenant deploys it (what `add` appended). */
function backendSourceUnlisted(stack: string, config: TenantConfig, root: string, notes: string[]): FileChange[] {
    const images = imagesStacksIn(root);
    if (images.length !== 1) return [];
    const [builder] = images;
    const source = config.images.backend.source;
    const entry = builder.backendSources.find((s) => path.resolve(root, s) === path.resolve(root, source));
    if (entry === undefined) return [];
    const others = tenantStacks(root).filter(
        (o) => o.stack !== stack && o.config && path.resolve(root, o.config.images.backend.source) === path.resolve(root, source),
    );
    if (others.length) return [];
    if (builder.backendSources.length === 1) {
        notes.push(`kept ${source} in ${BACKEND_SOURCES_KEY} of ${builder.file}: the images stack needs at least one`);
        return [];
    }
    const text = withBackendSourceUnlisted(read(root, builder.file), entry);
    validate(builder.stack, root, text);
    // Its images stay in Harbor: the images stack's builds are retained when they leave its state.
    return [{ file: builder.file, content: text }];
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
