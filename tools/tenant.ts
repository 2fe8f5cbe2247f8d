/**
 * `npm run tenant -- add <tenant> --host <host> --backend-source <dir> --frontend-source <dir> [--profile real|reference] [--build-for <dotenv>] [--wave N] [--db-name X] [--db-user Y]`
 * `npm run tenant -- remove <tenant> [--force]`
 * `npm run tenant -- list [--json]`
 *
 * add     writes Pulumi.<tenant>.yaml (checked by the program's config model and its build-context
 *         checks first), lists the tenant in Pulumi.shared.yaml's stock:tenants (no frontend dotenv:
 *         the program computes it; one the frontend source has for --build-for must agree with it),
 *         and prints what is left to do (secrets, Harbor robot, database, DNS, the load balancer block).
 *         --backend-source/--frontend-source are stock:backendSource/frontendSource, one flag per key
 *         like every other option (the real app's checkout has them as <checkout>/backend and
 *         <checkout>/frontend), written as given: relative to the repository, or absolute.
 *         --profile names the app profile whose keys the stack file gets (tools/lib/app-profiles.ts):
 *         real (default: the project defaults, the real app's) or reference (app/, which needs it).
 * remove  reverses add; refuses while the Pulumi stack still exists in the backend (asked of the
 *         Pulumi CLI) unless --force.
 * list    a table of the tenants: stack, host, rollout wave, config status.
 * --root REPO works on another checkout (default: this one).
 * Exit code: 0 done, 1 refused (the message says why and what to do), 2 bad arguments.
 */
import { execFile } from "child_process";
import Table from "cli-table3";
import { stackFile } from "../components/config";
import { REPO_ROOT } from "./lib/stack-files";
import { TenantError, applyChanges, planAdd, planRemove, tenantRows } from "./lib/tenants";
import { Output, parseCli } from "./lib/cli";
import { appProfile, unknownProfileMessage } from "./lib/app-profiles";

const USAGE = [
    "usage: npm run tenant -- add <tenant> --host <host> --backend-source <dir> --frontend-source <dir>",
    "                             [--profile real|reference] [--build-for <dotenv>] [--wave N] [--db-name X] [--db-user Y]",
    "       (the app's build contexts, relative to this repository or absolute, e.g. the real app's checkout:",
    "        --backend-source ../stock/backend --frontend-source ../stock/frontend;",
    "        the reference app in app/: --backend-source app/backend --frontend-source app/frontend --profile reference)",
    "       npm run tenant -- remove <tenant> [--force]",
    "       npm run tenant -- list [--json]",
].join("\n");

/** Whether a Pulumi stack exists in the backend, or why that cannot be told. */
export type StackLookup = (stack: string, root: string) => Promise<{ exists: boolean } | { unknown: string }>;

/** Asks the Pulumi CLI (`pulumi stack ls --json` in the project folder). */
export const pulumiStackLookup: StackLookup = (stack, root) =>
    new Promise((resolve) => {
        execFile("pulumi", ["stack", "ls", "--json"], { cwd: root, timeout: 60_000, maxBuffer: 64 << 20 }, (error, stdout, stderr) => {
            if ((error as NodeJS.ErrnoException | null)?.code === "ENOENT") return resolve({ unknown: "no Pulumi CLI on PATH" });
            if (error)
                return resolve({
                    unknown: `pulumi stack ls failed: ${
                        String(stderr || error.message)
                            .trim()
                            .split("\n")[0]
                    }`,
                });
            try {
                const stacks = JSON.parse(stdout) as Array<{ name: string }>;
                // Names come as `stack`, `org/stack` or `org/project/stack`, depending on the backend.
                resolve({ exists: stacks.some((s) => s.name.split("/").pop() === stack) });
            } catch {
                resolve({ unknown: "pulumi stack ls --json printed something that is not JSON" });
            }
        });
    });

export interface TenantCliDeps {
    stdout?: Output;
    stderr?: Output;
    stackLookup?: StackLookup;
}

function listTable(root: string): string {
    const table = new Table({ head: ["tenant", "stack file", "host", "wave", "config"], style: { head: [], border: [] } });
    for (const r of tenantRows(root)) {
        const wave = r.wave === undefined ? "-" : r.wave === 0 ? "0 (canary)" : String(r.wave);
        table.push([r.tenant, r.stack ? stackFile(r.stack) : "-", r.host ?? "-", wave, r.status]);
    }
    return table.toString() + "\n";
}

