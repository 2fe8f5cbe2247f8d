// Properties of the config model (fast-check): whatever a stack file holds, parseStackConfig
// returns a config or throws one ConfigError whose every problem names a stock: key and the stack
// file, and never echoes a secret; valid values land where the program reads them.
import { strict as assert } from "node:assert";
import fc from "fast-check";
import { ConfigError, KEYS, KeySpec, RawConfig, parseStackConfig } from "../../components/config";
import { rawStackConfig } from "../../tools/lib/stack-files";

const TENANT = "client-a";
const base = rawStackConfig(TENANT);
const keyNames = Object.keys(KEYS);
const secretKeys = (Object.entries(KEYS) as [string, KeySpec][]).filter(([, s]) => s.secret).map(([k]) => k);

/** Raw values as Pulumi may hand them over: any string, numbers, booleans, JSON documents, empty. */
const rawValue = fc.oneof(
    fc.string({ maxLength: 40 }),
    fc.integer().map(String),
    fc.constantFrom("true", "false", "", "null", "[]", "{}", "0", "-1", "1.5"),
    fc.json({ maxDepth: 3 }),
);

function withOverrides(overrides: Record<string, string | undefined>, secret: string[] = []): RawConfig {
    const values = { ...base.values };
    const keys = new Set(base.secretKeys);
    for (const [key, value] of Object.entries(overrides)) {
        if (value === undefined) delete values[`stock:${key}`];
        else values[`stock:${key}`] = value;
        if (secret.includes(key)) keys.add(`stock:${key}`);
        else keys.delete(`stock:${key}`);
    }
    return { ...base, values, secretKeys: keys };
}

function problemsOf(raw: RawConfig): string[] | undefined {
    try {
        parseStackConfig(raw);
        return undefined;
    } catch (e) {
        assert.ok(e instanceof ConfigError, `parseStackConfig threw ${String(e)} instead of a ConfigError`);
        return e.problems;
    }
}

describe("config model properties", () => {
    it("any values for any keys: a config, or problems that each name a stock: key and the stack file", () => {
        fc.assert(
            fc.property(
                fc.dictionary(fc.constantFrom(...keyNames), fc.option(rawValue, { nil: undefined }), { maxKeys: 6 }),
                (overrides) => {
                    const problems = problemsOf(
                        withOverrides(
                            overrides,
                            secretKeys.filter((k) => k in overrides),
                        ),
                    );
                    for (const p of problems ?? []) {
                        assert.match(p, /\bstock:[A-Za-z]+/, `a problem that names no key: ${p}`);
                        assert.ok(p.includes(`Pulumi.${TENANT}.yaml`), `a problem that names no stack file: ${p}`);
                    }
                },
            ),
            { numRuns: 400 },
        );
    });

    it("never shows a secret's value in a problem, whatever the value", () => {
        fc.assert(
            fc.property(
                fc.constantFrom(...secretKeys),
                fc.string({ minLength: 6, maxLength: 30 }).filter((s) => s.trim().length >= 6),
                fc.boolean(),
                (key, value, storedSecret) => {
                    const problems = problemsOf(withOverrides({ [key]: value }, storedSecret ? [key] : [])) ?? [];
                    for (const p of problems) assert.ok(!p.includes(value), `the value of stock:${key} appears in: ${p}`);
                },
            ),
            { numRuns: 200 },
        );
    });

    it("valid values land where the program reads them", () => {
        const label = fc.stringMatching(/^[a-z][a-z0-9]{0,8}$/);
        fc.assert(
            fc.property(
                fc.nat(20),
                fc.nat(20),
                fc.integer({ min: 1, max: 65535 }),
                fc.integer({ min: 1, max: 16 }),
                fc.array(label, { minLength: 2, maxLength: 4 }),
                (api, frontend, dbPort, workers, labels) => {
                    const host = labels.join(".");
                    const config = parseStackConfig(
                        withOverrides({
                            apiReplicas: String(api),
                            frontendReplicas: String(frontend),
                            dbPort: String(dbPort),
                            gunicornWorkers: String(workers),
                            host,
                        }),
                    );
                    assert.equal(config.role, "tenant");
                    if (config.role !== "tenant") return;
                    assert.deepEqual(
                        [config.replicas.api, config.replicas.frontend, config.database.port, config.gunicornWorkers, config.host],
                        [api, frontend, dbPort, workers, host],
                    );
                },
            ),
            { numRuns: 200 },
        );
    });

    it("re-encoding a stack's raw values (JSON round trip) yields the same config", () => {
        for (const stack of ["shared", TENANT, "client-b"]) {
            const raw = rawStackConfig(stack);
            const reencoded = Object.fromEntries(
                Object.entries(raw.values).map(([k, v]) => {
                    try {
                        const parsed: unknown = JSON.parse(v);
                        return [k, typeof parsed === "object" && parsed !== null ? JSON.stringify(parsed, null, 2) : v];
                    } catch {
                        return [k, v];
                    }
                }),
            );
            assert.deepEqual(parseStackConfig({ ...raw, values: reencoded }), parseStackConfig(raw), stack);
        }
    });
});
