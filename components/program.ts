/**
 * The program behind index.ts: validate everything, then build the fleet's backend images (the
 * images stack), create the shared Redis, or deploy one tenant. All checks (config, hosts other
 * stacks claim, build contexts, the frontend's dotenv, the images stack that builds the tenant's
 * backend, whether Harbor has that backend image, the shared stack's tenant list) run, and the
 * frontend's build context is staged, before the first resource is registered.
 */
import * as path from "path";
import { Provider } from "@pulumi/kubernetes/provider";
import * as pulumi from "@pulumi/pulumi";
import { ConfigError, PROJECT, SharedConfig, TenantConfig, sourceFix, stackFile } from "./config";
import { readStackConfig } from "./config/source";
import { RedisConnection, RedisCredential } from "./redis/credential";
import { buildContextProblem, frontendContextProblem } from "./build-context";
import { frontendDotenv, stageFrontendContext } from "./tenant/frontend-env";
import { PYTHON_RUNTIME_DIR, PythonRuntime, readPythonRuntime } from "./tenant/python-runtime";
import { StackFileValues, stackConflicts, stackFilesIn, tenantStacksIn } from "./config/stack-conflicts";
import { ImageRef, backendImageRef, imageName } from "./images/backend-image";
import { ImagesStackIdentity, backendImageProblems, imagesStackOf, imagesStacksIn } from "./images/images-stack";
import { TagLookup, registryTagDigest } from "./images/registry";
import { checkImageInRegistry } from "./images/tag-check";

import { REPO_ROOT, SHARED_OUTPUTS, redisCredentialOutput } from "./names";

export { REPO_ROOT, redisCredentialOutput };

function kubernetesProvider(config: { kubeContext: string; kubeconfig?: string }): Provider {
    // Pinned to a named context: a stack never deploys to whatever cluster the shell points at.
    return new Provider("kubernetes", {
        context: config.kubeContext,
        kubeconfig: config.kubeconfig ? config.kubeconfig.replace(/^~(?=\/)/, process.env.HOME ?? "~") : undefined,
    });
}

export interface DeployOptions {
    /**
     * Asks the registry whether an image tag exists (the images stack, for what to build; a
     * tenant, for the backend it deploys). Default: the Registry API v2 lookup of
     * images/registry.ts; the tests inject a stand-in.
     */
    tagLookup?: TagLookup;
}

export async function deploy(options: DeployOptions = {}): Promise<Record<string, unknown>> {
    const config = readStackConfig();
    const lookup = options.tagLookup ?? registryTagDigest;
    if (config.role === "images") return (await import("./images/deploy")).deployImages(config, lookup, REPO_ROOT);
    return config.role === "shared" ? deployShared(config) : deployTenant(config, lookup);
}

// Each role loads its own component only (a tenant never needs the Redis chart's code, the shared
// stack never the image builds, charts and password generator of a tenant, the images stack
// neither): less to load per run.
async function deployShared(config: SharedConfig): Promise<Record<string, unknown>> {
    const { SharedRedis } = await import("./redis/shared-redis");
    for (const warning of config.warnings) void pulumi.log.warn(warning);
    const provider = kubernetesProvider(config);
    const redis = new SharedRedis("redis", { config }, { providers: [provider] });
    return {
        redisHost: redis.host,
        redisPort: redis.port,
        redisNamespace: redis.namespace,
        tenants: config.tenants,
        tenantStacks: config.tenantStacks,
        ...Object.fromEntries(config.tenants.map((t) => [redisCredentialOutput(t), redis.credentials[t]])),
    };
}

/**
 * Problems only the file system can reveal: conflicts with the other stack files, the images stack
 * that must build this tenant's backend, build contexts, Dockerfiles, the frontend's own dotenv.
 */
export function checkTenantSources(
    config: TenantConfig,
    sources: { backend: string; frontend: string },
    root = REPO_ROOT,
    known: {
        /** The stack files of `root`, when the caller has read them already. Default: read here. */
        stackFiles?: readonly StackFileValues[];
        /** The images stacks, when the caller knows them better (`tenant add`, about to extend one). Default: from the stack files. */
        images?: readonly ImagesStackIdentity[];
    } = {},
): string[] {
    const files = known.stackFiles ?? stackFilesIn(root);
    const images = known.images ?? imagesStacksIn(root, files);
    const problems: string[] = [...stackConflicts(config, tenantStacksIn(root, files)), ...backendImageProblems(config, images, root)];
    const file = stackFile(config.stack);
    let frontendReadable = true;
    for (const [key, dir, given] of [
        ["backendSource", sources.backend, config.images.backend.source],
        ["frontendSource", sources.frontend, config.images.frontend.source],
    ] as const) {
        const problem = buildContextProblem(dir) ?? (key === "frontendSource" ? frontendContextProblem(dir, config.buildFor) : undefined);
        if (!problem) continue;
        if (key === "frontendSource") frontendReadable = false;
        const shown = path.isAbsolute(given) ? given : `${given} (${dir})`;
        problems.push(`stock:${key} in ${file} is ${shown}, ${problem.why}. Fix: ${problem.fix ?? sourceFix(key, config.stack)}`);
    }
    if (frontendReadable) problems.push(...frontendDotenv(config, sources.frontend).problems);
    return problems;
}

