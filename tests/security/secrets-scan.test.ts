/**
 * Secrets hygiene: run every stack with obviously fake secrets (every generated password and every
 * credential is a FAKE-SECRET-... string), then look for those strings everywhere they must never be:
 * ConfigMaps, chart values and everything the charts render, plain stack outputs, log lines, the plan
 * output and committed files.
 */
import * as assert from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { helmTemplate } from "../../tools/lib/helm";
import { IMAGE_TYPE, ProgramRun, RunOptions, fakeRegistry, reveal, runProgram, unwrapSecret } from "../../tools/lib/mock-run";
import { redisPasswords } from "../../components/redis/passwords";
import { FAKE_SECRET_MARKER, REPO_ROOT, loadStackConfig, stackNames } from "../../tools/lib/stack-files";
import { buildPlan, formatPlan } from "../../tools/lib/plan";

const FAKE = new RegExp(`${FAKE_SECRET_MARKER}-[-\\w]+`, "g");
/** Secrets derived by the program rather than read from config: the shared stack's Redis passwords. */
function derivedSecrets(): string[] {
    const shared = loadStackConfig("shared");
    if (shared.role !== "shared") return [];
    const passwords = redisPasswords(shared);
    return [passwords.defaultPassword, ...Object.values(passwords.tenants)];
}
const DERIVED = derivedSecrets();
const leaks = (where: string, value: unknown) => {
    const text = JSON.stringify(value ?? null);
    const found = [
        ...(text.match(FAKE) ?? []),
        ...DERIVED.filter((d) => text.includes(d)).map((d) => `derived Redis password ${d.slice(0, 6)}...`),
    ];
    return found.map((f) => `${where}: ${f}`);
};

/** Runs the program while capturing everything it writes to stdout/stderr. */
async function runCapturingLogs(stack: string, options: RunOptions = {}): Promise<{ run: ProgramRun; logs: string }> {
    const chunks: string[] = [];
    const out = process.stdout.write.bind(process.stdout);
    const err = process.stderr.write.bind(process.stderr);
    const capture = (chunk: any) => {
        chunks.push(String(chunk));
        return true;
    };
    process.stdout.write = capture as any;
    process.stderr.write = capture as any;
    try {
        // `up` semantics: generated passwords are known (fake), so they can be looked for.
        return { run: await runProgram(stack, { ...options, preview: false }), logs: chunks.join("") };
    } finally {
        process.stdout.write = out;
        process.stderr.write = err;
    }
}

