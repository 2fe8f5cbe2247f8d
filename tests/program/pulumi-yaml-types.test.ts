// Pulumi.yaml declares each key with the type its schema in the config model has, so `pulumi config`
// and the program agree on what a value is (Pulumi can type scalars and lists of scalars only;
// objects and lists of objects are declared with `value:` and checked by the model alone).
import { strict as assert } from "node:assert";
import { z } from "zod";
import { KEYS, KeySpec } from "../../components/config";
import { readProjectFile } from "../../tools/lib/stack-files";

/** The Pulumi.yaml declaration a schema calls for: a Pulumi type, or `value` for what Pulumi cannot type. */
function pulumiDeclaration(schema: z.ZodType): { type: string; items?: string } | "value" {
    if (schema instanceof z.ZodString || schema instanceof z.ZodEnum) return { type: "string" };
    if (schema instanceof z.ZodBoolean) return { type: "boolean" };
    if (schema instanceof z.ZodNumber) return { type: schema.isInt ? "integer" : "number" };
    if (schema instanceof z.ZodArray) {
        const item = pulumiDeclaration(schema.element as z.ZodType);
        return item === "value" ? "value" : { type: "array", items: item.type };
    }
    return "value";
}

describe("Pulumi.yaml declares every key with its model type", () => {
    const project = readProjectFile();
    const declared = project.config as Record<string, { type?: string; items?: { type?: string }; value?: unknown } | undefined>;

    for (const [key, spec] of Object.entries(KEYS) as [string, KeySpec][]) {
        // Secrets and keys without a project default are listed under template.config, untyped
        // (a typed key under config: without a default would be required in every stack).
        if (!(key in declared)) continue;
        it(key, () => {
            const decl = declared[key]!;
            const expected = pulumiDeclaration(spec.schema);
            if (expected === "value") {
                assert.ok(
                    "value" in decl && decl.type === undefined,
                    `${key}: Pulumi cannot type this value; declare it with value: and no type`,
                );
            } else {
                assert.equal(decl.type, expected.type, `${key}: type in Pulumi.yaml`);
                if (expected.items) assert.equal(decl.items?.type, expected.items, `${key}: items.type in Pulumi.yaml`);
            }
        });
    }

    it("maps schemas as Pulumi types them", () => {
        assert.deepEqual(pulumiDeclaration(z.number().int()), { type: "integer" });
        assert.deepEqual(pulumiDeclaration(z.array(z.string())), { type: "array", items: "string" });
        assert.equal(pulumiDeclaration(z.array(z.object({ a: z.string() }))), "value");
        assert.equal(pulumiDeclaration(z.record(z.string(), z.string())), "value");
    });
});
