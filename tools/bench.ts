/**
 * `npm run bench [-- --runs N --sizes 1,10,100,500 --out bench]` (not part of `npm test`)
 *
 * Generates fleets of 1, 10, 100 and 500 tenants (stack files written as `tenant add` would, a
 * frontend dotenv per tenant) and measures, as whole processes, median of --runs:
 *   - evaluation of one tenant stack under Pulumi's mocks, and a one-resource program (a
 *     Kubernetes Namespace) under the same mocks in the same run: the floor; time and peak memory;
 *   - rendering the three charts with one tenant's values (helm, per tenant);
 *   - `npm run fleet -- preview --json` of the whole fleet with the workspace faked: the runner's own cost;
 *   - `npm run affected` after a change to one tenant's stack file, in a git repository of that fleet.
 * Writes <out>/results.md and <out>/results.svg (the plot, drawn here).
 */
import { execFileSync, spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parseArgs } from "util";
import { plotSvg } from "./lib/bench/plot";
import { median, ratio } from "./lib/bench/stats";
import { REPO_ROOT } from "./lib/stack-files";
import { syntheticRepo, tenantName } from "../tests/support/synthetic-repo";

const NODE = path.join(REPO_ROOT, "node_modules", ".bin", "node");
const PROBES = path.join(REPO_ROOT, "tools", "lib", "bench", "probes.ts");

interface ProcessResult {
    ms: number;
    maxRssKb?: number;
    out: Record<string, any>;
}

/** Runs one child process to its end; wall time from spawn to exit. */
function timed(args: string[], cwd = REPO_ROOT): Promise<ProcessResult> {
    return new Promise((resolve, reject) => {
        const t0 = performance.now();
        const child = spawn(NODE, args, { cwd, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, CI: "true" } });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d) => (stdout += d));
        child.stderr.on("data", (d) => (stderr += d));
        const timer = setTimeout(() => child.kill("SIGKILL"), 300_000);
        child.on("close", (code) => {
            clearTimeout(timer);
            const ms = performance.now() - t0;
            if (code !== 0) return reject(new Error(`${args.join(" ")} exited ${code}:\n${stderr.slice(-2000)}`));
            const last = stdout.trim().split("\n").pop() ?? "";
            let out: Record<string, any>;
            try {
                out = JSON.parse(last);
            } catch {
                out = { stdout: last };
            }
            resolve({ ms, maxRssKb: out.maxRssKb, out });
        });
    });
}

function probe(name: string, args: object): Promise<ProcessResult> {
    return timed(["-r", "ts-node/register/transpile-only", PROBES, name, JSON.stringify(args)]);
}

interface Fleet {
    root: string;
    tenants: string[];
    remove(): void;
}

/** A repository of `n` tenants (2 canaries, the rest in wave 1), with a frontend dotenv each, under git. */
function makeFleet(n: number, frontend: string): Fleet {
    const tenants = Array.from({ length: n }, (_, i) => tenantName(i + 1));
    const repo = syntheticRepo(tenants.map((name, i) => ({ name, wave: i < 2 ? 0 : 1, config: { "stock:frontendSource": frontend } })));
    fs.symlinkSync(path.join(REPO_ROOT, "index.ts"), path.join(repo.root, "index.ts"));
    // The mock runner calls the program's deploy() with a stand-in registry (tools/lib/mock-run.ts).
    fs.symlinkSync(path.join(REPO_ROOT, "components"), path.join(repo.root, "components"), "dir");
    const git = (...args: string[]) =>
        execFileSync("git", ["-C", repo.root, "-c", "user.name=bench", "-c", "user.email=bench@stock-deploy.invalid", ...args], {
            stdio: "ignore",
        });
    git("init", "-q");
    git("add", "-A");
    git("commit", "-qm", "fleet");
    fs.appendFileSync(path.join(repo.root, `Pulumi.${tenants[0]}.yaml`), "# a change to one tenant\n");
    git("commit", "-qam", "one tenant changes");
    return { root: repo.root, tenants, remove: () => repo.remove() };
}

