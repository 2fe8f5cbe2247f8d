/**
 * The frontend bakes its API URL in at build time (dotenv file `envs/<BUILD_FOR>`, read by env-cmd).
 * The seed says this coordination "must be done offline"; here the program checks it instead, before
 * anything is built, and says exactly what to change.
 */
import * as fs from "fs";
import * as path from "path";

export const API_URL_VARIABLE = "REACT_APP_HOST_URL";

/** Parses a dotenv file the way env-cmd does for the cases that matter: KEY=VALUE lines, comments, optional quotes. */
export function parseDotenv(text: string): Record<string, string> {
    const result: Record<string, string> = {};
    for (const line of text.split(/\r?\n/)) {
        const match = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/.exec(line);
        if (!match || line.trim().startsWith("#")) continue;
        let value = match[2];
        const quoted = /^(['"])(.*)\1$/.exec(value);
        value = quoted ? quoted[2] : value.replace(/\s+#.*$/, "");
        result[match[1]] = value;
    }
    return result;
}

/** Returns a problem description, or undefined when `<frontendSource>/envs/<buildFor>` sets the expected API URL. */
export function checkFrontendEnv(frontendSource: string, buildFor: string, expectedUrl: string): string | undefined {
    const file = path.join(frontendSource, "envs", buildFor);
    const fix = `Fix: put the line ${API_URL_VARIABLE}=${expectedUrl} in ${file}`;
    if (!fs.existsSync(file)) {
        return `the frontend dotenv file ${file} (from stock:frontendSource and stock:buildFor) does not exist, so the image would be built without an API URL. ${fix}`;
    }
    const found = parseDotenv(fs.readFileSync(file, "utf8"))[API_URL_VARIABLE];
    if (found === undefined) {
        return `${file} does not set ${API_URL_VARIABLE}; expected ${expectedUrl}. ${fix}`;
    }
    if (found.replace(/\/+$/, "") !== expectedUrl) {
        return `${file} sets ${API_URL_VARIABLE}=${found}, but this tenant's API is at ${expectedUrl} (from stock:host and stock:tls). ${fix}`;
    }
    return undefined;
}
