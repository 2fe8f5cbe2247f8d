// The library chart stock-common: every chart depends on it through a file:// dependency that
// resolves offline (a symlink in the chart's charts/ folder), its Chart.lock is in step, and the
// helpers it holds are defined there only (the charts keep thin wrappers under their own names).
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import YAML from "yaml";
import { CHARTS_DIR, CHART_NAMES, chartDir, runHelm } from "../../tools/lib/helm";

const LIBRARY = path.join(CHARTS_DIR, "stock-common");
const libraryDefines = fs.readdirSync(path.join(LIBRARY, "templates"))
    .flatMap((f) => [...fs.readFileSync(path.join(LIBRARY, "templates", f), "utf8").matchAll(/define "stock-common\.([A-Za-z]+)"/g)].map((m) => m[1]));

describe("stock-common library chart", () => {
    it("is a library chart with the shared helpers", () => {
        const chart = YAML.parse(fs.readFileSync(path.join(LIBRARY, "Chart.yaml"), "utf8"));
        assert.equal(chart.type, "library");
        for (const d of ["name", "fullname", "chart", "labels", "selectorLabels", "annotations", "imageTag", "image", "serviceAccountName", "serviceAccount"]) {
            assert.ok(libraryDefines.includes(d), `stock-common lacks ${d}`);
        }
    });

    for (const name of CHART_NAMES) {
        describe(name, () => {
            const dir = chartDir(name);

            it("depends on it by file://, pinned to its version, resolved offline through charts/stock-common", async () => {
                const chart = YAML.parse(fs.readFileSync(path.join(dir, "Chart.yaml"), "utf8"));
                const library = YAML.parse(fs.readFileSync(path.join(LIBRARY, "Chart.yaml"), "utf8"));
                assert.deepEqual(chart.dependencies, [{ name: "stock-common", version: library.version, repository: "file://../stock-common" }]);
                const link = path.join(dir, "charts", "stock-common");
                assert.ok(fs.lstatSync(link).isSymbolicLink(), `${link} must be a symlink to ../../stock-common`);
                assert.equal(fs.readlinkSync(link), "../../stock-common");
                assert.match(await runHelm(["dependency", "list", dir]), /stock-common\s+\S+\s+file:\/\/\.\.\/stock-common\s+unpacked/);
            });

            it("has a Chart.lock in step with Chart.yaml (helm dependency build accepts it)", async () => {
                // In a scratch copy: `dependency build` writes the packaged library into charts/.
                const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "stock-common-"));
                try {
                    fs.cpSync(CHARTS_DIR, scratch, { recursive: true, dereference: true });
                    fs.rmSync(path.join(scratch, name, "charts"), { recursive: true });
                    await runHelm(["dependency", "build", path.join(scratch, name)]);
                    assert.ok(fs.readdirSync(path.join(scratch, name, "charts")).some((f) => /^stock-common-.*\.tgz$/.test(f)));
                } finally {
                    fs.rmSync(scratch, { recursive: true, force: true });
                }
            });

            it("does not define the library's helpers again: only one-line wrappers", () => {
                const helpers = fs.readFileSync(path.join(dir, "templates", "_helpers.tpl"), "utf8");
                for (const d of libraryDefines) {
                    const m = new RegExp(`\\{\\{- define "${name}\\.${d}" -\\}\\}\\n([\\s\\S]*?)\\{\\{- end \\}\\}`).exec(helpers);
                    if (m) assert.equal(m[1].trim(), `{{- include "stock-common.${d}" . -}}`, `${name}.${d} re-implements stock-common.${d}`);
                }
            });
        });
    }
});