/** The app's frontend with a dotenv for every generated tenant, shared by all bench fleets. */
function makeFrontend(dir: string, tenants: string[]): string {
    const frontend = path.join(dir, "frontend");
    fs.cpSync(path.join(REPO_ROOT, "app", "frontend"), frontend, { recursive: true });
    for (const t of tenants) fs.writeFileSync(path.join(frontend, "envs", t), `REACT_APP_HOST_URL=http://app.${t}.example.com\n`);
    return frontend;
}

/** A one-resource program under the same mocks and the same loader: the floor. */
function makeFloor(dir: string): string {
    const root = path.join(dir, "floor");
    fs.mkdirSync(root);
    fs.copyFileSync(path.join(REPO_ROOT, "Pulumi.yaml"), path.join(root, "Pulumi.yaml"));
    fs.writeFileSync(path.join(root, "Pulumi.floor.yaml"), "config:\n  stock:role: shared\n");
    fs.symlinkSync(path.join(REPO_ROOT, "node_modules"), path.join(root, "node_modules"), "dir");
    fs.writeFileSync(
        path.join(root, "index.ts"),
        'import * as k8s from "@pulumi/kubernetes";\nexport const name = new k8s.core.v1.Namespace("floor").metadata.name;\n',
    );
    return root;
}

interface Row {
    n: number;
    tenantMs: number;
    floorMs: number;
    tenantRssMb: number;
    floorRssMb: number;
    chartsMs: number;
    fleetMs: number;
    fleetRssMb: number;
    affectedMs: number;
}

async function repeat(runs: number, f: () => Promise<ProcessResult>): Promise<ProcessResult[]> {
    const out: ProcessResult[] = [];
    for (let i = 0; i < runs; i++) out.push(await f());
    return out;
}

const mb = (kb: number | undefined) => Math.round(((kb ?? 0) / 1024) * 10) / 10;
const ms = (v: number) => Math.round(v);

async function measure(n: number, fleet: Fleet, floor: string, runs: number, log: (s: string) => void): Promise<Row> {
    const stack = fleet.tenants[0];
    const tenant: ProcessResult[] = [];
    const floorRuns: ProcessResult[] = [];
    // Interleaved, so that a burst of load on the shared machine hits both alike.
    for (let i = 0; i < runs; i++) {
        tenant.push(await probe("eval", { root: fleet.root, stack, tenants: fleet.tenants }));
        floorRuns.push(await probe("eval", { root: floor, stack: "floor" }));
    }
    // A probe that evaluated less than a whole tenant would make a flattering figure.
    if (tenant.some((r) => r.out.resources < 10) || floorRuns.some((r) => r.out.resources !== 1)) {
        throw new Error(
            `unexpected resource counts: tenant ${tenant.map((r) => r.out.resources).join("/")}, floor ${floorRuns.map((r) => r.out.resources).join("/")}`,
        );
    }
    log(
        `  ${n}: tenant eval ${ms(median(tenant.map((r) => r.ms)))} ms (${tenant[0].out.resources} resources), floor ${ms(median(floorRuns.map((r) => r.ms)))} ms`,
    );
    const samples = fleet.tenants.slice(0, Math.min(3, n));
    const charts = await probe("charts", { root: fleet.root, samples, tenants: fleet.tenants, repeat: runs });
    log(`  ${n}: charts ${ms(median(charts.out.perTenantMs))} ms per tenant`);
    const fleetRuns = await repeat(runs, () => probe("fleet", { root: fleet.root }));
    if (fleetRuns.some((r) => r.out.stacks !== n + 1))
        throw new Error(`fleet preview of ${n} tenants reported ${fleetRuns.map((r) => r.out.stacks).join("/")} stacks`);
    log(`  ${n}: fleet preview ${ms(median(fleetRuns.map((r) => r.ms)))} ms`);
    const affected = await repeat(runs, () =>
        timed([
            "-r",
            "ts-node/register/transpile-only",
            path.join(REPO_ROOT, "tools", "affected.ts"),
            "--base",
            "HEAD~1",
            "--root",
            fleet.root,
        ]),
    );
    if (affected.some((r) => r.out.stdout !== stack))
        throw new Error(`affected in a fleet of ${n} printed ${affected.map((r) => JSON.stringify(r.out)).join(" ")}, expected ${stack}`);
    log(`  ${n}: affected ${ms(median(affected.map((r) => r.ms)))} ms`);
    return {
        n,
        tenantMs: ms(median(tenant.map((r) => r.ms))),
        floorMs: ms(median(floorRuns.map((r) => r.ms))),
        tenantRssMb: mb(median(tenant.map((r) => r.maxRssKb ?? 0))),
        floorRssMb: mb(median(floorRuns.map((r) => r.maxRssKb ?? 0))),
        chartsMs: ms(median(charts.out.perTenantMs)),
        fleetMs: ms(median(fleetRuns.map((r) => r.ms))),
        fleetRssMb: mb(median(fleetRuns.map((r) => r.maxRssKb ?? 0))),
        affectedMs: ms(median(affected.map((r) => r.ms))),
    };
}

