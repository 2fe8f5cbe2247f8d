/**
 * What the bench measures, one probe per child process (so every figure is a whole process: Node's
 * start, ts-node, the SDK's load, the work, the exit). Called as
 * `node -r ts-node/register/transpile-only tools/lib/bench/probes.ts <probe> '<json args>'`;
 * prints one JSON line with the probe's own findings and the process's peak memory. The evaluation
 * of a stack against the floor has a probe of its own (eval-probe.ts), which loads none of this.
 */
import { main as fleetMain } from "../../fleet";
import { CHART_NAMES, ChartName, renderChart } from "../helm";
import { defaultSharedOutputs, reveal, runProgram } from "../mock-run";
import { FakeFleetBackend } from "../../../tests/support/fake-fleet-backend";

interface ProbeArgs {
    root: string;
    tenants?: string[];
    samples?: string[];
    repeat?: number;
}

const sink = { write: () => true };

/** Milliseconds to render the three charts with the values the program computed for each sample tenant (the program run itself not counted). */
async function charts(args: ProbeArgs): Promise<Record<string, unknown>> {
    const perTenant: number[] = [];
    for (const stack of args.samples!) {
        const run = await runProgram(stack, { root: args.root, sharedOutputs: defaultSharedOutputs(args.tenants) });
        const releases = run.ofType("kubernetes:helm.sh/v4:Chart").map((c) => ({
            chart: CHART_NAMES.find((n) => String(c.inputs.chart).endsWith(n)) as ChartName,
            values: reveal(c.inputs.values),
            namespace: String(c.inputs.namespace),
            name: String(c.inputs.name),
        }));
        if (releases.length !== 3 || releases.some((r) => !r.chart))
            throw new Error(`${stack}: expected our three charts, got ${releases.map((r) => r.chart).join(", ")}`);
        for (let i = 0; i < (args.repeat ?? 1); i++) {
            const t0 = performance.now();
            for (const r of releases) await renderChart(r.chart, r.values, r.namespace, r.name);
            perTenant.push(performance.now() - t0);
        }
    }
    return { perTenantMs: perTenant };
}

async function fleetPreview(args: ProbeArgs): Promise<Record<string, unknown>> {
    const backend = new FakeFleetBackend();
    let json = "";
    const code = await fleetMain(["preview", "--json", "--parallel", "4"], { write: (t: string) => (json += t) }, sink, {
        root: args.root,
        backend: () => backend,
        interactive: false,
    });
    if (code !== 0) throw new Error(`fleet preview exited ${code}`);
    return { stacks: JSON.parse(json).stacks.length, calls: backend.calls.length };
}

const PROBES: Record<string, (args: ProbeArgs) => Promise<Record<string, unknown>>> = { charts, fleet: fleetPreview };

async function probe(): Promise<void> {
    const [name, json] = process.argv.slice(2);
    const fn = PROBES[name];
    if (!fn) throw new Error(`unknown probe ${name}; probes: ${Object.keys(PROBES).join(", ")}`);
    const result = await fn(JSON.parse(json));
    process.stdout.write(`${JSON.stringify({ ...result, maxRssKb: process.resourceUsage().maxRSS })}\n`);
}

if (require.main === module) {
    probe().then(
        () => process.exit(0),
        (e) => {
            process.stderr.write(`${(e as Error).stack ?? e}\n`);
            process.exit(1);
        },
    );
}
