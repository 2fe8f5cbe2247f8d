/**
 * Each chart's README.md parameter tables, generated from the `## @param` comments of its
 * values.yaml by Bitnami's readme-generator-for-helm, which also refuses a values key without
 * metadata or metadata without a key. `npm run docs` rewrites them; a test fails when one is stale.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { CHARTS_DIR } from "../../components/names";

// The package ships CommonJS without types.

const { runReadmeGenerator } = require("@bitnami/readme-generator-for-helm") as {
    runReadmeGenerator: (options: { values: string; readme: string }) => void;
};

/** The chart's README.md as the generator writes it (the checked-in one is left untouched). */
export function generatedChartReadme(chart: string, chartsDir = CHARTS_DIR): string {
    const dir = path.join(chartsDir, chart);
    const scratch = fs.mkdtempSync(path.join(os.tmpdir(), `readme-${chart}-`));
    try {
        const readme = path.join(scratch, "README.md");
        fs.copyFileSync(path.join(dir, "README.md"), readme);
        // The generator reports its findings on the console; keep a test's output readable.
        const log = console.log;
        console.log = () => undefined;
        try {
            runReadmeGenerator({ values: path.join(dir, "values.yaml"), readme });
        } finally {
            console.log = log;
        }
        return fs.readFileSync(readme, "utf8");
    } finally {
        fs.rmSync(scratch, { recursive: true, force: true });
    }
}

/** Rewrites a chart's README.md; true when it changed. */
export function writeChartReadme(chart: string, chartsDir = CHARTS_DIR): boolean {
    const file = path.join(chartsDir, chart, "README.md");
    const next = generatedChartReadme(chart, chartsDir);
    const changed = next !== fs.readFileSync(file, "utf8");
    if (changed) fs.writeFileSync(file, next);
    return changed;
}