function machine(): string {
    const cpus = os.cpus();
    return `${cpus.length} × ${cpus[0]?.model ?? "unknown CPU"}, ${Math.round(os.totalmem() / 2 ** 30)} GiB RAM, ${os.type()} ${os.release()}, Node ${process.version}, load average at start ${os
        .loadavg()
        .map((l) => l.toFixed(1))
        .join(" / ")}`;
}

function report(rows: Row[], runs: number, command: string, started: Date, seconds: number, machineNote: string): string {
    const at = (n: number) => rows.find((r) => r.n === n);
    const lines = [
        "# Bench: the fleet at 1, 10, 100 and 500 tenants",
        "",
        `Generated by \`${command}\` on ${started.toISOString()} in ${Math.round(seconds)} s.`,
        "",
        `Machine: ${machineNote}. The machine is shared with other jobs, so single figures are noisy; each is the median of ${runs} runs of a whole process (Node's start, ts-node, the SDK's load, the work, the exit).`,
        "",
        "| tenants | one tenant stack, eval (ms) | floor: one-resource program (ms) | tenant / floor | tenant peak RSS (MB) | floor peak RSS (MB) | 3 charts rendered, per tenant (ms) | `fleet preview`, workspace faked (ms) | fleet per stack (ms) | fleet peak RSS (MB) | `affected` (ms) |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        ...rows.map(
            (r) =>
                `| ${r.n} | ${r.tenantMs} | ${r.floorMs} | ${ratio(r.floorMs, r.tenantMs)} | ${r.tenantRssMb} | ${r.floorRssMb} | ${r.chartsMs} | ${r.fleetMs} | ${Math.round((r.fleetMs / (r.n + 1)) * 10) / 10} | ${r.fleetRssMb} | ${r.affectedMs} |`,
        ),
        "",
    ];
    const small = at(10);
    const big = at(500);
    if (small && big) {
        const figures: [string, number, number][] = [
            ["tenant eval", small.tenantMs, big.tenantMs],
            ["tenant peak RSS", small.tenantRssMb, big.tenantRssMb],
            ["charts per tenant", small.chartsMs, big.chartsMs],
            ["fleet preview", small.fleetMs, big.fleetMs],
            ["fleet peak RSS", small.fleetRssMb, big.fleetRssMb],
            ["affected", small.affectedMs, big.affectedMs],
        ];
        lines.push("Goals: one tenant ≤ 1.5 × the floor; every figure at 500 tenants < 60 × the same figure at 10.", "");
        lines.push("| figure | 10 tenants | 500 tenants | 500 / 10 | goal < 60 |", "|---|---:|---:|---:|---|");
        for (const [name, a, b] of figures)
            lines.push(`| ${name} | ${a} | ${b} | ${ratio(a, b)} | ${ratio(a, b) < 60 ? "met" : "missed"} |`);
        lines.push("");
        const worst = Math.max(...rows.map((r) => r.tenantMs / r.floorMs));
        lines.push(
            `One tenant against the floor: at most ${worst.toFixed(3)} × (goal ≤ 1.5: ${worst <= 1.5 ? "met" : "missed"}); the ratio per size: ${rows.map((r) => `${r.n}: ${(r.tenantMs / r.floorMs).toFixed(2)}`).join(", ")}.`,
            "",
        );
    }
    lines.push("![time against tenant count](results.svg)", "");
    lines.push(
        "What each figure is:",
        "- *eval*: `runProgram` (tools/lib/mock-run.ts) of the first tenant's stack in a repository of N tenants, the shared stack's outputs carrying N credentials; the floor is the same harness running a program of one Kubernetes Namespace.",
        "- *charts*: the three charts rendered by the real helm with the values the program computed, for up to 3 tenants, per tenant (the program run not counted).",
        '- *fleet preview*: `npm run fleet -- preview --json --parallel 4` in-process of a probe with a fake backend that answers at once: config model over every stack file, rollout plan, scheduling, report. "per stack" is the total over N + 1 stacks.',
        "- *affected*: `npm run affected -- --base HEAD~1` in a git repository of N tenants whose last commit changed one tenant's stack file.",
        "",
    );
    return `${lines.join("\n")}`;
}

