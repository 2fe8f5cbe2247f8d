/**
 * Runs the real program (components/program.ts `deploy`, what index.ts exports) for a stack under
 * Pulumi's runtime mocks and records every resource the program registers: type, name, parent,
 * provider, inputs. Like `pulumi preview` of a new stack, outputs that only `up` would know
 * (generated passwords, image digests) stay unknown, which is how the tests prove that chart values
 * never depend on them. The registry the program asks whether an image tag exists is injected
 * (`tagLookup`): nothing leaves the machine.
 */
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { REPO_ROOT } from "../../components/names";
import type { RegistryCredentials, RegistryImage, TagLookup } from "../../components/images/registry";
import type { LoadOptions, LoadedConfig } from "./stack-files";

// Loaded when first needed, not with this module: reading a stack file takes the config model (zod,
// yaml), which a run handed its config (`options.raw`, the bench's floor) must not load for the program.
const stackFiles = () => require("./stack-files") as typeof import("./stack-files");

/** The resource type of an image build (`@pulumi/docker-build`'s Image). */
export const IMAGE_TYPE = "docker-build:index:Image";

/** What the Pulumi engine uses for "not known until apply". */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

export interface RecordedResource {
    type: string;
    name: string;
    /** URN of the parent resource ("" for top-level resources). */
    parent: string;
    /** Reference to the provider (`<urn>::<id>`) for custom resources. */
    provider: string;
    /** Providers handed to a component, by package. */
    providers: Record<string, string>;
    /** URNs of the resources it depends on (`dependsOn` and input dependencies). */
    dependencies: string[];
    custom: boolean;
    /** The `retainOnDelete` option: a delete (or a removal from the program) leaves the real resource alone. */
    retainOnDelete: boolean;
    inputs: Record<string, any>;
    urn: string;
}

export interface ProgramRun {
    resources: RecordedResource[];
    /** Stack outputs, settled; unknowns are {@link UNKNOWN}. */
    outputs: Record<string, any>;
    /** Names of the stack outputs marked secret. */
    secretOutputs: string[];
    /** Resources of one type, optionally filtered by name. */
    ofType(type: string): RecordedResource[];
    one(type: string, name?: string): RecordedResource;
}

export interface RunOptions extends LoadOptions {
    /**
     * Outputs the shared stack reference returns. Default: the outputs of the shared stack named by
     * stock:sharedStack (its last segment, e.g. Pulumi.shared.yaml in the same folder), evaluated from
     * its own file under the same mocks, as `pulumi up -s shared` then `-s <tenant>` would.
     */
    sharedOutputs?: Record<string, any>;
    /** Every resource the program registers is also pushed here, so a failing run still shows what it created. */
    recorded?: RecordedResource[];
    /** Make reading the shared stack fail with this message. */
    sharedStackError?: string;
    /** Run as a preview (default true). */
    preview?: boolean;
    /**
     * The config as the engine would hand it over, already read (`rawStackConfig`): the stack file is
     * then not read here, as the Pulumi CLI reads it before the program's process starts. Default: read.
     */
    raw?: Pick<LoadedConfig, "values" | "secretKeys">;
    /**
     * The registry lookup the program asks whether an image tag is in Harbor. Default
     * {@link HARBOR_HAS_EVERY_TAG}: as if the images stack had pushed every backend image.
     */
    tagLookup?: TagLookup;
}

/** The digest the default lookup answers for every tag. */
export const FAKE_PUSHED_DIGEST = `sha256:${"1".repeat(64)}`;

/** A registry that has every tag, as after `pulumi up` of the images stack. */
export const HARBOR_HAS_EVERY_TAG: TagLookup = () => Promise.resolve(FAKE_PUSHED_DIGEST);

/** A stand-in registry holding exactly `present` (`<server>/<repository>:<tag>`) or every tag, recording every question it is asked. */
export function fakeRegistry(present: Iterable<string> | "every tag" = []): {
    lookup: TagLookup;
    asked: Array<RegistryImage & { username: string }>;
} {
    const have = present === "every tag" ? undefined : new Set(present);
    const asked: Array<RegistryImage & { username: string }> = [];
    const lookup: TagLookup = (image: RegistryImage, credentials: RegistryCredentials) => {
        asked.push({ ...image, username: credentials.username });
        const found = !have || have.has(`${image.server}/${image.repository}:${image.tag}`);
        return Promise.resolve(found ? FAKE_PUSHED_DIGEST : null);
    };
    return { lookup, asked };
}

