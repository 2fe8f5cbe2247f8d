// Each chart's values.schema.json is generated (readme-generator-for-helm's schema output, completed
// from the values.yaml defaults and made strict by the schema.rules.yaml files) and current; the
// post-step fills in what the generator loses, and refuses a value whose schema it cannot know.
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { RULES_FILE, chartSchema, generatedChartSchemas } from "../../tools/lib/chart-schema";
import { CHARTS_DIR, CHART_NAMES, HelmError, chartDir, helmTemplate } from "../../tools/lib/helm";
import { Schema, applyRules, completeFromDefaults, pathMatcher, schemaNodes, schemaProblems } from "../../tools/lib/values-schema";
import { TEST_TAG } from "./assertions";

const committed = (chart: string): Schema => JSON.parse(fs.readFileSync(path.join(chartDir(chart as never), "values.schema.json"), "utf8"));

/** A scratch charts folder with the shared rules and a copy of one chart, for the caller to change. */
function scratchCharts(chart: string, fn: (chartsDir: string, dir: string) => void): void {
    const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "schema-test-"));
    try {
        fs.copyFileSync(path.join(CHARTS_DIR, RULES_FILE), path.join(scratch, RULES_FILE));
        fs.cpSync(path.join(CHARTS_DIR, chart), path.join(scratch, chart), { recursive: true, dereference: true });
        fn(scratch, path.join(scratch, chart));
    } finally {
        fs.rmSync(scratch, { recursive: true, force: true });
    }
}