describe("secrets hygiene", function () {
    this.timeout(120000);

    for (const stack of stackNames()) {
        it(`${stack}: fake secrets reach Secrets only, never ConfigMaps, chart values, rendered objects, plain outputs, logs or the plan`, async () => {
            // The images stack builds only tags Harbor lacks: here none are there, so its push credentials are used.
            const { run, logs } = await runCapturingLogs(stack, stack === "images" ? { tagLookup: fakeRegistry().lookup } : {});
            const problems: string[] = [];
            // Where the push robot's token belongs in the images stack: the builds' registry credentials, as a secret.
            const images = stack === "images" ? run.ofType(IMAGE_TYPE) : [];
            for (const image of images) {
                // Secret as a whole list, or password by password.
                const registries = unwrapSecret(image.inputs.registries);
                const passwords = (registries.value as unknown[]).map((r) =>
                    unwrapSecret((unwrapSecret(r).value as { password: unknown }).password),
                );
                assert.ok(registries.secret || passwords.every((p) => p.secret), `${image.name}: the registry password is a secret`);
                const { registries: _registries, ...rest } = reveal(image.inputs);
                problems.push(...leaks(`image ${image.name} outside its registry credentials`, rest));
            }
            const secretsSeen = [
                ...run.ofType("kubernetes:core/v1:Secret").flatMap((s) => leaks("secret", reveal(s.inputs))),
                ...images.flatMap((i) => leaks("registry credentials", reveal(i.inputs.registries))),
            ];
            assert.ok(secretsSeen.length > 0, "the scan sees the fake secrets where they belong (or it would prove nothing)");

            for (const cm of run.ofType("kubernetes:core/v1:ConfigMap")) problems.push(...leaks(`ConfigMap ${cm.name}`, reveal(cm.inputs)));
            for (const chart of run.ofType("kubernetes:helm.sh/v4:Chart")) {
                problems.push(...leaks(`chart values of ${chart.name}`, reveal(chart.inputs.values)));
                if (!String(chart.inputs.chart).startsWith("oci://")) {
                    const objects = await helmTemplate(chart.inputs.chart, reveal(chart.inputs.values), {
                        releaseName: chart.inputs.name,
                        namespace: chart.inputs.namespace,
                    });
                    problems.push(...leaks(`rendered ${chart.name}`, objects));
                }
            }
            for (const [name, value] of Object.entries(run.outputs)) {
                if (!run.secretOutputs.includes(name)) problems.push(...leaks(`plain output ${name}`, value));
            }
            problems.push(...leaks("log", logs));
            const plan = await buildPlan(stack);
            problems.push(...leaks("plan", formatPlan(plan)), ...leaks("plan manifests", plan.objects));
            assert.deepStrictEqual(problems, []);
        });
    }

    it("catches a leak: a secret put into plain env lands in the ConfigMap and is reported", async () => {
        const run = await runProgram("client-a", { overrides: { "stock:extraEnv": { SENTRY_DSN: `${FAKE_SECRET_MARKER}-sentry` } } });
        const found = run.ofType("kubernetes:core/v1:ConfigMap").flatMap((cm) => leaks(`ConfigMap ${cm.name}`, reveal(cm.inputs)));
        assert.deepStrictEqual(found, [`ConfigMap client-a-env: ${FAKE_SECRET_MARKER}-sentry`]);
    });

    it("no committed file holds a credential", () => {
        const files = execFileSync("git", ["ls-files", "-z"], { cwd: REPO_ROOT }).toString().split("\0").filter(Boolean);
        const patterns: [string, RegExp][] = [
            ["private key", /-----BEGIN [A-Z ]*PRIVATE KEY-----/],
            ["GitHub token", /\bgh[pousr]_[A-Za-z0-9]{30,}/],
            ["npm token", /\bnpm_[A-Za-z0-9]{30,}/],
            ["AWS access key", /\bAKIA[0-9A-Z]{16}\b/],
            ["Slack token", /\bxox[abpr]-[A-Za-z0-9-]{10,}/],
            ["password in a URL", /[a-z]+:\/\/[^\s:/@]+:(?![$<{%*]|fake)[^\s:/@]{6,}@/i],
        ];
        const problems: string[] = [];
        for (const file of files) {
            const full = path.join(REPO_ROOT, file);
            if (!fs.existsSync(full) || !fs.statSync(full).isFile() || fs.statSync(full).size > 1 << 20 || file === "package-lock.json")
                continue;
            const text = fs.readFileSync(full, "utf8");
            for (const [what, re] of patterns) if (re.test(text)) problems.push(`${file}: ${what}`);
            if (
                /^Pulumi\.[^.]+\.ya?ml$/.test(file) &&
                /^[ \t]*stock:(dbPassword|harborPassword|npmToken|extraSecretEnv):[ \t]*(?!$)(?!\{?[ \t]*secure:)/m.test(text)
            ) {
                problems.push(`${file}: plaintext secret in a stack file`);
            }
            // Fake secret values are generated in memory by the tests; a committed copy means something wrote one out.
            if (!file.startsWith("tests/") && FAKE.test(text)) problems.push(`${file}: a fake secret value`);
            FAKE.lastIndex = 0;
            if (DERIVED.some((d) => text.includes(d))) problems.push(`${file}: a Redis password derived from the fake seed`);
        }
        assert.deepStrictEqual(problems, []);
        assert.ok(files.length > 20, "the scan read the repository");
    });
});
