// The mutation check (`npm run mutate`) itself: its list still applies to the sources, covers the
// mutations issue 11 found unnoticed, and the tool reports a surviving mutation as a failure.
import * as assert from "assert";
import { execFile } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { promisify } from "util";
import { Mutation, applicationProblem, readMutations } from "../../tools/mutate";
import { REPO_ROOT } from "../../tools/lib/stack-files";

const run = promisify(execFile);
const NODE = path.join(REPO_ROOT, "node_modules", ".bin", "node");

describe("mutation check: tools/mutations.json and tools/mutate.ts", function () {
    this.timeout(180000);
    const mutations = readMutations();

    it("lists mutations that each still apply exactly once, with their tests and why", () => {
        assert.ok(mutations.length >= 25, `${mutations.length} mutations`);
        assert.deepStrictEqual(mutations.map((m) => applicationProblem(m)).filter(Boolean), []);
        assert.strictEqual(new Set(mutations.map((m) => m.id)).size, mutations.length, "ids are unique");
    });

    it("covers the mutations no test noticed before", () => {
        for (const id of [
            "env-checksum-ignores-secret",
            "env-checksum-constant",
            "nginx-tls-branch-dropped",
            "dotenv-prefix-match",
            "redact-passes-secrets",
            "plan-prints-secret-outputs",
            "source-checks-after-tenant",
        ]) {
            assert.ok(
                mutations.some((m) => m.id === id),
                id,
            );
        }
    });

    it("fails when a mutation survives, and passes when every one is caught", async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "stock-mutations-"));
        const caught = mutations.find((m) => m.id === "nginx-tls-branch-dropped")!;
        // A change no test can notice: a comment.
        const harmless: Mutation = {
            id: "comment-only",
            why: "changes nothing",
            edits: [
                {
                    file: "components/tenant/nginx.ts",
                    search: "is defined once on the load balancer",
                    replace: "is defined once on the balancer",
                },
            ],
            tests: caught.tests,
        };
        const file = path.join(dir, "mutations.json");
        const mutateWith = async (list: Mutation[]) => {
            fs.writeFileSync(file, JSON.stringify({ mutations: list }));
            try {
                const { stdout } = await run(NODE, ["-r", "ts-node/register/transpile-only", "tools/mutate.ts", "--mutations", file], {
                    cwd: REPO_ROOT,
                    maxBuffer: 16 << 20,
                });
                return { code: 0, stdout };
            } catch (e: any) {
                return { code: e.code as number, stdout: e.stdout as string };
            }
        };
        const both = await mutateWith([caught, harmless]);
        assert.strictEqual(both.code, 1, both.stdout);
        assert.match(both.stdout, /^caught +nginx-tls-branch-dropped$/m);
        assert.match(both.stdout, /^SURVIVED +comment-only$/m);
        assert.match(both.stdout, /2 mutations: 1 caught, 1 survived, 0 stale/);
        const stale = await mutateWith([{ ...caught, edits: [{ ...caught.edits[0], search: "no such text anywhere" }] }]);
        assert.strictEqual(stale.code, 1);
        assert.match(stale.stdout, /stale: nginx-tls-branch-dropped/);
        const good = await mutateWith([caught, { ...harmless, skipUnlessExists: "$STOCK_NO_SUCH_VARIABLE|/no/such/mirror" }]);
        assert.strictEqual(good.code, 0, good.stdout);
        assert.match(good.stdout, /2 mutations: 1 caught, 0 survived, 0 stale, 0 with a failing baseline, 1 skipped/);
        fs.rmSync(dir, { recursive: true, force: true });
    });
});
