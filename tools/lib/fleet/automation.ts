/**
 * The real FleetBackend: the Pulumi Automation API (`LocalWorkspace` over this project's files).
 * - prepare(): finds the Pulumi CLI (failing fast with a clear message when there is none), checks
 *   the login, and installs every resource plugin the program uses, once: parallel installs of one
 *   plugin interfere with each other (pulumi/pulumi#22784).
 * - openWorker(): a LocalWorkspace over the worker's own copy of the project (worker-dir.ts), so
 *   parallel `stack select`s never share a workspace file (pulumi/pulumi#8186).
 * - a stack already being updated (HTTP 409, ConcurrentUpdateError) becomes StackBusyError.
 * - a run stopped by a signal aborts the operations' `signal`: the Automation API (3.270,
 *   automation/cmd.js) then sends the `pulumi` child one SIGINT, which the CLI takes as "cancel
 *   gracefully" (in-flight resource operations finish, the checkpoint is written, the lock released).
 */
import * as fs from "fs";
import * as path from "path";
import { ConcurrentUpdateError, EngineEvent, LocalWorkspace, PulumiCommand, Stack, StackNotFoundError } from "@pulumi/pulumi/automation";
import { PROJECT } from "../../../components/config";
import { FleetBackend, FleetEnvironmentError, FleetWorker, StackBusyError, StackOutcome, StackRunOptions } from "./backend";
import { FleetOperation } from "./report";
import { createWorkerDir, syncStackFileBack } from "./worker-dir";

export interface AutomationBackendOptions {
    /** The project's directory (Pulumi.yaml, the stack files, node_modules). */
    root: string;
    /** Pulumi organization of the stacks; default: the backend's default organization. */
    organization?: string;
    /** Where the workers' project copies go (removed when the run ends). Default `<root>/.cache/fleet`. */
    workersDir?: string;
    /** The policy pack every operation runs with, and its config. Default `<root>/policy`, `<root>/policy/config.json`. */
    policyPack?: { dir: string; config?: string } | null;
    /** Environment for the CLI (PATH decides which `pulumi` runs). Default: this process's. */
    env?: NodeJS.ProcessEnv;
}

const INSTALL_HELP =
    "Install it (https://www.pulumi.com/docs/iac/download-install/), log in to the backend (pulumi login), and run again. Offline, `npm run plan -- --stack <name>` shows what one stack would create.";

/** `pulumi` on PATH, or null. */
export function findPulumiOnPath(env: NodeJS.ProcessEnv = process.env): string | null {
    for (const dir of (env.PATH ?? "").split(path.delimiter).filter(Boolean)) {
        const candidate = path.join(dir, "pulumi");
        try {
            fs.accessSync(candidate, fs.constants.X_OK);
            if (fs.statSync(candidate).isFile()) return candidate;
        } catch {
            // not here
        }
    }
    return null;
}

export interface ResourcePlugin {
    name: string;
    version: string;
}

/** The resource plugins of the program: every @pulumi/* package in node_modules that declares one (package.json `pulumi.resource`). */
export function resourcePlugins(root: string): ResourcePlugin[] {
    const scope = path.join(root, "node_modules", "@pulumi");
    if (!fs.existsSync(scope)) return [];
    const plugins: ResourcePlugin[] = [];
    for (const pkg of fs.readdirSync(scope).sort()) {
        const file = path.join(scope, pkg, "package.json");
        if (!fs.existsSync(file)) continue;
        const json = JSON.parse(fs.readFileSync(file, "utf8"));
        const meta = json.pulumi;
        if (meta?.resource) plugins.push({ name: meta.name ?? pkg, version: meta.version ?? json.version });
    }
    return plugins;
}

/** One line for a noteworthy engine event, or null for the rest. */
export function progressLine(event: EngineEvent): string | null {
    if (event.resourcePreEvent) {
        const { op, type, urn } = event.resourcePreEvent.metadata;
        if (op === "same" || op === "read") return null;
        return `${op} ${type} ${urn.split("::").pop()}`;
    }
    if (event.diagnosticEvent?.severity === "error") return `error: ${event.diagnosticEvent.message.trim()}`;
    if (event.policyEvent)
        return `policy ${event.policyEvent.policyName} (${event.policyEvent.enforcementLevel}): ${event.policyEvent.message.trim()}`;
    return null;
}

function envStrings(env: NodeJS.ProcessEnv): Record<string, string> {
    return Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => typeof e[1] === "string"));
}

export class AutomationBackend implements FleetBackend {
    private command?: PulumiCommand;
    private readonly env: Record<string, string>;
    private runDir?: string;

    constructor(private readonly options: AutomationBackendOptions) {
        this.env = { ...envStrings(options.env ?? process.env), PULUMI_SKIP_UPDATE_CHECK: "true" };
    }

    private get policyPack() {
        if (this.options.policyPack === null) return null;
        return this.options.policyPack ?? { dir: "policy", config: "policy/config.json" };
    }

