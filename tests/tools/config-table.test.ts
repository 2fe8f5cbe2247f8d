// README.md's configuration table is generated from the config model and Pulumi.yaml (npm run docs).
import { strict as assert } from "node:assert";
import * as fs from "fs";
import { KEYS } from "../../components/config";
import { TABLE_END, TABLE_START, configTable, readmePath, readmeWithTable } from "../../tools/lib/config-table";

describe("README configuration table", () => {
    const readme = fs.readFileSync(readmePath(), "utf8");

    it("is the one `npm run docs` generates from components/config/keys.ts and Pulumi.yaml", () => {
        assert.ok(
            readme === readmeWithTable(readme, configTable()),
            "README.md's configuration table is stale. Fix: npm run docs, and commit README.md",
        );
    });

    it("has one row per key of the model, with its roles, need and description", () => {
        const table = readme.slice(readme.indexOf(TABLE_START), readme.indexOf(TABLE_END));
        const rows = table.split("\n").filter((l) => l.startsWith("| `stock:"));
        assert.deepEqual(
            rows.map((r) => /^\| `stock:([A-Za-z]+)`/.exec(r)?.[1]),
            Object.keys(KEYS),
        );
        const row = (key: string) => rows.find((r) => r.startsWith(`| \`stock:${key}\` |`))!;
        assert.match(row("dbPassword"), /\| tenant \| secret, required \| — \|/);
        assert.match(row("apiResources"), /\| requests 250m\/384Mi, limits 1\/768Mi \|/);
        assert.ok(row("host").includes(KEYS.host.description));
    });

    it("refuses a README without the markers", () => {
        assert.throws(() => readmeWithTable("# no table here\n", configTable()), /lacks the markers/);
    });
});
