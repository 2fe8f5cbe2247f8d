/**
 * `npm run bench [-- --runs N --sizes 1,10,100,500 --out bench]` (not part of `npm test`)
 *
 * Generates fleets of 1, 10, 100 and 500 tenants (stack files written as `tenant add` would, a
 * frontend dotenv per tenant) and measures, as whole processes, median of --runs:
 *   - evaluation of one tenant stack under Pulumi's mocks, and a one-resource program (a
 *     Kubernetes Namespace) under the same mocks in the same run: the floor; time, CPU time and
 *     peak memory, --eval-runs pairs, each pair's ratio kept for the spread. Both run through
 *     tools/lib/bench/eval-probe.ts (same Node, flags, transpiler and mocks, checked), once with the
 *     harness reading the stack file as the tests do, once with the config handed over as the
 *     Pulumi CLI hands it (the goal's figure: the floor's process then loads nothing of the program);
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
import type { EvalProbeArgs } from "./lib/bench/eval-probe";
import { plotSvg } from "./lib/bench/plot";
import { Spread, goalVerdict, median, ratio, spread } from "./lib/bench/stats";
import { defaultSharedOutputs } from "./lib/mock-run";
import { REPO_ROOT, rawStackConfig } from "./lib/stack-files";
import { syntheticRepo, tenantName } from "../tests/support/synthetic-repo";

const NODE = path.join(REPO_ROOT, "node_modules", ".bin", "node");
const PROBES = path.join(REPO_ROOT, "tools", "lib", "bench", "probes.ts");
const EVAL_PROBE = path.join(REPO_ROOT, "tools", "lib", "bench", "eval-probe.ts");
/** What a program run reads besides its stack files: the program, its charts, runtime and the app's default sources. */
const PROGRAM_FILES = ["index.ts", "components", "charts", "runtime", "app"];
/** What the program may claim of one tenant stack's evaluation against the floor's. */
const FLOOR_GOAL = 1.5;

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

/** An evaluation probe; its arguments are in a file (500 tenants' shared outputs outgrow one argv string). */
function evalProbe(argsFile: string): Promise<ProcessResult> {
    return timed(["-r", "ts-node/register/transpile-only", EVAL_PROBE, argsFile]);
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
    // The program is copied, not linked: Node resolves a link to this repository, and the program
    // would then check this repository's stack files for conflicts instead of the fleet's N.
    for (const entry of [...PROGRAM_FILES, ".gitignore"])
        fs.cpSync(path.join(REPO_ROOT, entry), path.join(repo.root, entry), { recursive: true });
    fs.symlinkSync(path.join(REPO_ROOT, "node_modules"), path.join(repo.root, "node_modules"), "dir");
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
    // The app ships no envs/ (the program computes each dotenv); hand-written ones are what a fleet may carry.
    fs.mkdirSync(path.join(frontend, "envs"), { recursive: true });
    for (const t of tenants) fs.writeFileSync(path.join(frontend, "envs", t), `REACT_APP_HOST_URL=http://app.${t}.example.com\n`);
    return frontend;
}

/**
 * A one-resource program under the same mocks and the same loader: the floor. It imports the SDK as
 * the program does (a submodule, not the package index), so it stays the least a program can cost.
 */
function makeFloor(dir: string): string {
    const root = path.join(dir, "floor");
    fs.mkdirSync(root);
    fs.copyFileSync(path.join(REPO_ROOT, "Pulumi.yaml"), path.join(root, "Pulumi.yaml"));
    fs.writeFileSync(path.join(root, "Pulumi.floor.yaml"), "config:\n  stock:role: shared\n");
    fs.symlinkSync(path.join(REPO_ROOT, "node_modules"), path.join(root, "node_modules"), "dir");
    fs.writeFileSync(
        path.join(root, "index.ts"),
        'import { Namespace } from "@pulumi/kubernetes/core/v1";\nexport const name = new Namespace("floor").metadata.name;\n',
    );
    return root;
}

