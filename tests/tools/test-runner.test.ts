// `npm test -- <file or folder>` runs only those tests: the runner behind `npm test` is run here
// the way npm runs it (the arguments appended to the script), with mocha's --dry-run listing what
// it would run.
import * as assert from "assert";
import { execFile } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { promisify } from "util";
import { REPO_ROOT } from "../../tools/lib/stack-files";
import { mochaArguments } from "../../tools/test";

const run = promisify(execFile);
const NODE = path.join(REPO_ROOT, "node_modules", ".bin", "node");

/** The test files `npm test -- ...args` would run, as mocha reports them. */
async function filesRun(args: string[]): Promise<string[]> {
    const script = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, "package.json"), "utf8")).scripts.test as string;
    assert.match(script, /&& ts-node --transpile-only tools\/test\.ts$/, "npm appends the arguments to the runner");
    const { stdout } = await run(
        NODE,
        ["-r", "ts-node/register/transpile-only", "tools/test.ts", ...args, "--dry-run", "--reporter", "json"],
        { cwd: REPO_ROOT, maxBuffer: 16 << 20 },
    );
    const report = JSON.parse(stdout.slice(stdout.indexOf("{\n")));
    return [...new Set<string>(report.tests.map((t: { file: string }) => path.relative(REPO_ROOT, t.file)))].sort();
}

const testFiles = (dir: string): string[] =>
    fs
        .readdirSync(path.join(REPO_ROOT, dir), { recursive: true, encoding: "utf8" })
        .filter((f) => f.endsWith(".test.ts"))
        .map((f) => path.join(dir, f))
        .sort();

describe("test runner: npm test -- <paths>", function () {
    this.timeout(120000);

    it("runs only the files of a named folder", async () => {
        const expected = testFiles("tests/units");
        assert.ok(expected.length >= 3);
        assert.deepStrictEqual(await filesRun(["tests/units"]), expected);
    });

    it("runs only a named file, and every test file without paths", async () => {
        assert.deepStrictEqual(await filesRun(["tests/units/nginx-tls.test.ts"]), ["tests/units/nginx-tls.test.ts"]);
        const all = testFiles("tests");
        assert.ok(all.length > 20 && all.includes("tests/tools/test-runner.test.ts"));
        assert.deepStrictEqual(mochaArguments([], REPO_ROOT).files, all);
        assert.deepStrictEqual(mochaArguments(["tests/units", "--grep", "TLS"], REPO_ROOT), {
            files: testFiles("tests/units"),
            options: ["--grep", "TLS"],
        });
    });

    it("refuses a path that does not exist instead of running everything", async () => {
        await assert.rejects(
            run(NODE, ["-r", "ts-node/register/transpile-only", "tools/test.ts", "tests/no-such-folder"], { cwd: REPO_ROOT }),
            (e: any) => e.code === 2 && /no such test file or folder: tests\/no-such-folder/.test(e.stderr),
        );
    });

    it("is how README and docs/app-contract.md say to run one folder", () => {
        for (const doc of ["README.md", "docs/app-contract.md"]) {
            const text = fs.readFileSync(path.join(REPO_ROOT, doc), "utf8");
            assert.ok(text.includes("npm test -- tests/app"), `${doc} shows npm test -- tests/app`);
            assert.ok(!/npx mocha tests\//.test(text), `${doc} no longer says npx mocha <path>`);
        }
    });
});
