// The linters npm test runs are live: eslint applies Pulumi's own rule (an Output inside a template
// literal prints a warning text instead of its value) and typescript-eslint's type-aware rules to
// the program, and prettier checks the layout.
import { strict as assert } from "node:assert";
import * as path from "node:path";
import { ESLint } from "eslint";
import * as prettier from "prettier";
import { REPO_ROOT } from "../../components/names";

const probe = path.join(REPO_ROOT, "components", "lint-probe.ts");

async function lint(code: string): Promise<string[]> {
    // The probe exists only in memory: the project service types it with the default project.
    const eslint = new ESLint({
        cwd: REPO_ROOT,
        overrideConfig: { languageOptions: { parserOptions: { projectService: { allowDefaultProject: ["components/lint-probe.ts"] } } } },
    });
    const [result] = await eslint.lintText(code, { filePath: probe });
    return result.messages.map((m) => `${m.ruleId}: ${m.message}`);
}

describe("linters", function () {
    this.timeout(120_000);

    it("eslint refuses an Output in a template literal (@pulumi/eslint-plugin)", async () => {
        const messages = await lint(
            'import * as pulumi from "@pulumi/pulumi";\nconst name = pulumi.output("client-a");\nexport const host = `app.${name}.example.com`;\n',
        );
        assert.ok(
            messages.some((m) => m.startsWith("pulumi/no-output-in-template-literal")),
            messages.join("\n"),
        );
    });

    it("eslint accepts the same string built with pulumi.interpolate", async () => {
        assert.deepEqual(
            await lint(
                'import * as pulumi from "@pulumi/pulumi";\nconst name = pulumi.output("client-a");\nexport const host = pulumi.interpolate`app.${name}.example.com`;\n',
            ),
            [],
        );
    });

    it("prettier's settings are the repository's (4 spaces, 140 columns)", async () => {
        const options = await prettier.resolveConfig(probe);
        assert.equal(options?.tabWidth, 4);
        assert.equal(options?.printWidth, 140);
        assert.equal(await prettier.check("export const a = { b: 1 };\n", { ...options, filepath: probe }), true);
        assert.equal(await prettier.check("export const a = {b:1}\n", { ...options, filepath: probe }), false);
    });
});
