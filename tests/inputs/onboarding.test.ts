// The README's "Add a customer" steps, walked in a scratch copy of the repository with the plan CLI,
// as a new user would: `npm run tenant -- add` as the README runs it, then the plan, then `remove`;
// and the same steps by hand, where each step's omission is refused with the step's fix, and the
// finished walk plans offline, with the shared stack evaluated from the edited Pulumi.shared.yaml.
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";
import { Scratch, scratchCopy } from "../../tools/lib/scratch";
import { REPO_ROOT, loadTenantConfig } from "../../tools/lib/stack-files";
import { main } from "../../tools/plan";
import { main as tenantMain } from "../../tools/tenant";
import { fingerprint } from "../support/fingerprint";

const README = fs.readFileSync(path.join(REPO_ROOT, "README.md"), "utf8");

/** The README's section, and the stack file it shows. */
function onboardingSteps(): { section: string; stackYaml: string; tenant: string; host: string } {
    const section = README.split("\n## Add a customer\n")[1]?.split("\n## ")[0];
    assert.ok(section, "README has an 'Add a customer' section");
    // The stack file of the steps by hand (the first one shown is the one `tenant add` writes).
    const byHand = section.split("\nBy hand, the same steps")[1] ?? "";
    const stackYaml = /```yaml\n([\s\S]*?)```/.exec(byHand)![1].replace(/^ {3}/gm, "");
    const config = YAML.parse(stackYaml).config;
    return { section, stackYaml, tenant: config["stock:tenant"], host: config["stock:host"] };
}

/** The README's `npm run tenant -- add` line, as arguments. */
function tenantAddCommand(): string[] {
    const section = README.split("\n## Add a customer\n")[1]?.split("\n## ")[0] ?? "";
    const line = /^npm run tenant -- (add [^#\n]*?)\s*(#.*)?$/m.exec(section);
    assert.ok(line, "README's 'Add a customer' runs npm run tenant -- add");
    return line[1].split(/\s+/);
}

async function tenant(root: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    let stdout = "";
    let stderr = "";
    const code = await tenantMain([...args, "--root", root], {
        stdout: { write: (t: string) => (stdout += t) },
        stderr: { write: (t: string) => (stderr += t) },
        stackLookup: () => Promise.resolve({ exists: false }),
    });
    return { code, stdout, stderr };
}

async function plan(root: string, stack: string): Promise<{ code: number; stdout: string; stderr: string }> {
    let stdout = "";
    let stderr = "";
    const code = await main(
        ["--stack", stack, "--root", root],
        { write: (t: string) => (stdout += t) },
        { write: (t: string) => (stderr += t) },
    );
    return { code, stdout, stderr };
}

describe("README: Add a customer with npm run tenant, walked offline", function () {
    this.timeout(180000);
    let dir: string;
    let repo: Scratch;
    before(() => {
        // The repository, and next to it a checkout of the app laid out as the real one is
        // (backend/ and frontend/, a Dockerfile each): the stand-in shaped like it.
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "stock-onboarding-"));
        fs.cpSync(path.join(REPO_ROOT, "fixtures", "upstream-app"), path.join(dir, "stock"), { recursive: true });
        repo = scratchCopy("unused-", REPO_ROOT, path.join(dir, "stock-deploy"));
    });
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    it("add as the README runs it, then the offline plan passes; remove leaves the repository byte-identical", async () => {
        const args = tenantAddCommand();
        const [, name] = args;
        assert.deepStrictEqual(
            args.filter((a) => a.endsWith("-source")),
            ["--backend-source", "--frontend-source"],
            "the README names the app's build contexts",
        );
        fs.rmSync(repo.file(`Pulumi.${name}.yaml`), { force: true });
        const before = fingerprint(repo.root);
        const appBefore = fingerprint(path.join(dir, "stock"));

        const added = await tenant(repo.root, args);
        assert.strictEqual(added.code, 0, added.stderr);
        assert.match(added.stdout, new RegExp(`wrote Pulumi\\.${name}\\.yaml\\n  wrote Pulumi\\.shared\\.yaml\\n`));
        assert.ok(added.stdout.includes(`npm run plan -- --stack ${name}`), "the next steps end with the plan");

        const planned = await plan(repo.root, name);
        assert.strictEqual(planned.code, 0, planned.stderr);
        assert.ok(planned.stdout.includes(`Plan for stack ${name} (tenant)`), planned.stdout);
        assert.match(planned.stdout, new RegExp(`v1/Namespace +${name} `));
        // It builds the app it names, with the profile that app needs: the real app's, the project default.
        const staged = path.join(repo.root, ".build", name, "frontend");
        const appFrontend = path.join(dir, "stock", "frontend");
        assert.strictEqual(
            fs.readFileSync(path.join(staged, "Dockerfile"), "utf8"),
            fs.readFileSync(path.join(appFrontend, "Dockerfile"), "utf8"),
            "the staged frontend is a copy of the app's",
        );
        assert.deepStrictEqual(fs.readdirSync(path.join(staged, "envs")), [name], "with only its own dotenv");
        assert.match(
            planned.stdout,
            /^ {2}backend +\S+:ctx-[0-9a-f]{16} +context \.\.\/stock\/backend$/m,
            "the backend from the app's checkout",
        );
        assert.match(
            planned.stdout,
            new RegExp(`^  frontend +\\S+:ctx-[0-9a-f]{16} +context \\.build/${name}/frontend +BUILD_FOR=${name} `, "m"),
        );
        assert.deepStrictEqual(
            loadTenantConfig(name, { root: repo.root }).app.api.probes.readiness,
            { kind: "http", path: "/api/v1/" },
            "the real app's probes, the project default",
        );
        assert.deepStrictEqual(fingerprint(path.join(dir, "stock")), appBefore, "nothing written into the app's checkout");

        const removed = await tenant(repo.root, ["remove", name]);
        assert.strictEqual(removed.code, 0, removed.stderr);
        // The plan's staged build context is git-ignored output (/.build/), as `pulumi up` leaves it.
        const tracked = (f: Record<string, string>) =>
            Object.fromEntries(Object.entries(f).filter(([file]) => !file.startsWith(".build/")));
        assert.deepStrictEqual(tracked(fingerprint(repo.root)), before);
        assert.ok(fs.readFileSync(repo.file(".gitignore"), "utf8").split("\n").includes("/.build/"), "which git ignores");
    });
});