/** Reads what this tenant needs from the shared stack, with errors that say what to do. */
async function readSharedStack(config: TenantConfig): Promise<RedisConnection & { namespace: string }> {
    const shared = new pulumi.StackReference("shared", { name: config.sharedStack });
    const read = async (output: string): Promise<unknown> => {
        try {
            const details = await shared.getOutputDetails(output);
            return details.secretValue ?? details.value;
        } catch (e) {
            throw new ConfigError(config.stack, [
                `the shared stack '${config.sharedStack}' (stock:sharedStack) could not be read: ${(e as Error).message}. Fix: deploy it first with 'pulumi up -s shared', or point stock:sharedStack at it: pulumi config set stock:sharedStack <org>/stock/shared -s ${config.stack}`,
            ]);
        }
    };
    const tenants = await read(SHARED_OUTPUTS.tenants);
    if (!Array.isArray(tenants)) {
        throw new ConfigError(config.stack, [
            `the shared stack '${config.sharedStack}' (stock:sharedStack) has no 'tenants' output: it does not exist or was never deployed. Fix: pulumi up -s shared, or correct stock:sharedStack`,
        ]);
    }
    if (!tenants.includes(config.tenant)) {
        throw new ConfigError(config.stack, [
            `tenant '${config.tenant}' (stock:tenant) is not allowed on the shared Redis: stock:tenants of '${config.sharedStack}' lists ${tenants.join(", ") || "no tenant"}. Fix: add ${config.tenant} to stock:tenants in Pulumi.shared.yaml and run 'pulumi up -s shared' first`,
        ]);
    }
    const owners = await read(SHARED_OUTPUTS.tenantStacks);
    // A shared stack deployed before it exported tenantStacks: its entries could only be tenant
    // names, each deployed by the stack of that name (until its next `up`, e.g. in a PR's preview).
    if (owners === undefined)
        void pulumi.log.warn(
            `the shared stack '${config.sharedStack}' has no 'tenantStacks' output yet (deployed by an older version): taking the stack of tenant '${config.tenant}' to be '${config.tenant}', as its stock:tenants entry would say. Fix: pulumi up -s shared`,
        );
    const owner =
        owners === undefined
            ? config.tenant
            : owners && typeof owners === "object"
              ? (owners as Record<string, unknown>)[config.tenant]
              : undefined;
    if (typeof owner !== "string") {
        throw new ConfigError(config.stack, [
            `the shared stack '${config.sharedStack}' does not say which stack deploys tenant '${config.tenant}' (no 'tenantStacks' output). Fix: pulumi up -s shared with this version of the program`,
        ]);
    }
    if (owner !== config.stack) {
        throw new ConfigError(config.stack, [
            `tenant '${config.tenant}' (stock:tenant in ${stackFile(config.stack)}) is deployed by stack '${owner}' according to stock:tenants of '${config.sharedStack}', and a tenant is deployed by exactly one stack; this is stack '${config.stack}'. Fix: pulumi config set stock:tenant '<customer of this stack>' -s ${config.stack}, or, to move the tenant here, change its entry in stock:tenants of Pulumi.shared.yaml to '${config.tenant}@${config.stack}' and run 'pulumi up -s shared'`,
        ]);
    }
    const [host, port, namespace, credential] = (await Promise.all([
        read(SHARED_OUTPUTS.redisHost),
        read(SHARED_OUTPUTS.redisPort),
        read(SHARED_OUTPUTS.redisNamespace),
        read(redisCredentialOutput(config.tenant)),
    ])) as [unknown, unknown, unknown, Partial<RedisCredential> | undefined];
    if (
        typeof host !== "string" ||
        typeof port !== "number" ||
        typeof namespace !== "string" ||
        !credential?.username ||
        !credential?.password ||
        !credential?.keyPrefix
    ) {
        throw new ConfigError(config.stack, [
            `the shared stack '${config.sharedStack}' lacks redisHost, redisPort, redisNamespace or ${redisCredentialOutput(config.tenant)}. Fix: pulumi up -s shared with this version of the program`,
        ]);
    }
    return { host, port, namespace, username: credential.username, password: credential.password, keyPrefix: credential.keyPrefix };
}

