// Each chart's README.md parameter tables are the ones readme-generator-for-helm writes from the
// `## @param` comments of values.yaml (npm run docs), and every values key has its metadata.
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { generatedChartReadme } from "../../tools/lib/chart-readme";
import { CHARTS_DIR, CHART_NAMES, chartDir } from "../../tools/lib/helm";

describe("chart READMEs", () => {
    for (const chart of CHART_NAMES) {
        it(`${chart}: the parameter tables are generated from values.yaml and current`, () => {
            const readme = fs.readFileSync(path.join(chartDir(chart), "README.md"), "utf8");
            assert.ok(readme === generatedChartReadme(chart), `charts/${chart}/README.md is stale. Fix: npm run docs, and commit it`);
            assert.match(readme, /\| `image\.tag` +\| Image tag, REQUIRED/);
        });
    }

    it("a values key without @param metadata is refused", () => {
        const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "readme-test-"));
        try {
            fs.cpSync(path.join(CHARTS_DIR, "frontend"), path.join(scratch, "frontend"), { recursive: true, dereference: true });
            fs.appendFileSync(path.join(scratch, "frontend", "values.yaml"), "\nundocumentedKey: 1\n");
            assert.throws(() => generatedChartReadme("frontend", scratch), /Wrong metadata/);
        } finally {
            fs.rmSync(scratch, { recursive: true, force: true });
        }
    });
});