describe("chart values schemas", function () {
    describe("the committed schemas", function () {
        let generated: Map<string, string>;
        before(function () {
            this.timeout(60_000);
            generated = generatedChartSchemas(CHART_NAMES);
        });

        for (const chart of CHART_NAMES) {
            it(`${chart}: values.schema.json is the one generated from values.yaml and the rules`, function () {
                const file = path.join(chartDir(chart), "values.schema.json");
                assert.ok(fs.readFileSync(file, "utf8") === generated.get(chart), `charts/${chart}/values.schema.json is stale. Fix: npm run docs, and commit it`);
            });

            it(`${chart}: every object of the chart's own keys is closed (additionalProperties: false)`, function () {
                const open = [...schemaNodes(committed(chart))].filter(([, n]) => n.properties && n.additionalProperties !== false).map(([p]) => p);
                assert.deepEqual(open, []);
            });

            it(`${chart}: helm refuses an unknown key in every closed object, naming each`, async function () {
                // One render with a stray key in every closed object outside lists; helm reports them all.
                const schema = committed(chart);
                const closed = [...schemaNodes(schema)].filter(([p, n]) => n.additionalProperties === false && !p.includes("[]")).map(([p]) => p);
                assert.ok(closed.length >= 10, `only ${closed.length} closed objects`);
                const values: Record<string, any> = { image: { tag: TEST_TAG }, strayKey: 1 };
                for (const p of closed) {
                    let at = values;
                    for (const k of p.split(".")) at = at[k] ??= {};
                    at.strayKey = 1;
                }
                const err = await helmTemplate(chartDir(chart), values).then(
                    () => assert.fail("rendered"),
                    (e: HelmError) => e.message,
                );
                for (const p of ["", ...closed]) assert.match(err, new RegExp(`at '${p ? `/${p.replace(/\./g, "/")}` : ""}': additional properties 'strayKey' not allowed`), p);
            });
        }
    });

    describe("the post-step", function () {
        const described = new Map([
            ["resources", "Container resources"],
            ["workers", "Worker groups"],
        ]);
        // What the generator writes for these values: it drops the [object] param and types the items of the [array] one as strings.
        const generator: Schema = { properties: { workers: { type: "array", description: "Worker groups", default: "[]", items: { type: "string" } }, replicas: { type: "number", default: 2 } } };
        const values = {
            resources: { requests: { cpu: "250m" } },
            workers: [
                { name: "a", queues: ["x"] },
                { name: "b", concurrency: 2 },
            ],
            replicas: 2,
        };

        it("infers what the generator loses from the defaults: [object] params, list items, integers, closed objects", function () {
            const s = completeFromDefaults(generator, values, described);
            assert.deepEqual(s.required, ["resources", "workers", "replicas"]);
            assert.deepEqual(s.properties.resources, {
                type: "object",
                description: "Container resources",
                default: values.resources,
                properties: { requests: { type: "object", properties: { cpu: { type: "string" } }, additionalProperties: false, required: ["cpu"] } },
                additionalProperties: false,
                required: ["requests"],
            });
            assert.deepEqual(s.properties.workers.default, values.workers, "the generator's \"[]\" is corrected");
            assert.deepEqual(s.properties.workers.items, {
                type: "object",
                properties: { name: { type: "string" }, queues: { type: "array", items: { type: "string" } }, concurrency: { type: "integer" } },
                additionalProperties: false,
            });
            assert.equal(s.properties.replicas.type, "integer");
        });

        it("merges rules by path: globs, fragments, maps, sameAs, keywords per type", function () {
            const { schema, unmatched, problems } = applyRules(completeFromDefaults(generator, values, described), [
                {
                    file: "shared.yaml",
                    fragments: { quantities: { type: "object", additionalProperties: { type: ["string", "number"] } } },
                    types: { integer: { minimum: 0 } },
                    rules: { "**.requests": "quantities", "workers[].{name,nothing}": { minLength: 1 }, "no.such.value": { minLength: 1 } },
                },
                { file: "chart.yaml", rules: { "workers[]": { required: ["name"], properties: { resources: { sameAs: "resources", required: [] } } } } },
            ]);
            assert.deepEqual(problems, []);
            assert.deepEqual(schema.properties.resources.properties.requests, { type: "object", additionalProperties: { type: ["string", "number"] } }, "a map drops the example's keys");
            assert.deepEqual(schema.properties.workers.items.properties.name, { type: "string", minLength: 1 });
            assert.deepEqual(schema.properties.workers.items.required, ["name"]);
            const copy = schema.properties.workers.items.properties.resources;
            assert.equal(copy.default, undefined, "sameAs leaves the defaults out");
            assert.equal(copy.required, undefined);
            assert.deepEqual(copy.properties.requests, schema.properties.resources.properties.requests);
            assert.equal(schema.properties.replicas.minimum, 0);
            assert.equal(schema.properties.workers.items.properties.concurrency.minimum, 0);
            assert.deepEqual(Object.fromEntries(unmatched), { "shared.yaml": ["no.such.value"], "chart.yaml": [] });
        });

        it("refuses a misspelt keyword, an unknown fragment and a sameAs naming nothing", function () {
            const { problems } = applyRules(completeFromDefaults(generator, values, described), [
                { file: "x.yaml", rules: { replicas: { minimun: 1 }, resources: "nosuch", "workers[]": { properties: { a: { sameAs: "nowhere" } } } } },
            ]);
            assert.equal(problems.length, 3, problems.join("\n"));
            assert.match(problems[0], /x\.yaml: "replicas": unknown keyword "minimun"/);
            assert.match(problems[1], /x\.yaml: "resources": no fragment named "nosuch"/);
            assert.match(problems[2], /workers\[\]\.a: sameAs "nowhere" names no other value/);
        });

        it("finds a {} or [] default without a rule, and a value without a type", function () {
            const s = completeFromDefaults({}, { annotations: {}, args: [], size: 1 }, new Map());
            s.properties.size = {};
            assert.deepEqual(schemaProblems(s), [
                "annotations defaults to {}: which keys it takes cannot be inferred (close it with properties, or declare a map or a Kubernetes object)",
                "args defaults to []: the type of its items cannot be inferred",
                "size has no type",
            ]);
        });

        it("matches paths: * within one key, ** across keys, {a,b} either", function () {
            assert.ok(pathMatcher("*Probe.periodSeconds").test("livenessProbe.periodSeconds"));
            assert.ok(!pathMatcher("*Probe.periodSeconds").test("livenessProbe.ping.periodSeconds"));
            assert.ok(pathMatcher("**.port").test("networkPolicy.redis.port"));
            assert.ok(!pathMatcher("**.port").test("networkPolicy.redis.ports"));
            assert.ok(pathMatcher("{workers[],beat}.logLevel").test("workers[].logLevel"));
            assert.ok(!pathMatcher("{workers[],beat}.logLevel").test("workersX.logLevel"));
        });
    });

    describe("a chart's values.yaml and rules", function () {
        it("a new value defaulting to {} needs a rule, and the error names the key, values.yaml and the rules file", function () {
            scratchCharts("celery", (chartsDir, dir) => {
                fs.appendFileSync(path.join(dir, "values.yaml"), "\n## @param scaler.triggerMetadata Metadata of the trigger\nscaler:\n  triggerMetadata: {}\n");
                assert.throws(
                    () => chartSchema("celery", chartsDir),
                    (e: Error) =>
                        /celery\/values\.yaml: scaler\.triggerMetadata defaults to \{\}/.test(e.message) && /give it a rule in .*celery\/schema\.rules\.yaml/.test(e.message),
                );
                fs.appendFileSync(path.join(dir, RULES_FILE), '  scaler.triggerMetadata: labels\n');
                const { schema } = chartSchema("celery", chartsDir);
                assert.deepEqual(schema.properties.scaler.properties.triggerMetadata.additionalProperties, { type: "string" });
                assert.equal(schema.properties.scaler.additionalProperties, false);
            });
        });

        it("a rule of the chart that matches no value is refused", function () {
            scratchCharts("celery", (chartsDir, dir) => {
                fs.appendFileSync(path.join(dir, RULES_FILE), "  workerz[].name: { minLength: 1 }\n");
                assert.throws(() => chartSchema("celery", chartsDir), /schema\.rules\.yaml: rule "workerz\[\]\.name" matches no value of .*values\.yaml/);
            });
        });

        it("a shared rule that matches no value of any chart is refused", function () {
            scratchCharts("frontend", (chartsDir) => {
                fs.appendFileSync(path.join(chartsDir, RULES_FILE), "  nowhere.at.all: { minLength: 1 }\n");
                assert.throws(() => generatedChartSchemas(["frontend"], chartsDir), /rule "nowhere\.at\.all" match no value of any chart/);
            });
        });
    });
});
