/**
 * `npm run mutate [-- --only ID[,ID]] [-- --mutations FILE]`: the mutation check (not part of `npm test`).
 *
 * Applies each mutation of tools/mutations.json (one small edit of the source: a bug we fixed or
 * a rule we rely on) in a scratch copy of the working tree, runs the tests the entry names, and
 * expects them to fail. Before any mutation, the same tests must pass unmutated (or a "caught"
 * would prove nothing). Exit 0 when every mutation is caught (or skipped: see skipUnlessExists); 1 when one survives, no longer
 * applies (its search text is not found exactly once) or the baseline fails; 2 on bad arguments.
 * Add an entry with every bug fixed: file, search, replace (one line each), the tests, why.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { parseArgs } from "util";
import { REPO_ROOT } from "./lib/stack-files";
import { scratchCopy } from "./lib/scratch";

export interface Edit {
    /** Relative to the repository. */
    file: string;
    /** Text found exactly once in the file (one line, or part of one). */
    search: string;
    replace: string;
}

export interface Mutation {
    id: string;
    /** What breaks, and why a test must notice. */
    why: string;
    /** Usually one edit; two when the bug is code moved from one place to another. */
    edits: Edit[];
    /** Test files (relative to the repository) that must fail. */
    tests: string[];
    /** Only the tests whose full title matches (mocha --grep), to keep the run short. */
    grep?: string;
    /**
     * A path the tests need, or they skip (e.g. the bitnami/charts mirror): without it the mutation
     * is reported as skipped, not as caught or survived. `$VAR|default`: the variable's value if set.
     */
    skipUnlessExists?: string;
}

/** The path a `skipUnlessExists` names. */
export function requiredPath(spec: string): string {
    const [first, fallback] = spec.split("|");
    return first.startsWith("$") ? process.env[first.slice(1)] || fallback : first;
}

export const MUTATIONS_FILE = path.join(REPO_ROOT, "tools", "mutations.json");

export function readMutations(file = MUTATIONS_FILE): Mutation[] {
    return JSON.parse(fs.readFileSync(file, "utf8")).mutations;
}

/** Why a mutation cannot be applied to the sources under `root`, if it cannot. */
export function applicationProblem(m: Mutation, root = REPO_ROOT): string | undefined {
    if (!m.id || !m.why || !m.edits?.length || !m.tests?.length) return `${m.id ?? "(no id)"}: needs id, why, edits and tests`;
    for (const e of m.edits) {
        const file = path.join(root, e.file);
        if (!fs.existsSync(file)) return `${m.id}: ${e.file} does not exist`;
        if (e.search === e.replace) return `${m.id}: search and replace are the same`;
        if (e.search.includes("\n") || e.replace.includes("\n")) return `${m.id}: edits are single-line`;
        const count = fs.readFileSync(file, "utf8").split(e.search).length - 1;
        if (count !== 1) return `${m.id}: the search text occurs ${count} times in ${e.file} (must be once): ${e.search}`;
    }
    for (const t of m.tests) if (!fs.existsSync(path.join(root, t))) return `${m.id}: test file ${t} does not exist`;
    return undefined;
}

function runTests(root: string, tests: string[], grep?: string): { ok: boolean; output: string } {
    const mocha = path.join(root, "node_modules", "mocha", "bin", "mocha.js");
    const args = [mocha, "--bail", "--reporter", "dot", ...(grep ? ["--grep", grep] : []), ...tests];
    const result = spawnSync(process.execPath, args, {
        cwd: root,
        encoding: "utf8",
        timeout: 600_000,
        env: { ...process.env, FORCE_COLOR: "0" },
    });
    return { ok: result.status === 0, output: `${result.stdout}${result.stderr}` };
}

export interface Outcome {
    id: string;
    result: "caught" | "survived" | "stale" | "baseline failed" | "skipped";
    detail?: string;
}

