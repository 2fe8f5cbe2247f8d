// ESLint for the program, tools, policy pack and tests: typescript-eslint's recommended type-checked
// rules plus Pulumi's own (an Output in a template literal prints "Calling [toString] on an
// [Output<T>] is not supported" instead of its value). Formatting is prettier's job (.prettierrc.json).
import js from "@eslint/js";
import tseslint from "typescript-eslint";
import pulumi from "@pulumi/eslint-plugin";
import prettier from "eslint-config-prettier";

export default tseslint.config(
    { ignores: ["node_modules/", "bin/", "app/", "fixtures/", "charts/", "plan-out/", "**/*.js", "**/*.mjs"] },
    js.configs.recommended,
    ...tseslint.configs.recommendedTypeChecked,
    {
        languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
        plugins: { pulumi },
        rules: {
            "pulumi/no-output-in-template-literal": "error",
            "pulumi/no-output-instance-in-template-literal": "error",
            "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
        },
    },
    {
        // Tests, tools and the policy pack read what they did not type: rendered YAML, engine
        // payloads, resource properties of any shape (policy/lib/resources.ts `Props`). The program
        // itself (components/, index.ts) stays under the strict rules. They also load SDK internals
        // the packages do not export (runtime/rpc, the analyzer's generated gRPC code) and the
        // program under test afresh, with require().
        files: ["tests/**/*.ts", "tools/**/*.ts", "policy/**/*.ts"],
        rules: {
            "@typescript-eslint/no-unsafe-member-access": "off",
            "@typescript-eslint/no-unsafe-assignment": "off",
            "@typescript-eslint/no-unsafe-call": "off",
            "@typescript-eslint/no-unsafe-argument": "off",
            "@typescript-eslint/no-unsafe-return": "off",
            "@typescript-eslint/no-explicit-any": "off",
            "@typescript-eslint/no-require-imports": "off",
        },
    },
    prettier,
);
