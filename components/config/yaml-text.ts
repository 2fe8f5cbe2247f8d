/**
 * YAML text to a value, the one parse of a Pulumi project or stack file: the `yaml` package's
 * document parse (YAML 1.2, duplicate keys refused), its first error named with the file, line and
 * column. The parse cache (yaml-cache.ts) stores what this returns and keys it by this file's source.
 */
import * as path from "path";
import type * as YAML from "yaml";

let yamlModule: typeof YAML | undefined;

/** The `yaml` package, loaded at the first parse: when every stack file comes from the parse cache, a run never loads it (~20 ms). */
function yaml(): typeof YAML {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    yamlModule ??= require("yaml") as typeof YAML;
    return yamlModule;
}

/** Parses YAML text read from `file`, or throws an error naming the file, line and column. */
export function parseYaml(text: string, file: string): unknown {
    const doc = yaml().parseDocument(text, { prettyErrors: true });
    if (doc.errors.length > 0) {
        const e = doc.errors[0];
        const at = e.linePos?.[0] ? ` at line ${e.linePos[0].line}, column ${e.linePos[0].col}` : "";
        throw new Error(`${path.basename(file)} is not valid YAML${at}: ${e.message.split("\n")[0]}. Fix: correct ${file}${at}`);
    }
    return doc.toJS();
}