export function mutate(mutations: Mutation[], log: (line: string) => void = () => undefined): Outcome[] {
    const outcomes: Outcome[] = [];
    const applicable = mutations.filter((m) => {
        const problem = applicationProblem(m);
        if (problem) outcomes.push({ id: m.id, result: "stale", detail: problem });
        const missing =
            m.skipUnlessExists && !fs.existsSync(requiredPath(m.skipUnlessExists)) ? requiredPath(m.skipUnlessExists) : undefined;
        if (!problem && missing) outcomes.push({ id: m.id, result: "skipped", detail: `${missing} does not exist, so its tests skip` });
        return !problem && !missing;
    });
    const scratch = scratchCopy("stock-mutate-");
    try {
        const groups = new Map<string, Mutation[]>();
        for (const m of applicable) {
            const key = JSON.stringify([m.tests, m.grep ?? ""]);
            groups.set(key, [...(groups.get(key) ?? []), m]);
        }
        for (const [key, group] of groups) {
            const [tests, grep] = JSON.parse(key) as [string[], string];
            const baseline = runTests(scratch.root, tests, grep || undefined);
            if (!baseline.ok) {
                for (const m of group) outcomes.push({ id: m.id, result: "baseline failed", detail: baseline.output.slice(-2000) });
                log(`baseline of ${tests.join(" ")}${grep ? ` --grep '${grep}'` : ""} FAILS unmutated:\n${baseline.output.slice(-2000)}`);
                continue;
            }
            for (const m of group) {
                const originals = m.edits.map((e) => [e.file, fs.readFileSync(scratch.file(e.file), "utf8")] as const);
                try {
                    for (const e of m.edits) {
                        const file = scratch.file(e.file);
                        fs.writeFileSync(
                            file,
                            fs.readFileSync(file, "utf8").replace(e.search, () => e.replace),
                        );
                    }
                    const run = runTests(scratch.root, m.tests, m.grep);
                    outcomes.push({ id: m.id, result: run.ok ? "survived" : "caught" });
                    log(`${run.ok ? "SURVIVED" : "caught  "}  ${m.id}`);
                } finally {
                    for (const [file, text] of originals) fs.writeFileSync(scratch.file(file), text);
                }
            }
        }
    } finally {
        scratch.remove();
    }
    return outcomes;
}

if (require.main === module) {
    let args;
    try {
        args = parseArgs({ args: process.argv.slice(2), options: { only: { type: "string" }, mutations: { type: "string" } } }).values;
    } catch (e) {
        process.stderr.write(`${(e as Error).message}\nusage: npm run mutate [-- --only ID[,ID]] [-- --mutations FILE]\n`);
        process.exit(2);
    }
    const all = readMutations(args.mutations ? path.resolve(args.mutations) : MUTATIONS_FILE);
    const only = args.only?.split(",");
    const unknown = (only ?? []).filter((id) => !all.some((m) => m.id === id));
    if (unknown.length) {
        process.stderr.write(`no mutation ${unknown.join(", ")}\n`);
        process.exit(2);
    }
    const chosen = only ? all.filter((m) => only.includes(m.id)) : all;
    const started = Date.now();
    const outcomes = mutate(chosen, (line) => process.stdout.write(`${line}\n`));
    const count = (r: Outcome["result"]) => outcomes.filter((o) => o.result === r).length;
    for (const o of outcomes.filter((x) => x.result !== "caught" && x.result !== "survived"))
        process.stdout.write(`${o.result}: ${o.id}${o.detail ? ` — ${o.detail.split("\n")[0]}` : ""}\n`);
    process.stdout.write(
        `\n${outcomes.length} mutations: ${count("caught")} caught, ${count("survived")} survived, ${count("stale")} stale, ${count("baseline failed")} with a failing baseline, ${count("skipped")} skipped (${Math.round((Date.now() - started) / 1000)}s)\n`,
    );
    process.exit(count("caught") + count("skipped") === outcomes.length ? 0 : 1);
}
