/** Every command-line tool answers --help with its usage on stdout and exit 0, touching nothing. */
import * as assert from "assert";
import { main as affected } from "../../tools/affected";
import { main as fleet } from "../../tools/fleet";
import { main as fleetSummary } from "../../tools/fleet-summary";
import { main as plan } from "../../tools/plan";
import { main as tenant } from "../../tools/tenant";
import { Output } from "../../tools/lib/cli";

type Tool = (argv: string[], stdout: Output, stderr: Output) => number | Promise<number>;

const TOOLS: Record<string, Tool> = {
    affected: (argv, stdout, stderr) => affected(argv, stdout, stderr),
    fleet: (argv, stdout, stderr) =>
        fleet(argv, stdout, stderr, {
            backend: () => {
                throw new Error("--help must not reach the Pulumi side");
            },
        }),
    "fleet-summary": (argv, stdout, stderr) => fleetSummary(argv, stdout, stderr),
    plan: (argv, stdout, stderr) => plan(argv, stdout, stderr),
    tenant: (argv, stdout, stderr) => tenant(argv, { stdout, stderr }),
};

describe("command-line tools: --help", () => {
    for (const [name, tool] of Object.entries(TOOLS)) {
        it(`npm run ${name} -- --help prints the usage on stdout and exits 0`, async () => {
            let stdout = "";
            let stderr = "";
            const code = await tool(["--help"], { write: (t: string) => (stdout += t) }, { write: (t: string) => (stderr += t) });
            assert.strictEqual(code, 0, stderr);
            assert.match(stdout, new RegExp(`^usage: npm run ${name} -- `));
            assert.strictEqual(stderr, "");
        });
    }
});
