/**
 * Bitnami's readme-generator-for-helm, run in-process: the README parameter tables and the schema
 * it writes from the `## @param` comments of a chart's values.yaml, and the metadata it parses.
 * It refuses a values key without metadata or metadata without a key.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

// The package ships CommonJS without types.

const { runReadmeGenerator } = require("@bitnami/readme-generator-for-helm") as {
    runReadmeGenerator: (options: { values: string; readme?: string; schema?: string }) => void;
};
const { parseMetadataComments } = require("@bitnami/readme-generator-for-helm/lib/parser") as {
    parseMetadataComments: (
        valuesFile: string,
        config: object,
    ) => { parameters: { name: string; description: string; modifiers: string[] }[] };
};
const GENERATOR_CONFIG = require("@bitnami/readme-generator-for-helm/config.json") as object;

/** Runs the generator with its findings kept off the console (a test's output stays readable). */
function quietly<T>(run: () => T): T {
    const log = console.log;
    console.log = () => undefined;
    try {
        return run();
    } finally {
        console.log = log;
    }
}

/** Runs fn with a scratch directory that is removed afterwards. */
function inScratch<T>(prefix: string, fn: (dir: string) => T): T {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
    try {
        return fn(dir);
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

/** The README as the generator rewrites it from values.yaml (the given README is left untouched). */
export function generatorReadme(valuesFile: string, readmeFile: string): string {
    return inScratch("readme-", (dir) => {
        const readme = path.join(dir, "README.md");
        fs.copyFileSync(readmeFile, readme);
        quietly(() => runReadmeGenerator({ values: valuesFile, readme }));
        return fs.readFileSync(readme, "utf8");
    });
}

/** The generator's own schema output (`--schema`) for values.yaml. */
export function generatorSchema(valuesFile: string): Record<string, any> {
    return inScratch("schema-", (dir) => {
        const schema = path.join(dir, "values.schema.json");
        quietly(() => runReadmeGenerator({ values: valuesFile, schema }));
        return JSON.parse(fs.readFileSync(schema, "utf8"));
    });
}

/** The description of every `## @param`, by value path (the schema output drops `[object]` params). */
export function paramDescriptions(valuesFile: string): Map<string, string> {
    const { parameters } = parseMetadataComments(valuesFile, GENERATOR_CONFIG);
    return new Map(parameters.map((p) => [p.name, p.description]));
}