/** Outputs like the repo's shared stack's, for these tenants (each deployed by the stack of its name), with credentials derived from its fake seed. */
export function defaultSharedOutputs(tenants = ["client-a", "client-b"]): Record<string, any> {
    const { tenantRedisAccess } = require("../../components/redis/acl") as typeof import("../../components/redis/acl");
    const { redisPassword } = require("../../components/redis/passwords") as typeof import("../../components/redis/passwords");
    const seed = stackFiles().fakeSecret("stock:redisPasswordSeed", "shared");
    return {
        redisHost: "redis-master.redis.svc.cluster.local",
        redisPort: 6379,
        redisNamespace: "redis",
        tenants,
        tenantStacks: Object.fromEntries(tenants.map((t) => [t, t])),
        ...Object.fromEntries(
            tenants.map((t) => [
                `redisCredential-${t}`,
                {
                    username: tenantRedisAccess(t).username,
                    password: redisPassword(seed, t),
                    keyPrefix: tenantRedisAccess(t).keyPrefix,
                },
            ]),
        ),
    };
}

function urnOf(stack: string, parentUrn: string, type: string, name: string): string {
    const qualifiedType = parentUrn ? `${parentUrn.split("::")[2].split("$").pop()}$${type}` : type;
    return `urn:pulumi:${stack}::stock::${qualifiedType}::${name}`;
}

/** Resolves an Output (or plain value) including unknowns, which come back as {@link UNKNOWN}. */
export async function settle(value: any): Promise<any> {
    if (pulumi.Output.isInstance(value)) {
        const known = await (value as any).isKnown;
        if (!known) return UNKNOWN;
        return settle(await (value as any).promise(true));
    }
    if (Array.isArray(value)) return Promise.all(value.map(settle));
    if (value && typeof value === "object" && !(value instanceof pulumi.Resource)) {
        const entries = await Promise.all(Object.entries(value).map(async ([k, v]) => [k, await settle(v)]));
        return Object.fromEntries(entries);
    }
    return value;
}

/** The shared stack a tenant's StackReference reads: evaluated from its stack file, or an error the reference reports. */
async function sharedStackOutputs(
    values: Record<string, string>,
    root: string,
): Promise<{ outputs: Record<string, any>; secret: string[] } | { error: string }> {
    const name = (values["stock:sharedStack"] || "shared").split("/").pop()!;
    if (!fs.existsSync(path.join(root, `Pulumi.${name}.yaml`)))
        return { error: `unknown stack ${values["stock:sharedStack"] || `organization/stock/${name}`}: no Pulumi.${name}.yaml in ${root}` };
    let shared: ProgramRun;
    try {
        shared = await runProgram(name, { root, preview: false, sharedOutputs: {} });
    } catch (e) {
        return { error: `stack ${name} fails on its own, so it was never deployed: ${(e as Error).message}` };
    }
    // The engine hands a StackReference every output, secret ones as secrets.
    return { outputs: shared.outputs, secret: shared.secretOutputs };
}