/** The CLI, callable in-process: returns the exit code. */
export async function main(argv: string[], deps: TenantCliDeps = {}): Promise<number> {
    const stdout = deps.stdout ?? process.stdout;
    const stderr = deps.stderr ?? process.stderr;
    const parsed = parseCli(argv, {
        options: {
            host: { type: "string" },
            "backend-source": { type: "string" },
            "frontend-source": { type: "string" },
            profile: { type: "string" },
            "build-for": { type: "string" },
            wave: { type: "string" },
            "db-name": { type: "string" },
            "db-user": { type: "string" },
            force: { type: "boolean" },
            json: { type: "boolean" },
            root: { type: "string" },
            help: { type: "boolean" },
        },
        allowPositionals: true,
        usage: USAGE,
        stdout,
        stderr,
    });
    if (typeof parsed === "number") return parsed;
    const { values: args, positionals } = parsed;
    const [command, tenant, ...extra] = positionals;
    const root = args.root ?? REPO_ROOT;
    const bad = (message: string) => {
        stderr.write(`${message}\n${USAGE}\n`);
        return 2;
    };
    if (extra.length) return bad(`unexpected argument(s): ${extra.join(" ")}`);
    const onlyFor = (allowed: string[]) =>
        (Object.keys(args) as Array<keyof typeof args>).filter((k) => k !== "root" && !allowed.includes(k));

    try {
        switch (command) {
            case "add": {
                if (!tenant) return bad("tenant add needs the tenant's name");
                if (!args.host) return bad("tenant add needs --host <the tenant's public host>, e.g. --host app.client-d.example.com");
                const { "backend-source": backendSource, "frontend-source": frontendSource } = args;
                if (!backendSource || !frontendSource)
                    return bad(
                        `tenant add needs ${[backendSource ? "" : "--backend-source", frontendSource ? "" : "--frontend-source"].filter(Boolean).join(" and ")}: the app's build contexts (no default, so that no stack builds an app it did not name), e.g. --backend-source ../stock/backend --frontend-source ../stock/frontend for a checkout of github.com/fengxia41103/stock next to this repository`,
                    );
                const misplaced = onlyFor([
                    "host",
                    "backend-source",
                    "frontend-source",
                    "profile",
                    "build-for",
                    "wave",
                    "db-name",
                    "db-user",
                ]);
                if (misplaced.length) return bad(`--${misplaced.join(", --")} is not an option of tenant add`);
                if (args.wave !== undefined && !/^\d+$/.test(args.wave))
                    return bad(`--wave must be a whole number of 0 or more (0 = canary), got '${args.wave}'`);
                if (args.profile !== undefined && !appProfile(args.profile)) return bad(unknownProfileMessage(args.profile));
                const plan = planAdd(
                    {
                        tenant,
                        host: args.host,
                        backendSource,
                        frontendSource,
                        profile: args.profile,
                        buildFor: args["build-for"],
                        wave: args.wave === undefined ? undefined : Number(args.wave),
                        dbName: args["db-name"],
                        dbUser: args["db-user"],
                    },
                    root,
                );
                applyChanges(plan.changes, root);
                stdout.write(
                    `Added tenant ${tenant}:\n${plan.changes.map((c) => `  wrote ${c.file}`).join("\n")}\n\nStill to do:\n${plan.nextSteps}`,
                );
                return 0;
            }
            case "remove": {
                if (!tenant) return bad("tenant remove needs the tenant's name");
                const misplaced = onlyFor(["force"]);
                if (misplaced.length) return bad(`--${misplaced.join(", --")} is not an option of tenant remove`);
                const plan = planRemove(tenant, root);
                const { stack } = plan;
                if (!args.force) {
                    const found = await (deps.stackLookup ?? pulumiStackLookup)(stack, root);
                    if ("unknown" in found) {
                        stderr.write(
                            `Cannot tell whether the Pulumi stack ${stack} still exists (${found.unknown}). Check with \`pulumi stack ls\`; once it is destroyed and removed, run again with --force.\n`,
                        );
                        return 1;
                    }
                    if (found.exists) {
                        stderr.write(
                            `The Pulumi stack ${stack} still exists: removing its files would orphan its resources. First: pulumi destroy -s ${stack} && pulumi stack rm ${stack}; then run this again (or pass --force).\n`,
                        );
                        return 1;
                    }
                }
                applyChanges(plan.changes, root);
                const lines = [
                    ...plan.changes.map((c) => (c.content === undefined ? `  deleted ${c.file}` : `  wrote ${c.file}`)),
                    ...plan.notes.map((n) => `  ${n}`),
                ];
                stdout.write(
                    `Removed tenant ${tenant}:\n${lines.join("\n")}\n\nThen: pulumi up -s shared (drops its Redis user); remove its DNS name, load balancer block, Harbor robot and database.\n`,
                );
                return 0;
            }
            case "list": {
                if (tenant) return bad(`tenant list takes no name (got ${tenant})`);
                const misplaced = onlyFor(["json"]);
                if (misplaced.length) return bad(`--${misplaced.join(", --")} is not an option of tenant list`);
                stdout.write(args.json ? `${JSON.stringify(tenantRows(root), null, 2)}\n` : listTable(root));
                return 0;
            }
            default:
                return bad(command ? `unknown command '${command}'` : "which command?");
        }
    } catch (e) {
        if (e instanceof TenantError) {
            stderr.write(`${e.message}\n`);
            return 1;
        }
        throw e;
    }
}

if (require.main === module) {
    main(process.argv.slice(2)).then(
        (code) => (process.exitCode = code),
        (e: unknown) => {
            process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
            process.exitCode = 1;
        },
    );
}