/** One tenant stack against the floor, `runs` interleaved pairs. */
interface FloorComparison {
    tenantMs: number;
    floorMs: number;
    tenantCpuMs: number;
    floorCpuMs: number;
    tenantRssMb: number;
    floorRssMb: number;
    /** tenant / floor of each pair, wall and CPU time. */
    wall: Spread & { ratios: number[] };
    cpu: Spread & { ratios: number[] };
}

interface Row {
    n: number;
    /** Config handed over, as by the Pulumi CLI: the goal's figure. */
    handed: FloorComparison;
    /** Config read by the harness in the same process, as the tests run a program. */
    read: FloorComparison;
    /** Load average (1 min) before and after the evaluation pairs. */
    load: [number, number];
    /** Node, flags and transpiler every evaluation probe reported (one for all, or the bench stops). */
    runtime: string;
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

function comparison(tenant: ProcessResult[], floor: ProcessResult[]): FloorComparison {
    const pairs = (f: (r: ProcessResult) => number) => tenant.map((t, i) => f(t) / f(floor[i]));
    const wall = pairs((r) => r.ms);
    const cpu = pairs((r) => r.out.cpuMs);
    return {
        tenantMs: ms(median(tenant.map((r) => r.ms))),
        floorMs: ms(median(floor.map((r) => r.ms))),
        tenantCpuMs: ms(median(tenant.map((r) => r.out.cpuMs))),
        floorCpuMs: ms(median(floor.map((r) => r.out.cpuMs))),
        tenantRssMb: mb(median(tenant.map((r) => r.maxRssKb ?? 0))),
        floorRssMb: mb(median(floor.map((r) => r.maxRssKb ?? 0))),
        wall: { ...spread(wall), ratios: wall },
        cpu: { ...spread(cpu), ratios: cpu },
    };
}

/** The tenant stack and the floor, each with its config read by the harness and handed over, in interleaved pairs. */
async function evaluations(
    dir: string,
    fleet: Fleet,
    floor: string,
    runs: number,
): Promise<Pick<Row, "handed" | "read" | "load" | "runtime">> {
    const stack = fleet.tenants[0];
    const shared = defaultSharedOutputs(fleet.tenants);
    const handed = (root: string, name: string, sharedOutputs?: Record<string, unknown>): EvalProbeArgs => {
        const raw = rawStackConfig(name, { root });
        return { root, stack: name, raw: { values: raw.values, secretKeys: [...raw.secretKeys] }, sharedOutputs };
    };
    const probes = {
        tenantHanded: handed(fleet.root, stack, shared),
        floorHanded: handed(floor, "floor"),
        tenantRead: { root: fleet.root, stack, tenants: fleet.tenants } as EvalProbeArgs,
        floorRead: { root: floor, stack: "floor" } as EvalProbeArgs,
    };
    const results: Record<keyof typeof probes, ProcessResult[]> = { tenantHanded: [], floorHanded: [], tenantRead: [], floorRead: [] };
    const order = Object.keys(probes) as (keyof typeof probes)[];
    const files = Object.fromEntries(
        order.map((key) => {
            const file = path.join(dir, `eval-${fleet.tenants.length}-${key}.json`);
            fs.writeFileSync(file, JSON.stringify(probes[key]));
            return [key, file];
        }),
    ) as Record<keyof typeof probes, string>;
    const load0 = os.loadavg()[0];
    for (let i = 0; i < runs; i++) {
        // Interleaved, and every other round in reverse, so that a burst of load or a slow drift on
        // the shared machine hits tenant and floor alike.
        for (const key of i % 2 ? [...order].reverse() : order) results[key].push(await evalProbe(files[key]));
    }
    const load1 = os.loadavg()[0];
    // A probe that evaluated less than a whole tenant would make a flattering figure, and one that
    // ran on another transpiler or other flags would compare two runtimes instead of two programs.
    const counts = order.map((k) => `${k} ${results[k].map((r) => r.out.resources).join("/")}`).join(", ");
    if ([...results.tenantHanded, ...results.tenantRead].some((r) => r.out.resources < 10))
        throw new Error(`a tenant evaluation registered too few resources: ${counts}`);
    if ([...results.floorHanded, ...results.floorRead].some((r) => r.out.resources !== 1))
        throw new Error(`the floor is not one resource: ${counts}`);
    const runtimes = new Set(order.flatMap((k) => results[k].map((r) => String(r.out.runtime))));
    if (runtimes.size !== 1) throw new Error(`tenant and floor ran on different runtimes: ${[...runtimes].join(" | ")}`);
    return {
        handed: comparison(results.tenantHanded, results.floorHanded),
        read: comparison(results.tenantRead, results.floorRead),
        load: [load0, load1],
        runtime: [...runtimes][0],
    };
}

async function measure(
    n: number,
    fleet: Fleet,
    floor: string,
    runs: number,
    evalRuns: number,
    dir: string,
    log: (s: string) => void,
): Promise<Row> {
    const stack = fleet.tenants[0];
    const evals = await evaluations(dir, fleet, floor, evalRuns);
    for (const [name, c] of [
        ["config handed over", evals.handed],
        ["config read by the harness", evals.read],
    ] as const) {
        log(
            `  ${n}: ${name}: tenant ${c.tenantMs} ms, floor ${c.floorMs} ms, ratio ${c.wall.median.toFixed(2)} (${c.wall.min.toFixed(2)}–${c.wall.max.toFixed(2)}), CPU ratio ${c.cpu.median.toFixed(2)}`,
        );
    }
    const samples = fleet.tenants.slice(0, Math.min(3, n));
    const charts = await probe("charts", { root: fleet.root, samples, tenants: fleet.tenants, repeat: runs });
    log(`  ${n}: charts ${ms(median(charts.out.perTenantMs))} ms per tenant`);
    const fleetRuns = await repeat(runs, () => probe("fleet", { root: fleet.root }));
    // The tenants, the shared stack and the images stack.
    const stacks = n + 2;
    if (fleetRuns.some((r) => r.out.stacks !== stacks))
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
        ...evals,
        tenantMs: evals.handed.tenantMs,
        floorMs: evals.handed.floorMs,
        tenantRssMb: evals.handed.tenantRssMb,
        floorRssMb: evals.handed.floorRssMb,
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
        .join(" / ")}; dependencies as patched by npm ci: ${patchesApplied()}`;
}

/** The patches npm ci applies (patches/README.md): they change what a stack evaluation costs, so the results name them. */
function patchesApplied(): string {
    const dir = path.join(REPO_ROOT, "patches");
    const patches = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith(".patch")) : [];
    return patches.length ? patches.sort().join(", ") : "none";
}

const f2 = (v: number) => v.toFixed(2);

function floorLines(rows: Row[]): string[] {
    const lines = [
        `One tenant stack against the floor (goal: ≤ ${FLOOR_GOAL} ×). Each size: interleaved pairs of whole processes; the ratio is tenant / floor of each pair, so a burst of load hits both sides of it.`,
        "",
        "| tenants | config | tenant (ms) | floor (ms) | ratio: median | min – max | pairs above the goal | tenant CPU (ms) | floor CPU (ms) | CPU ratio: median (min – max) | tenant / floor peak RSS (MB) | load (1 min) before → after |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ];
    for (const r of rows) {
        for (const [name, c] of [
            ["handed over", r.handed],
            ["read by the harness", r.read],
        ] as const) {
            const v = goalVerdict(c.wall.ratios, FLOOR_GOAL);
            lines.push(
                `| ${r.n} | ${name} | ${c.tenantMs} | ${c.floorMs} | ${f2(c.wall.median)} | ${f2(c.wall.min)} – ${f2(c.wall.max)} | ${v.above} of ${c.wall.ratios.length} | ${c.tenantCpuMs} | ${c.floorCpuMs} | ${f2(c.cpu.median)} (${f2(c.cpu.min)} – ${f2(c.cpu.max)}) | ${c.tenantRssMb} / ${c.floorRssMb} | ${r.load[0].toFixed(1)} → ${r.load[1].toFixed(1)} |`,
            );
        }
    }
    // Wall time is the goal's figure; on a loaded machine waiting for a CPU pads both sides alike and
    // pulls the ratio towards 1, which CPU time does not: the goal is met only when both say so.
    const rank = { met: 0, "met on the median": 1, missed: 2 } as const;
    const verdicts = rows.map((r) => {
        const wall = goalVerdict(r.handed.wall.ratios, FLOOR_GOAL);
        const cpu = goalVerdict(r.handed.cpu.ratios, FLOOR_GOAL);
        return { n: r.n, wall, cpu, status: rank[wall.status] >= rank[cpu.status] ? wall.status : cpu.status, r };
    });
    // The issue's goal is the fleet of one ("one tenant"); the larger fleets are held to the same
    // rule beside it, stricter than the goal, so that a cost growing with the fleet shows.
    const describe = (v: (typeof verdicts)[number]) =>
        `${v.n}: ${f2(v.r.handed.wall.median)} / ${f2(v.r.handed.cpu.median)} (${v.status}; pairs above: wall ${v.wall.above}, CPU ${v.cpu.above} of ${v.r.handed.wall.ratios.length})`;
    const goal = verdicts.find((v) => v.n === 1);
    const larger = verdicts.filter((v) => v.n !== 1);
    const busy = rows.some((r) => Math.max(...r.load) > os.cpus().length);
    lines.push(
        "",
        goal
            ? `**Goal, one tenant ≤ ${FLOOR_GOAL} × the floor (the fleet of 1, config handed over; wall and CPU time both): ${goal.status}.** Wall / CPU ratio median, ${describe(goal)}.`
            : `**Goal, one tenant ≤ ${FLOOR_GOAL} × the floor: not measured** (the fleet of 1 was not among the sizes).`,
        ...(larger.length
            ? ["", `The larger fleets, held to the same rule (stricter than the goal): ${larger.map(describe).join("; ")}.`]
            : []),
        "",
        `With the config read by the harness, the floor's process also loads the config model (zod, yaml, components/config), which the tenant program then finds loaded: that figure flatters the program and is not the goal's (wall ratio ${rows.map((r) => `${r.n}: ${f2(r.read.wall.median)}`).join(", ")}).${busy ? ` The load average exceeded the ${os.cpus().length} cores during some pairs: their wall times include waiting for a CPU, so read the CPU ratios.` : ""}`,
        "",
    );
    return lines;
}

function report(
    rows: Row[],
    runs: number,
    evalRuns: number,
    command: string,
    started: Date,
    seconds: number,
    machineNote: string,
    runtime: string,
): string {
    const at = (n: number) => rows.find((r) => r.n === n);
    const lines = [
        "# Bench: the fleet at 1, 10, 100 and 500 tenants",
        "",
        `Generated by \`${command}\` on ${started.toISOString()} in ${Math.round(seconds)} s.`,
        "",
        `Machine: ${machineNote}. Every probe ran on: ${runtime}. The machine is shared with other jobs, so single figures are noisy: each figure is the median of ${runs} runs (${evalRuns} pairs for tenant against floor) of a whole process (Node's start, ts-node, the SDK's load, the work, the exit), and the spread of the ratio is shown beside it.`,
        "",
        ...floorLines(rows),
        "| tenants | one tenant stack, eval (ms) | floor: one-resource program (ms) | tenant / floor | tenant peak RSS (MB) | floor peak RSS (MB) | 3 charts rendered, per tenant (ms) | `fleet preview`, workspace faked (ms) | fleet per stack (ms) | fleet peak RSS (MB) | `affected` (ms) |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        ...rows.map(
            (r) =>
                `| ${r.n} | ${r.tenantMs} | ${r.floorMs} | ${f2(r.handed.wall.median)} | ${r.tenantRssMb} | ${r.floorRssMb} | ${r.chartsMs} | ${r.fleetMs} | ${Math.round((r.fleetMs / (r.n + 2)) * 10) / 10} | ${r.fleetRssMb} | ${r.affectedMs} |`,
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
        lines.push("Goal: every figure at 500 tenants < 60 × the same figure at 10.", "");
        lines.push("| figure | 10 tenants | 500 tenants | 500 / 10 | goal < 60 |", "|---|---:|---:|---:|---|");
        for (const [name, a, b] of figures)
            lines.push(`| ${name} | ${a} | ${b} | ${ratio(a, b)} | ${ratio(a, b) < 60 ? "met" : "missed"} |`);
        lines.push("");
    }
    lines.push("![time against tenant count](results.svg)", "");
    lines.push(
        "What each figure is:",
        "- *eval*: `runProgram` (tools/lib/mock-run.ts, the tests' harness) of the first tenant's stack in a repository of N tenants, the shared stack's outputs carrying N credentials, in a process of tools/lib/bench/eval-probe.ts that loads nothing else. The floor is the same probe, harness and mocks running a program of one Kubernetes Namespace (imported from `@pulumi/kubernetes/core/v1`, as the program imports it), from the same working directory, so the same tsconfig, transpiler and flags (the bench refuses to compare probes whose runtimes differ). *Handed over*: the bench reads the stack file and computes the shared outputs beforehand and hands both to the probe, as the Pulumi CLI hands a program its config; the goal's figure. *Read by the harness*: the probe reads the stack file itself, as the tests do. CPU is the probe's user + system time.",
        "- *charts*: the three charts rendered by the real helm with the values the program computed, for up to 3 tenants, per tenant (the program run not counted).",
        '- *fleet preview*: `npm run fleet -- preview --json --parallel 4` in-process of a probe with a fake backend that answers at once: config model over every stack file, rollout plan, scheduling, report. "per stack" is the total over N + 2 stacks (the tenants, shared and images).',
        "- *affected*: `npm run affected -- --base HEAD~1` in a git repository of N tenants whose last commit changed one tenant's stack file.",
        "",
        "Where the tenant's time over the floor goes, and what was done about it: [where-the-time-goes.md](where-the-time-goes.md).",
        "",
    );
    return `${lines.join("\n")}`;
}

async function main(argv: string[]): Promise<number> {
    const { values } = parseArgs({
        args: argv,
        options: { runs: { type: "string" }, "eval-runs": { type: "string" }, sizes: { type: "string" }, out: { type: "string" } },
    });
    const runs = Number(values.runs ?? 3);
    const evalRuns = Number(values["eval-runs"] ?? 9);
    const sizes = (values.sizes ?? "1,10,100,500").split(",").map(Number);
    if (![runs, evalRuns].every((r) => Number.isInteger(r) && r >= 1) || sizes.some((s) => !Number.isInteger(s) || s < 1)) {
        process.stderr.write("usage: npm run bench [-- --runs N --eval-runs N --sizes 1,10,100,500 --out DIR]\n");
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
        log(`bench: ${machineNote}; ${runs} runs each, ${evalRuns} pairs of tenant and floor`);
        for (const n of sizes) {
            const fleet = makeFleet(n, frontend);
            try {
                rows.push(await measure(n, fleet, floor, runs, evalRuns, dir, log));
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
    fs.writeFileSync(
        path.join(out, "results.md"),
        report(rows, runs, evalRuns, command, started, seconds, machineNote, rows[0]?.runtime ?? ""),
    );
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