async function main(argv: string[]): Promise<number> {
    const { values } = parseArgs({ args: argv, options: { runs: { type: "string" }, sizes: { type: "string" }, out: { type: "string" } } });
    const runs = Number(values.runs ?? 3);
    const sizes = (values.sizes ?? "1,10,100,500").split(",").map(Number);
    if (!Number.isInteger(runs) || runs < 1 || sizes.some((s) => !Number.isInteger(s) || s < 1)) {
        process.stderr.write("usage: npm run bench [-- --runs N --sizes 1,10,100,500 --out DIR]\n");
        return 2;
    }
    const out = path.resolve(values.out ?? path.join(REPO_ROOT, "bench"));
    const started = new Date();
    const machineNote = machine();
    const t0 = performance.now();
    const log = (s: string) => process.stderr.write(`${s}\n`);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "stock-bench-"));
    const rows: Row[] = [];
    try {
        const frontend = makeFrontend(
            dir,
            Array.from({ length: Math.max(...sizes) }, (_, i) => tenantName(i + 1)),
        );
        const floor = makeFloor(dir);
        log(`bench: ${machineNote}; ${runs} runs each`);
        for (const n of sizes) {
            const fleet = makeFleet(n, frontend);
            try {
                rows.push(await measure(n, fleet, floor, runs, log));
            } finally {
                fleet.remove();
            }
        }
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
    const seconds = (performance.now() - t0) / 1000;
    const command = `npm run bench${argv.length ? ` -- ${argv.join(" ")}` : ""}`;
    fs.mkdirSync(out, { recursive: true });
    fs.writeFileSync(path.join(out, "results.md"), report(rows, runs, command, started, seconds, machineNote));
    fs.writeFileSync(
        path.join(out, "results.svg"),
        plotSvg("stock-deploy at scale: median time against tenant count", [
            { name: "one tenant stack, eval", points: rows.map((r) => [r.n, r.tenantMs]) },
            { name: "floor (one resource)", points: rows.map((r) => [r.n, r.floorMs]) },
            { name: "3 charts, per tenant", points: rows.map((r) => [r.n, r.chartsMs]) },
            { name: "fleet preview (faked)", points: rows.map((r) => [r.n, r.fleetMs]) },
            { name: "affected", points: rows.map((r) => [r.n, r.affectedMs]) },
        ]),
    );
    log(`bench: wrote ${path.join(out, "results.md")} and results.svg in ${Math.round(seconds)} s`);
    return 0;
}

if (require.main === module) {
    main(process.argv.slice(2)).then(
        (code) => process.exit(code),
        (e) => {
            process.stderr.write(`bench: ${(e as Error).stack ?? e}\n`);
            process.exit(1);
        },
    );
}