export async function runProgram(stack: string, options: RunOptions = {}): Promise<ProgramRun> {
    const raw = options.raw ?? stackFiles().rawStackConfig(stack, options);
    const preview = options.preview ?? true;
    const root = options.root ?? REPO_ROOT;
    const shared = options.sharedOutputs
        ? { outputs: options.sharedOutputs, secret: Object.keys(options.sharedOutputs).filter((k) => k.startsWith("redisCredential-")) }
        : options.sharedStackError || raw.values["stock:role"] !== "tenant"
          ? { outputs: {}, secret: [] }
          : await sharedStackOutputs(raw.values, root);
    const sharedError = options.sharedStackError ?? ("error" in shared ? shared.error : undefined);
    const sharedOutputs = "outputs" in shared ? shared.outputs : {};
    const sharedSecret = "secret" in shared ? shared.secret : [];
    const resources: RecordedResource[] = options.recorded ?? [];

    await pulumi.runtime.setMocks(
        {
            newResource(args) {
                if (args.type === "pulumi:pulumi:StackReference") {
                    if (sharedError) throw new Error(sharedError);
                    return {
                        id: args.inputs.name,
                        state: { name: args.inputs.name, outputs: sharedOutputs, secretOutputNames: sharedSecret },
                    };
                }
                // A preview of a new stack knows only the inputs; `up` also knows what providers compute.
                const computed: Record<string, unknown> = {};
                if (!preview) {
                    if (args.type === "random:index/randomPassword:RandomPassword")
                        computed.result = stackFiles().fakeSecret(`random-${args.name}`, stack);
                    if (args.type === IMAGE_TYPE) {
                        const digest = `sha256:${"0".repeat(64)}`;
                        computed.digest = digest;
                        computed.ref = `${String(args.inputs.tags[0])}@${digest}`;
                    }
                }
                return { id: preview ? undefined : `${args.name}-id`, state: { ...args.inputs, ...computed } };
            },
            call: (args) => args.inputs,
        },
        "stock",
        stack,
        preview,
        "organization",
    );
    pulumi.runtime.setAllConfig(raw.values, [...raw.secretKeys]);

    const monitor = pulumi.runtime.getMonitor() as any;
    const record = (req: any, inputs: Record<string, any>) => {
        const parent = req.getParent() ?? "";
        resources.push({
            type: req.getType(),
            name: req.getName(),
            parent,
            provider: req.getProvider() ?? "",
            providers: typeof req.getProvidersMap === "function" ? Object.fromEntries(req.getProvidersMap().entries()) : {},
            dependencies: typeof req.getDependenciesList === "function" ? req.getDependenciesList() : [],
            custom: typeof req.getCustom === "function" ? req.getCustom() : true,
            retainOnDelete: typeof req.getRetainondelete === "function" ? !!req.getRetainondelete() : false,
            inputs,
            urn: urnOf(stack, parent, req.getType(), req.getName()),
        });
    };
    const { deserializeProperties } = require("@pulumi/pulumi/runtime/rpc");
    const register = monitor.registerResource.bind(monitor);
    monitor.registerResource = (req: any, cb: any) => {
        record(req, deserializeProperties(req.getObject(), true));
        return register(req, cb);
    };
    const read = monitor.readResource.bind(monitor);
    monitor.readResource = (req: any, cb: any) => {
        record(req, deserializeProperties(req.getProperties(), true));
        return read(req, cb);
    };

    // index.ts is `export = deploy()`: called here with the injected registry lookup (a checkout of
    // an older version, plan --diff, ignores it). A folder with an index.ts of another program (the
    // bench's one-resource floor) runs that.
    const program = ["ts", "js"].map((ext) => path.join(root, "components", `program.${ext}`)).find((f) => fs.existsSync(f));
    const run: () => Promise<Record<string, unknown>> = program
        ? () =>
              (require(program) as { deploy: (options?: { tagLookup?: TagLookup }) => Promise<Record<string, unknown>> }).deploy({
                  tagLookup: options.tagLookup ?? HARBOR_HAS_EVERY_TAG,
              })
        : () => {
              const entry = require.resolve(path.join(root, "index"));
              delete require.cache[entry];
              return require(entry) as Promise<Record<string, unknown>>;
          };
    const settled = async () => {
        // Every registration still in flight reaches the monitor before anything is inspected.
        await (require("@pulumi/pulumi/runtime/settings") as { waitForRPCs(): Promise<void> }).waitForRPCs();
    };
    let rawOutputs: Record<string, unknown>;
    try {
        rawOutputs = await run();
    } catch (e) {
        // What a failing program registered before it failed is recorded too (`options.recorded`).
        await settled();
        throw e;
    }
    const outputs = await settle(rawOutputs);
    const secretOutputs: string[] = [];
    for (const [k, v] of Object.entries(rawOutputs)) {
        if (pulumi.Output.isInstance(v) && (await (v as any).isSecret)) secretOutputs.push(k);
    }
    await settled();

    const ofType = (type: string) => resources.filter((r) => r.type === type);
    return {
        resources,
        outputs,
        secretOutputs,
        ofType,
        one(type: string, name?: string) {
            const found = ofType(type).filter((r) => name === undefined || r.name === name);
            if (found.length !== 1)
                throw new Error(
                    `expected one ${type}${name ? ` named ${name}` : ""}, found ${found.map((r) => r.name).join(", ") || "none"}`,
                );
            return found[0];
        },
    };
}

/** Unwraps Pulumi's secret envelopes in recorded inputs, returning the plain value and whether it was secret. */
export function unwrapSecret(value: any): { value: any; secret: boolean } {
    const { specialSigKey, specialSecretSig } = require("@pulumi/pulumi/runtime/rpc");
    if (value && typeof value === "object" && value[specialSigKey] === specialSecretSig) {
        return { value: value.value, secret: true };
    }
    return { value, secret: false };
}

/** Strips every secret envelope from recorded inputs, for asserting on the values themselves. */
export function reveal(value: any): any {
    const unwrapped = unwrapSecret(value).value;
    if (Array.isArray(unwrapped)) return unwrapped.map(reveal);
    if (unwrapped && typeof unwrapped === "object") return Object.fromEntries(Object.entries(unwrapped).map(([k, v]) => [k, reveal(v)]));
    return unwrapped;
}
