// `npm run docs`: regenerates what the docs derive from the code: README.md's configuration table
// (from the config model and Pulumi.yaml), each chart's parameter tables (from values.yaml) and
// each chart's values.schema.json (from values.yaml and the schema.rules.yaml files).
import { CHART_NAMES } from "./lib/helm";
import { writeChartReadme } from "./lib/chart-readme";
import { writeChartSchemas } from "./lib/chart-schema";
import { writeReadmeTable } from "./lib/config-table";

console.log(writeReadmeTable() ? "README.md: configuration table updated" : "README.md: configuration table already up to date");
for (const chart of CHART_NAMES) {
    console.log(
        writeChartReadme(chart)
            ? `charts/${chart}/README.md: parameters updated`
            : `charts/${chart}/README.md: parameters already up to date`,
    );
}
const changed = writeChartSchemas(CHART_NAMES);
for (const chart of CHART_NAMES)
    console.log(`charts/${chart}/values.schema.json: ${changed.includes(chart) ? "regenerated" : "already up to date"}`);