describe("README: Add a customer by hand, walked offline", function () {
    this.timeout(180000);
    let repo: Scratch;
    before(() => {
        repo = scratchCopy("stock-onboarding-");
    });
    after(() => repo.remove());

    it("plans the new customer once its steps are done, with no dotenv file written by hand, and refuses the missing step with its fix", async () => {
        const steps = onboardingSteps();
        assert.match(steps.section, /Add the tenant to `stock:tenants` in `Pulumi\.shared\.yaml`/);
        assert.match(steps.section, /No dotenv file is written by hand: the program computes `envs\/client-d`/);
        assert.match(steps.section, /`npm run plan -- --stack (\S+)`/);
        const { tenant, host } = steps;
        const stackFile = repo.file(`Pulumi.${tenant}.yaml`);
        const sharedFile = repo.file("Pulumi.shared.yaml");
        // Start from a repository without this customer, whatever the repository holds today.
        fs.rmSync(stackFile, { force: true });
        fs.writeFileSync(sharedFile, fs.readFileSync(sharedFile, "utf8").replace(new RegExp(`^ *- *${tenant} *\\n`, "m"), ""));
        assert.ok(!fs.existsSync(repo.file("app/frontend/envs")), "the frontend source has no dotenv files at all");

        // Step 2 without the app it builds: refused, naming the keys, the file and the fix.
        const withoutSources = steps.stackYaml.replace(/^ *stock:(backend|frontend)Source:.*\n/gm, "");
        assert.notStrictEqual(withoutSources, steps.stackYaml, "the README's stack file names its sources");
        fs.writeFileSync(stackFile, withoutSources);
        const nameless = await plan(repo.root, tenant);
        assert.strictEqual(nameless.code, 1, nameless.stdout);
        for (const key of ["backendSource", "frontendSource"])
            assert.match(
                nameless.stderr,
                new RegExp(
                    `stock:${key} is required for tenant stacks but is not set in Pulumi\\.${tenant}\\.yaml\\. Fix: pulumi config set stock:${key} '\\.\\./stock/(backend|frontend)' -s ${tenant}`,
                ),
            );

        // Step 2 alone: the stack file. Refused for the shared stack's list (step 1).
        fs.writeFileSync(stackFile, steps.stackYaml);
        const unlisted = await plan(repo.root, tenant);
        assert.strictEqual(unlisted.code, 1, unlisted.stdout);
        assert.match(
            unlisted.stderr,
            new RegExp(
                `tenant '${tenant}' \\(stock:tenant\\) is not allowed on the shared Redis.*Fix: add ${tenant} to stock:tenants in Pulumi.shared.yaml`,
            ),
        );

        // Step 1: one line in the shared stack's list (what \`tenant add\` appends).
        const shared = fs.readFileSync(sharedFile, "utf8");
        const item = /^( *)- *client-a *$/m.exec(shared)!;
        fs.writeFileSync(sharedFile, shared.replace(/\n*$/, `\n${item[1]}- ${tenant}\n`));
        const done = await plan(repo.root, tenant);
        assert.strictEqual(done.code, 0, done.stderr);
        assert.ok(done.stdout.includes(`Plan for stack ${tenant} (tenant)`));
        assert.ok(done.stdout.includes(`frontend   http://${host}/`), done.stdout);
        assert.ok(
            done.stdout.includes(`Frontend dotenv (written into the staged build context)\n  REACT_APP_HOST_URL=http://${host}\n`),
            done.stdout,
        );
        assert.ok(!fs.existsSync(repo.file("app/frontend/envs")), "still no hand-written dotenv");
        assert.ok(done.stdout.includes(`  + objects of oci://`) === false, "a tenant plan renders every chart");
        assert.match(done.stdout, new RegExp(`v1/Namespace +${tenant} `));
        // Its secrets are still to be set (step 4), and the plan says which.
        assert.match(
            done.stdout,
            new RegExp(
                `Secrets not set for stack ${tenant}[^\\n]*\\n  stock:dbPassword +pulumi config set --secret stock:dbPassword -s ${tenant}`,
            ),
        );

        // The shared stack's plan now has the new tenant's credential (as a secret).
        const sharedPlan = await plan(repo.root, "shared");
        assert.strictEqual(sharedPlan.code, 0, sharedPlan.stderr);
        assert.ok(sharedPlan.stdout.includes(`  redisCredential-${tenant} = [secret]\n`), sharedPlan.stdout);
        assert.ok(sharedPlan.stdout.includes(`"${tenant}":"${tenant}"`), "tenantStacks names the new stack");
    });
});