    async prepare(): Promise<void> {
        const found = findPulumiOnPath(this.env);
        if (!found) {
            throw new FleetEnvironmentError(`npm run fleet needs the Pulumi CLI, and there is no \`pulumi\` on PATH. ${INSTALL_HELP}`);
        }
        try {
            // PulumiCommand runs <root>/bin/pulumi: the one found on the PATH given, not this process's.
            const bin = path.dirname(found);
            this.command = await PulumiCommand.get(path.basename(bin) === "bin" ? { root: path.dirname(bin) } : undefined);
        } catch (e) {
            throw new FleetEnvironmentError(
                `the Pulumi CLI at ${found} cannot be used: ${(e as Error).message.split("\n")[0]}. ${INSTALL_HELP}`,
            );
        }
        const workspace = await LocalWorkspace.create({ workDir: this.options.root, pulumiCommand: this.command, envVars: this.env });
        try {
            await workspace.whoAmI();
        } catch (e) {
            throw new FleetEnvironmentError(
                `the Pulumi CLI is not logged in to a backend (pulumi login): ${(e as Error).message.split("\n").find((l) => /error/i.test(l)) ?? ""}`.trim(),
            );
        }
        for (const plugin of resourcePlugins(this.options.root)) {
            await workspace.installPlugin(plugin.name, plugin.version, "resource");
        }
        const base = this.options.workersDir ?? path.join(this.options.root, ".cache", "fleet");
        fs.mkdirSync(base, { recursive: true });
        this.runDir = fs.mkdtempSync(path.join(base, "run-"));
    }

    async openWorker(index: number): Promise<FleetWorker> {
        if (!this.command || !this.runDir) throw new Error("prepare() must run before openWorker()");
        const dir = path.join(this.runDir, `worker-${index}`);
        const project = createWorkerDir(this.options.root, dir);
        const workspace = await LocalWorkspace.create({ workDir: project, pulumiCommand: this.command, envVars: this.env });
        const isLast = () => fs.readdirSync(this.runDir!).length === 0;
        return {
            run: (stack, operation, options) => this.run(workspace, project, stack, operation, options),
            close: () => {
                fs.rmSync(dir, { recursive: true, force: true });
                if (isLast()) fs.rmSync(this.runDir!, { recursive: true, force: true });
                return Promise.resolve();
            },
        };
    }

    private qualified(stack: string): string {
        return this.options.organization ? `${this.options.organization}/${PROJECT}/${stack}` : stack;
    }

    private async run(
        workspace: LocalWorkspace,
        dir: string,
        name: string,
        operation: FleetOperation,
        options: StackRunOptions,
    ): Promise<StackOutcome> {
        let policyViolations = 0;
        // The engine numbers its events, and the Automation API's tail of the event log
        // (@logdna/tail-file 4) can deliver a line twice: its final read on quit() can run beside a
        // poll already in flight, both streaming from the same position. A violation counts once.
        const delivered = new Set<number>();
        const onEvent = (event: EngineEvent) => {
            if (delivered.has(event.sequence)) return;
            delivered.add(event.sequence);
            if (event.policyEvent) policyViolations++;
            const line = progressLine(event);
            if (line) options.onProgress(line);
        };
        const pack = this.policyPack;
        const policy = pack
            ? { policyPacks: [path.join(dir, pack.dir)], policyPackConfigs: pack.config ? [path.join(dir, pack.config)] : [] }
            : {};
        const common = { onEvent, color: "never" as const, signal: options.cancel };
        try {
            let stack: Stack;
            try {
                stack = await Stack.select(this.qualified(name), workspace);
            } catch (e) {
                if (e instanceof StackNotFoundError)
                    throw new Error(
                        `error: stack ${this.qualified(name)} does not exist in the backend. Create it first: pulumi stack init ${this.qualified(name)} (README, Deploy)`,
                        { cause: e },
                    );
                throw e;
            }
            // The SDK listens for the abort only once the CLI runs: one that came before would be missed.
            if (options.cancel?.aborted) throw new Error(`error: ${name} was not started: the run was stopped`);
            let changeSummary: Record<string, number | undefined>;
            switch (operation) {
                case "preview":
                    changeSummary = (await stack.preview({ ...common, ...policy, refresh: options.refresh })).changeSummary;
                    break;
                case "up":
                    changeSummary = (await stack.up({ ...common, ...policy, refresh: options.refresh })).summary.resourceChanges ?? {};
                    break;
                case "refresh":
                    changeSummary = options.previewOnly
                        ? (await stack.previewRefresh(common)).changeSummary
                        : ((await stack.refresh(common)).summary.resourceChanges ?? {});
                    break;
                case "destroy":
                    changeSummary = (await stack.destroy(common)).summary.resourceChanges ?? {};
                    break;
            }
            return { changeSummary, policyViolations };
        } catch (e) {
            if (e instanceof ConcurrentUpdateError) throw new StackBusyError(name, "HTTP 409 from the backend");
            throw e;
        } finally {
            if (syncStackFileBack(this.options.root, dir, name))
                options.onProgress(`Pulumi.${name}.yaml was rewritten by the CLI; copied back to the repository`);
        }
    }
}
