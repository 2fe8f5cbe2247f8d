/**
 * Each chart's README.md parameter tables, generated from the `## @param` comments of its
 * values.yaml by Bitnami's readme-generator-for-helm, which also refuses a values key without
 * metadata or metadata without a key. `npm run docs` rewrites them; a test fails when one is stale.
 */
import * as fs from "fs";
import * as path from "path";
import { CHARTS_DIR } from "../../components/names";
import { generatorReadme } from "./readme-generator";

/** The chart's README.md as the generator writes it (the checked-in one is left untouched). */
export function generatedChartReadme(chart: string, chartsDir = CHARTS_DIR): string {
    const dir = path.join(chartsDir, chart);
    return generatorReadme(path.join(dir, "values.yaml"), path.join(dir, "README.md"));
}

/** Rewrites a chart's README.md; true when it changed. */
export function writeChartReadme(chart: string, chartsDir = CHARTS_DIR): boolean {
    const file = path.join(chartsDir, chart, "README.md");
    const next = generatedChartReadme(chart, chartsDir);
    const changed = next !== fs.readFileSync(file, "utf8");
    if (changed) fs.writeFileSync(file, next);
    return changed;
}