/**
 * Our Python runtime when the tenant's Redis key prefix is applied by the shim (pushes a problem
 * and returns undefined when it cannot be read: bad deployment input, never a silent no-prefix).
 */
export function tenantPythonRuntime(config: TenantConfig, problems: string[], dir = PYTHON_RUNTIME_DIR): PythonRuntime | undefined {
    if (config.app.redisKeyPrefix !== "shim") return undefined;
    try {
        return readPythonRuntime(dir);
    } catch (e) {
        problems.push(
            `stock:redisKeyPrefixMode is shim (Pulumi.yaml default, or ${stackFile(config.stack)}), but ${(e as Error).message}. Fix: restore runtime/python/ from the repository (git checkout -- runtime/python), or, only if the app applies DJANGO_REDIS_KEY_PREFIX itself, pulumi config set stock:redisKeyPrefixMode app -s ${config.stack}`,
        );
        return undefined;
    }
}

/**
 * Is the backend image this tenant deploys in Harbor? The images stack pushes it; at `up` a missing
 * tag stops the stack here, before any resource, and at preview it is a warning. Asked with the
 * pull robot when there is one (a HEAD needs no more), else the push robot.
 */
async function backendInRegistry(
    config: TenantConfig,
    backend: ImageRef,
    lookup: TagLookup,
    stackFiles: readonly StackFileValues[],
): Promise<string | undefined> {
    const pull = config.harbor.pullUsername && config.secrets.harborPullPassword;
    const credentials = pull
        ? { username: config.harbor.pullUsername!, password: config.secrets.harborPullPassword!, key: `${PROJECT}:harborPullUsername` }
        : { username: config.harbor.username, password: config.secrets.harborPassword, key: `${PROJECT}:harborUsername` };
    const builtBy = imagesStackOf(REPO_ROOT, stackFiles)?.stack ?? "images";
    const result = await checkImageInRegistry(
        {
            image: backend,
            plainHttp: config.harbor.plainHttp,
            credentials,
            stack: config.stack,
            builtBy,
            preview: pulumi.runtime.isDryRun(),
        },
        lookup,
    );
    if (result.warning !== undefined) void pulumi.log.warn(result.warning);
    return result.digest;
}

async function deployTenant(config: TenantConfig, lookup: TagLookup): Promise<Record<string, unknown>> {
    const resolve = (p: string) => path.resolve(REPO_ROOT, p);
    const sources = { backend: resolve(config.images.backend.source), frontend: resolve(config.images.frontend.source) };
    // Every stack file is read once: the conflict check and the images stack both need them.
    const stackFiles = stackFilesIn(REPO_ROOT);
    const problems = checkTenantSources(config, sources, REPO_ROOT, { stackFiles });
    const pythonRuntime = tenantPythonRuntime(config, problems);
    if (problems.length > 0) throw new ConfigError(config.stack, problems);
    const dotenv = frontendDotenv(config, sources.frontend);
    for (const warning of config.warnings) void pulumi.log.warn(warning);
    // The same pure function as the images stack's: the tag is known here without its state.
    const backendImage = backendImageRef(
        { server: config.harbor.server, project: config.harbor.project, repository: config.images.backend.repository },
        sources.backend,
    );
    const backendDigest = await backendInRegistry(config, backendImage, lookup, stackFiles);
    // The frontend builds from a staged copy that carries this tenant's computed envs/<buildFor>.
    const stagedFrontend = stageFrontendContext(sources.frontend, config.buildFor, dotenv.text, REPO_ROOT, config.stack);
    const redis = await readSharedStack(config);
    const { Tenant } = await import("./tenant/tenant");

    const provider = kubernetesProvider(config);
    const tenant = new Tenant(
        config.tenant,
        { config, sources: { frontend: stagedFrontend }, backendImage, redis, pythonRuntime },
        { providers: [provider] },
    );
    return {
        namespace: tenant.namespace,
        frontendUrl: tenant.urls.frontend,
        apiUrl: tenant.urls.api,
        backendImage: imageName(backendImage),
        frontendImage: imageName(tenant.images.frontendRef),
        // As Harbor has it: pushed by the images stack (absent in a preview before it has run).
        backendImageDigest: backendDigest === undefined ? undefined : `${backendImage.repository}@${backendDigest}`,
        frontendImageDigest: tenant.images.frontendDigest,
        envConfigKeys: tenant.envKeys.config,
        envSecretKeys: tenant.envKeys.secret,
        nginxServerBlock: tenant.nginxServerBlock,
        frontendDotenv: dotenv.text,
    };
}
