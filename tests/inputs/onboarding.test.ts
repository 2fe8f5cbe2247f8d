// The README's "Add a customer" steps, walked in a scratch copy of the repository with the plan CLI,
// as a new user would: each step's omission is refused with the step's fix, and the finished walk
// plans offline, with the shared stack evaluated from the edited Pulumi.shared.yaml.
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { Scratch, scratchCopy } from "../../tools/lib/scratch";
import { REPO_ROOT } from "../../tools/lib/stack-files";
import { main } from "../../tools/plan";

const README = fs.readFileSync(path.join(REPO_ROOT, "README.md"), "utf8");

/** The README's section, and the stack file it shows. */
function onboardingSteps(): { section: string; stackYaml: string; tenant: string; host: string } {
    const section = README.split("\n## Add a customer\n")[1]?.split("\n## ")[0];
    assert.ok(section, "README has an 'Add a customer' section");
    const stackYaml = /```yaml\n([\s\S]*?)```/.exec(section)![1].replace(/^ {3}/gm, "");
    const config = YAML.parse(stackYaml).config;
    return { section, stackYaml, tenant: config["stock:tenant"], host: config["stock:host"] };
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

describe("README: Add a customer, walked offline", function () {
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
