import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";
import { nginxServerBlock } from "../../components/tenant/nginx";
import { REPO_ROOT, loadStackConfig, loadTenantConfig, requiredSecrets } from "../../tools/lib/stack-files";
import { RESERVED_TENANT_NAMES, withTenantListed, withTenantUnlisted } from "../../tools/lib/tenants";
import { StackLookup, main, pulumiStackLookup } from "../../tools/tenant";
import { scratchCopy } from "../../tools/lib/scratch";
import { APP_PROFILES } from "../../tools/lib/app-profiles";
import { PROJECT } from "../../components/config";
import { fingerprint } from "../support/fingerprint";

interface CliResult {
    code: number;
    stdout: string;
    stderr: string;
}

/** The tenant CLI in this process, on `root`, with the Pulumi stack lookup injected. */
async function tenantCli(root: string, args: string[], stackLookup?: StackLookup): Promise<CliResult> {
    let stdout = "";
    let stderr = "";
    const code = await main([...args, "--root", root], {
        stdout: { write: (t: string) => (stdout += t) },
        stderr: { write: (t: string) => (stderr += t) },
        stackLookup,
    });
    return { code, stdout, stderr };
}

/**
 * A scratch copy of this repository as `<dir>/stock-deploy`, with a checkout of an app next to it,
 * `<dir>/stock`, laid out as the real app's repository is (backend/ and frontend/, a Dockerfile
 * each): fixtures/upstream-app, the stand-in shaped like it.
 */
function repoWithApp(): { root: string; app: string; remove(): void } {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "stock-tenant-"));
    const app = path.join(dir, "stock");
    fs.cpSync(path.join(REPO_ROOT, "fixtures", "upstream-app"), app, { recursive: true });
    const { root } = scratchCopy("unused-", REPO_ROOT, path.join(dir, "stock-deploy"));
    return { root, app, remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** The real app's checkout next to the repository, as the README's example names it. */
const APP = ["--backend-source", "../stock/backend", "--frontend-source", "../stock/frontend"];
/** The reference app in this repository, with the profile it needs. */
const REFERENCE_APP = ["--backend-source", "app/backend", "--frontend-source", "app/frontend", "--profile", "reference"];

const gone: StackLookup = () => Promise.resolve({ exists: false });
const alive: StackLookup = () => Promise.resolve({ exists: true });
const noCli: StackLookup = () => Promise.resolve({ unknown: "no Pulumi CLI on PATH" });

describe("tenant: onboarding and offboarding a customer", function () {
    this.timeout(60000);
    let repo: { root: string; app: string; remove(): void };
    let before: Record<string, string>;
    let appBefore: Record<string, string>;
    beforeEach(() => {
        repo = repoWithApp();
        before = fingerprint(repo.root);
        appBefore = fingerprint(repo.app);
    });
    afterEach(() => repo.remove());

    it("add writes a stack file the config model accepts, naming the app it builds, and lists the tenant in the shared stack; no dotenv (the program computes it)", async () => {
        const sharedBefore = fs.readFileSync(path.join(repo.root, "Pulumi.shared.yaml"), "utf8");
        const imagesBefore = fs.readFileSync(path.join(repo.root, "Pulumi.images.yaml"), "utf8");
        const r = await tenantCli(repo.root, ["add", "client-d", "--host", "app.client-d.example.com", ...APP]);
        assert.strictEqual(r.code, 0, r.stderr);
        const config = loadTenantConfig("client-d", { root: repo.root });
        assert.strictEqual(config.tenant, "client-d");
        assert.strictEqual(config.host, "app.client-d.example.com");
        assert.deepStrictEqual(
            [config.images.backend.source, config.images.frontend.source],
            ["../stock/backend", "../stock/frontend"],
            "the sources as given, relative to the repository",
        );
        assert.strictEqual(config.buildFor, "client-d");
        assert.deepStrictEqual([config.database.name, config.database.user], ["stock_client_d", "stock_client_d"]);
        assert.strictEqual(config.harbor.pullUsername, "robot$stock-pull-client-d");
        assert.strictEqual(config.rolloutWave, 1);
        const shared = loadStackConfig("shared", { root: repo.root });
        assert.ok(shared.role === "shared" && shared.tenants.includes("client-d"));
        assert.ok(!fs.existsSync(path.join(repo.root, "app/frontend/envs")), "no hand-kept dotenv is written");
        assert.deepStrictEqual(fingerprint(repo.app), appBefore, "nor anything in the app's checkout");
        // The next steps say where the app must be, and show the dotenv the program computes.
        assert.match(
            r.stdout,
            /1\. Build contexts: stock:backendSource \.\.\/stock\/backend and stock:frontendSource \.\.\/stock\/frontend, outside this repository: every `pulumi up` needs the app checked out at the same place relative to it\. CI checks out the repository variable APP_REPOSITORY \(default fengxia41103\/stock\) at APP_REF/,
        );
        assert.ok(
            r.stdout.includes(
                "2. Frontend dotenv: nothing to write. The program computes envs/client-d into the staged copy of the frontend source (.build/client-d/frontend/) at every plan, preview and up:\n      REACT_APP_HOST_URL=http://app.client-d.example.com\n",
            ),
            r.stdout,
        );

        const text = fs.readFileSync(path.join(repo.root, "Pulumi.client-d.yaml"), "utf8");
        assert.match(text, /^# Customer client-d/, "commented");
        assert.match(
            text,
            / {2}# the app it builds \(no project default\)[^\n]*\n {2}#[^\n]*\n {2}stock:backendSource: \.\.\/stock\/backend\n {2}stock:frontendSource: \.\.\/stock\/frontend\n/,
        );
        assert.match(text, /# 0 = canary/);
        for (const secret of requiredSecrets("tenant", { "stock:harborPullUsername": "x" })) {
            assert.ok(text.includes(`pulumi config set --secret ${secret} -s client-d`), `stack file names ${secret}`);
            assert.ok(r.stdout.includes(`pulumi config set --secret ${secret} -s client-d`), `next steps name ${secret}`);
        }
        assert.ok(!/secure:/.test(text), "no secret in the file");
        const sharedText = fs.readFileSync(path.join(repo.root, "Pulumi.shared.yaml"), "utf8");
        assert.strictEqual(
            sharedText,
            sharedBefore.trimEnd() + "\n    - client-d\n",
            "the shared file keeps its comments; only the new tenant is added",
        );

        // The remaining steps: DNS and the load balancer block the program computes.
        assert.match(r.stdout, /DNS: point app\.client-d\.example\.com at the external nginx load balancer/);
        for (const line of nginxServerBlock(config).trimEnd().split("\n")) assert.ok(r.stdout.includes(line), `next steps show: ${line}`);
        assert.match(r.stdout, /pulumi up -s shared/);
        assert.match(
            r.stdout,
            /Its backend image \(\.\.\/stock\/backend\) is built by the images stack \(Pulumi\.images\.yaml, where stock:backendSources now lists it\), which must have run since the backend last changed: pulumi up -s images/,
        );
        // The images stack builds the new backend: its list gains the line, its comments stay.
        const imagesText = fs.readFileSync(path.join(repo.root, "Pulumi.images.yaml"), "utf8");
        assert.strictEqual(imagesText, imagesBefore.trimEnd() + "\n    - ../stock/backend\n");

        const readme = fs.readFileSync(path.join(repo.root, "README.md"), "utf8");
        const indented = text
            .trimEnd()
            .split("\n")
            .map((l) => (l ? `   ${l}` : ""))
            .join("\n");
        assert.ok(readme.includes(indented), "README's onboarding example is the file tenant add writes");

        const list = await tenantCli(repo.root, ["list"]);
        assert.strictEqual(list.code, 0, list.stderr);
        assert.match(list.stdout, /│ client-d\s+│ Pulumi\.client-d\.yaml │ app\.client-d\.example\.com │ 1\s+│ ok\s+│/);
    });

    it("add then remove leaves the repository byte-identical", async () => {
        assert.strictEqual(
            (await tenantCli(repo.root, ["add", "client-d", "--host", "app.client-d.example.com", "--wave", "0", ...APP])).code,
            0,
        );
        assert.notDeepStrictEqual(fingerprint(repo.root), before);
        const r = await tenantCli(repo.root, ["remove", "client-d"], gone);
        assert.strictEqual(r.code, 0, r.stderr);
        assert.match(r.stdout, /deleted Pulumi\.client-d\.yaml/);
        assert.deepStrictEqual(fingerprint(repo.root), before);
    });

    it("add --profile reference writes the reference app's profile keys, commented, as the example stacks of app/ set them; then remove leaves the repository byte-identical", async () => {
        const r = await tenantCli(repo.root, ["add", "client-d", "--host", "app.client-d.example.com", ...REFERENCE_APP]);
        assert.strictEqual(r.code, 0, r.stderr);
        const written = fs.readFileSync(path.join(repo.root, "Pulumi.client-d.yaml"), "utf8");
        const values = (YAML.parse(written) as { config: Record<string, unknown> }).config;
        // Every key Pulumi.client-a.yaml (the reference app, nothing else special) sets, except the
        // tenant's own, with the same value: so the example stack and the profile cannot drift.
        const own = ["tenant", "host", "dbName", "dbUser", "harborPullUsername", "backendSource", "frontendSource"].map(
            (k) => `${PROJECT}:${k}`,
        );
        const example = (
            YAML.parse(fs.readFileSync(path.join(REPO_ROOT, "Pulumi.client-a.yaml"), "utf8")) as { config: Record<string, unknown> }
        ).config;
        const profileOfExample = Object.fromEntries(Object.entries(example).filter(([k]) => !own.includes(k)));
        const written_profile = Object.fromEntries(Object.keys(profileOfExample).map((k) => [k, values[k]]));
        assert.deepStrictEqual(written_profile, profileOfExample);
        assert.deepStrictEqual(
            Object.keys(APP_PROFILES.reference.keys)
                .map((k) => `${PROJECT}:${k}`)
                .sort(),
            Object.keys(profileOfExample).sort(),
            "the profile is exactly what the example sets",
        );
        // The program's model reads them as client-a's and client-b's: the same app profile and npm secret mode.
        const config = loadTenantConfig("client-d", { root: repo.root });
        for (const stack of ["client-a", "client-b"]) {
            const other = loadTenantConfig(stack, { root: repo.root });
            assert.deepStrictEqual(config.app, other.app, `${stack}'s app profile`);
            assert.strictEqual(config.npmTokenMode, other.npmTokenMode);
        }
        assert.strictEqual(config.app.api.probes.readiness.kind, "http");
        assert.match(
            written,
            /\n {2}# app profile "reference" \(tenant add --profile reference;[^\n]*\n(?: {2}#[^\n]*\n)+ {2}stock:npmTokenMode: secret\n/,
        );
        assert.match(written, /\n {2}# answers 503 while the database is down\n {2}stock:apiReadinessProbe: http:\/readyz\n/);
        assert.match(
            r.stdout,
            /1\. Build contexts: .*, in this repository\. They run with app profile reference, whose keys the stack file sets \(stock:npmTokenMode, stock:apiStartupProbe/,
        );

        const removed = await tenantCli(repo.root, ["remove", "client-d"], gone);
        assert.strictEqual(removed.code, 0, removed.stderr);
        assert.deepStrictEqual(fingerprint(repo.root), before);
    });

    it("add refuses an unknown --profile listing the known ones, and the reference app without --profile, writing nothing", async () => {
        const add = (...args: string[]) => tenantCli(repo.root, ["add", "client-d", "--host", "app.client-d.example.com", ...args]);
        const unknown = await add(...APP, "--profile", "upstream");
        assert.strictEqual(unknown.code, 2, unknown.stderr);
        assert.ok(
            unknown.stderr.startsWith("unknown --profile 'upstream'; the known app profiles are:\n  real (default): the real stock app"),
            unknown.stderr,
        );
        assert.match(unknown.stderr, /\n {2}reference: the reference app in app\//);
        const inherited = await add(...APP, "--profile", "toString");
        assert.strictEqual(inherited.code, 2, "an Object.prototype name is no profile");

        const noProfile = await add("--backend-source", "app/backend", "--frontend-source", "app/frontend");
        assert.strictEqual(noProfile.code, 1, noProfile.stderr);
        assert.match(
            noProfile.stderr,
            /^refusing to add client-d: --backend-source app\/backend is this repository's reference app, .*never become ready\. Fix: add --profile reference \(or --profile real/,
        );
        assert.deepStrictEqual(fingerprint(repo.root), before);

        // Said explicitly, the real profile is the project defaults: no profile key written.
        const real = await add("--backend-source", "app/backend", "--frontend-source", "app/frontend", "--profile", "real");
        assert.strictEqual(real.code, 0, real.stderr);
        const text = fs.readFileSync(path.join(repo.root, "Pulumi.client-d.yaml"), "utf8");
        assert.doesNotMatch(text, /Probe|celeryLiveness|redisKeyPrefixMode|npmTokenMode/);
    });

    it("a profile's values go through the program's config model: a bad one is refused with the model's message", async () => {
        const readiness = APP_PROFILES.reference.keys.apiReadinessProbe!;
        const original = readiness.value;
        readiness.value = "https:/readyz";
        try {
            const r = await tenantCli(repo.root, ["add", "client-d", "--host", "app.client-d.example.com", ...REFERENCE_APP]);
            assert.strictEqual(r.code, 1, r.stderr);
            assert.match(
                r.stderr,
                /^refusing to write Pulumi\.client-d\.yaml: the program would refuse it\.\n[\s\S]*stock:apiReadinessProbe/,
            );
        } finally {
            readiness.value = original;
        }
        assert.deepStrictEqual(fingerprint(repo.root), before);
    });

    it("remove refuses while the Pulumi stack exists, and without a CLI to ask, unless --force", async () => {
        assert.strictEqual((await tenantCli(repo.root, ["add", "client-d", "--host", "app.client-d.example.com", ...APP])).code, 0);
        const added = fingerprint(repo.root);
        const exists = await tenantCli(repo.root, ["remove", "client-d"], alive);
        assert.strictEqual(exists.code, 1);
        assert.match(exists.stderr, /Pulumi stack client-d still exists.*pulumi destroy -s client-d && pulumi stack rm client-d/);
        const unknown = await tenantCli(repo.root, ["remove", "client-d"], noCli);
        assert.strictEqual(unknown.code, 1);
        assert.match(unknown.stderr, /Cannot tell whether the Pulumi stack client-d still exists \(no Pulumi CLI on PATH\).*--force/);
        assert.deepStrictEqual(fingerprint(repo.root), added, "nothing changed");
        let asked = 0;
        const forced = await tenantCli(repo.root, ["remove", "client-d", "--force"], () => (asked++, Promise.resolve({ exists: true })));
        assert.strictEqual(forced.code, 0, forced.stderr);
        assert.strictEqual(asked, 0, "--force does not ask");
        assert.deepStrictEqual(fingerprint(repo.root), before);
    });

    it("refuses invalid, reserved and duplicate names, a taken host and a bad host, writing nothing", async () => {
        const cases: Array<[string[], RegExp]> = [
            [
                ["add", "Client_D", "--host", "app.x.example.com", ...APP],
                /'Client_D' is not a valid tenant name: it must be a DNS-1123 label/,
            ],
            [["add", "-x", "--host", "app.x.example.com"], /./],
            [["add", "client-a", "--host", "app.new.example.com", ...APP], /Pulumi\.client-a\.yaml already exists/],
            [
                ["add", "client-d", "--host", "app.client-a.feng.local", ...APP],
                /host app\.client-a\.feng\.local is already the host of tenant client-a/,
            ],
            [
                ["add", "client-d", "--host", "app_client_d", ...APP],
                /refusing to write Pulumi\.client-d\.yaml: the program would refuse it[\s\S]*stock:host in Pulumi\.client-d\.yaml: must be a lower-case DNS name/,
            ],
            [
                ["add", "a-tenant-name-long-enough-to-overflow-mysql-user-names", "--host", "app.long.example.com", ...APP],
                /stock:dbUser in Pulumi\.a-tenant-name-long-enough-to-overflow-mysql-user-names\.yaml: must be a MySQL user name/,
            ],
            [["remove", "client-z"], /no tenant client-z/],
        ];
        for (const name of RESERVED_TENANT_NAMES)
            cases.push([["add", name, "--host", `app.${name}.example.com`, ...APP], new RegExp(`'${name}' is a reserved name`)]);
        for (const [args, message] of cases) {
            const r = await tenantCli(repo.root, args, gone);
            assert.notStrictEqual(r.code, 0, args.join(" "));
            assert.match(r.stderr, message, args.join(" "));
        }
        assert.deepStrictEqual(fingerprint(repo.root), before);
        assert.ok(
            RESERVED_TENANT_NAMES.includes("images") &&
                RESERVED_TENANT_NAMES.includes("shared") &&
                RESERVED_TENANT_NAMES.includes("kube-system") &&
                RESERVED_TENANT_NAMES.includes("default"),
        );
    });

    it("refuses a name another stack file already deploys, or the shared stack already lists, writing nothing", async () => {
        // client-a deployed by a stack of another name (README, "By hand": `client-d@<stack>`).
        fs.renameSync(path.join(repo.root, "Pulumi.client-a.yaml"), path.join(repo.root, "Pulumi.acme-prod.yaml"));
        const shared = fs.readFileSync(path.join(repo.root, "Pulumi.shared.yaml"), "utf8");
        assert.ok(shared.includes("    - client-a\n"));
        fs.writeFileSync(path.join(repo.root, "Pulumi.shared.yaml"), shared.replace("    - client-a\n", "    - client-a@acme-prod\n"));
        const renamed = fingerprint(repo.root);
        const deployed = await tenantCli(repo.root, ["add", "client-a", "--host", "app.new.example.com", ...APP]);
        assert.strictEqual(deployed.code, 1, deployed.stderr);
        assert.strictEqual(
            deployed.stderr,
            "stack acme-prod (Pulumi.acme-prod.yaml) already deploys tenant client-a (npm run tenant -- list)\n",
            "never the advice to unlist a deployed tenant",
        );
        assert.deepStrictEqual(fingerprint(repo.root), renamed);

        // Listed, and no stack file deploys it.
        fs.rmSync(path.join(repo.root, "Pulumi.acme-prod.yaml"));
        const listed = await tenantCli(repo.root, ["add", "client-a", "--host", "app.new.example.com", ...APP]);
        assert.strictEqual(listed.code, 1, listed.stderr);
        assert.match(listed.stderr, /^client-a is already in stock:tenants of Pulumi\.shared\.yaml without a stack file/);
        assert.ok(!fs.existsSync(path.join(repo.root, "Pulumi.client-a.yaml")), "no stack file written");
    });

    it("remove of a tenant a stack of another name deploys asks about that stack and removes its file", async () => {
        fs.renameSync(path.join(repo.root, "Pulumi.client-a.yaml"), path.join(repo.root, "Pulumi.acme-prod.yaml"));
        const shared = fs.readFileSync(path.join(repo.root, "Pulumi.shared.yaml"), "utf8");
        fs.writeFileSync(path.join(repo.root, "Pulumi.shared.yaml"), shared.replace("    - client-a\n", "    - client-a@acme-prod\n"));
        const renamed = fingerprint(repo.root);
        const asked: string[] = [];
        const onlyAcme: StackLookup = (stack) => (asked.push(stack), Promise.resolve({ exists: stack === "acme-prod" }));
        const refused = await tenantCli(repo.root, ["remove", "client-a"], onlyAcme);
        assert.strictEqual(refused.code, 1, refused.stdout);
        assert.deepStrictEqual(asked, ["acme-prod"]);
        assert.match(refused.stderr, /The Pulumi stack acme-prod still exists.*pulumi destroy -s acme-prod && pulumi stack rm acme-prod/);
        assert.deepStrictEqual(fingerprint(repo.root), renamed, "nothing changed");

        const removed = await tenantCli(repo.root, ["remove", "client-a"], gone);
        assert.strictEqual(removed.code, 0, removed.stderr);
        assert.match(removed.stdout, /deleted Pulumi\.acme-prod\.yaml/);
        assert.ok(!fs.existsSync(path.join(repo.root, "Pulumi.acme-prod.yaml")));
        assert.ok(!fs.readFileSync(path.join(repo.root, "Pulumi.shared.yaml"), "utf8").includes("client-a"));
    });

    it("a hand-written dotenv the tenant builds with must agree with the computed URL; remove then keeps it", async () => {
        const addClientD = () =>
            tenantCli(repo.root, ["add", "client-d", "--host", "app.client-d.example.com", "--build-for", "c", ...REFERENCE_APP]);
        fs.mkdirSync(path.join(repo.root, "app/frontend/envs"));
        fs.writeFileSync(path.join(repo.root, "app/frontend/envs/c"), "REACT_APP_HOST_URL=http://app.client-a.feng.local\n");
        const refused = await addClientD();
        assert.strictEqual(refused.code, 1);
        assert.match(
            refused.stderr,
            /refusing to add client-d: the program would refuse Pulumi\.client-d\.yaml:\n {2}- .*envs\/c sets REACT_APP_HOST_URL=http:\/\/app\.client-a\.feng\.local, but stack 'client-d' .* computes REACT_APP_HOST_URL=http:\/\/app\.client-d\.example\.com/,
        );
        fs.writeFileSync(path.join(repo.root, "app/frontend/envs/c"), "REACT_APP_HOST_URL=http://app.client-d.example.com\n");
        const withDotenv = fingerprint(repo.root);
        const r = await addClientD();
        assert.strictEqual(r.code, 0, r.stderr);
        assert.doesNotMatch(r.stdout, /wrote app\/frontend\/envs/);
        assert.strictEqual(loadTenantConfig("client-d", { root: repo.root }).buildFor, "c");
        const removed = await tenantCli(repo.root, ["remove", "client-d"], gone);
        assert.strictEqual(removed.code, 0, removed.stderr);
        assert.match(removed.stdout, /kept app\/frontend\/envs\/c: written by hand/);
        assert.deepStrictEqual(fingerprint(repo.root), withDotenv);
    });

    it("add names the source flags it lacks, with the real app's checkout as the example", async () => {
        for (const [given, missing] of [
            [[], "--backend-source and --frontend-source"],
            [["--frontend-source", "../stock/frontend"], "--backend-source"],
            [["--backend-source", "../stock/backend"], "--frontend-source"],
        ] as const) {
            const r = await tenantCli(repo.root, ["add", "client-d", "--host", "app.client-d.example.com", ...given]);
            assert.strictEqual(r.code, 2, r.stderr);
            assert.ok(
                r.stderr.startsWith(
                    `tenant add needs ${missing}: the app's build contexts (no default, so that no stack builds an app it did not name), e.g. --backend-source ../stock/backend --frontend-source ../stock/frontend`,
                ),
                r.stderr,
            );
        }
        assert.deepStrictEqual(fingerprint(repo.root), before);
    });

    it("add refuses build contexts the program would refuse, with the program's own messages: no directory, no Dockerfile, a dotenv of the source that disagrees", async () => {
        const add = (...args: string[]) => tenantCli(repo.root, ["add", "client-d", "--host", "app.client-d.example.com", ...args]);
        const missing = await add("--backend-source", "../stok/backend", "--frontend-source", "../stock/frontend");
        assert.strictEqual(missing.code, 1, missing.stderr);
        assert.match(
            missing.stderr,
            /^refusing to add client-d: the program would refuse Pulumi\.client-d\.yaml:\n {2}- stock:backendSource in Pulumi\.client-d\.yaml is \.\.\/stok\/backend \(\/.*\/stok\/backend\), /,
        );
        assert.match(
            missing.stderr,
            /which does not exist\. Fix: pulumi config set stock:backendSource '\.\.\/stock\/backend' -s client-d/,
        );
        assert.match(missing.stderr, /stock:backendSource is --backend-source and stock:frontendSource is --frontend-source/);

        fs.rmSync(path.join(repo.app, "frontend", "Dockerfile"));
        const noDockerfile = await add(...APP);
        assert.strictEqual(noDockerfile.code, 1, noDockerfile.stderr);
        assert.match(
            noDockerfile.stderr,
            /stock:frontendSource in Pulumi\.client-d\.yaml is \.\.\/stock\/frontend \(\/.*\), which has no Dockerfile at its top/,
        );
        fs.copyFileSync(
            path.join(REPO_ROOT, "fixtures", "upstream-app", "frontend", "Dockerfile"),
            path.join(repo.app, "frontend", "Dockerfile"),
        );

        // The real app's layout: frontend/envs/k8s-client-a is another build's dotenv.
        const otherBuild = await add(...APP, "--build-for", "k8s-client-a");
        assert.strictEqual(otherBuild.code, 1, otherBuild.stderr);
        assert.match(
            otherBuild.stderr,
            /envs\/k8s-client-a sets REACT_APP_HOST_URL=http:\/\/mystock\.a\.backend\.feng\.local, but stack 'client-d' \(Pulumi\.client-d\.yaml\) computes REACT_APP_HOST_URL=http:\/\/app\.client-d\.example\.com/,
        );
        assert.deepStrictEqual(fingerprint(repo.root), before, "nothing written");
    });

    it("list shows every tenant with its wave and config status, also as JSON", async () => {
        fs.writeFileSync(
            path.join(repo.root, "Pulumi.client-x.yaml"),
            "config:\n  stock:tenant: client-x\n  stock:host: app.client-x.example.com\n",
        );
        const r = await tenantCli(repo.root, ["list", "--json"]);
        assert.strictEqual(r.code, 0, r.stderr);
        const rows = JSON.parse(r.stdout);
        const byName = Object.fromEntries(rows.map((row: { tenant: string }) => [row.tenant, row]));
        assert.deepStrictEqual(byName["client-a"], {
            tenant: "client-a",
            stack: "client-a",
            host: "app.client-a.feng.local",
            wave: 1,
            listedInShared: true,
            status: "ok",
        });
        assert.match(byName["client-x"].status, /^invalid: \d+ problems \(npm run plan -- --stack client-x\)$/);
        assert.strictEqual(byName["client-x"].listedInShared, false);
        assert.ok(!("images" in byName) && !("shared" in byName), "the images and shared stacks are no tenants");
        fs.rmSync(path.join(repo.root, "Pulumi.client-b.yaml"));
        const rows2 = JSON.parse((await tenantCli(repo.root, ["list", "--json"])).stdout);
        assert.deepStrictEqual(
            rows2.find((row: { tenant: string }) => row.tenant === "client-b").status,
            "no stack file (Pulumi.client-b.yaml)",
        );
    });

    it("bad arguments exit 2 with the usage", async () => {
        for (const args of [
            ["add", "client-d"],
            ["add", "client-d", "--host", "h.example.com", "--force", ...APP],
            ["add", "client-d", "--host", "h.example.com", "--wave", "first", ...APP],
            ["add", "client-d", "--host", "h.example.com"],
            ["add", "client-d", "--host", "h.example.com", "--backend-source", "../stock/backend"],
            ["remove"],
            ["list", "x"],
            ["frobnicate"],
            [],
            ["add", "--nope"],
        ]) {
            const r = await tenantCli(repo.root, args);
            assert.strictEqual(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
            assert.match(r.stderr, /usage: npm run tenant -- add/);
        }
        assert.deepStrictEqual(fingerprint(repo.root), before);
    });

    it("refuses to remove the last tenant of the shared stack", async () => {
        fs.writeFileSync(path.join(repo.root, "Pulumi.shared.yaml"), "config:\n  stock:role: shared\n  stock:tenants: [client-a]\n");
        const r = await tenantCli(repo.root, ["remove", "client-a"], gone);
        assert.strictEqual(r.code, 1);
        assert.match(r.stderr, /client-a is the last tenant in stock:tenants/);
        assert.ok(fs.existsSync(path.join(repo.root, "Pulumi.client-a.yaml")));
    });
});

describe("tenant: editing the shared stack file", () => {
    it("appends to and removes from a block or flow list, keeping comments; creates the list when absent", () => {
        const block = "# why\nconfig:\n  stock:role: shared # role\n  stock:tenants:\n    - a # first\n    - b\n";
        const added = withTenantListed(block, "c");
        assert.strictEqual(added, "# why\nconfig:\n  stock:role: shared # role\n  stock:tenants:\n    - a # first\n    - b\n    - c\n");
        assert.strictEqual(withTenantUnlisted(added, "c"), block);
        assert.deepStrictEqual(YAML.parse(withTenantListed("config:\n  stock:tenants: [a]\n", "b")).config["stock:tenants"], ["a", "b"]);
        assert.deepStrictEqual(YAML.parse(withTenantListed("config:\n  stock:role: shared\n", "a")).config["stock:tenants"], ["a"]);
    });

    it("drops the tenant's Redis password generation with it (the model refuses a stranger there)", () => {
        const text = "config:\n  stock:tenants: [a, b]\n  stock:redisPasswordGenerations:\n    a: 2\n    b: 1\n";
        assert.deepStrictEqual(YAML.parse(withTenantUnlisted(text, "a")).config, {
            "stock:tenants": ["b"],
            "stock:redisPasswordGenerations": { b: 1 },
        });
    });
});

describe("tenant: asking the Pulumi CLI whether a stack exists", function () {
    this.timeout(20000);
    const savedPath = process.env.PATH;
    let dir: string;
    beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "stock-pulumi-"))));
    afterEach(() => {
        process.env.PATH = savedPath;
        fs.rmSync(dir, { recursive: true, force: true });
    });
    const fakePulumi = (script: string) => {
        fs.writeFileSync(path.join(dir, "pulumi"), `#!/bin/sh\n${script}\n`, { mode: 0o755 });
        process.env.PATH = `${dir}:${savedPath}`;
    };

    it("matches the stack by its last name segment, whatever the backend's naming", async () => {
        fakePulumi(
            `[ "$*" = "stack ls --json" ] || exit 9; echo '[{"name":"organization/stock/client-d","current":false},{"name":"client-e"}]'`,
        );
        assert.deepStrictEqual(await pulumiStackLookup("client-d", dir), { exists: true });
        assert.deepStrictEqual(await pulumiStackLookup("client-e", dir), { exists: true });
        assert.deepStrictEqual(await pulumiStackLookup("client", dir), { exists: false });
    });

    it("says why it cannot tell: no CLI, a failing CLI", async () => {
        process.env.PATH = dir; // an empty folder: no pulumi
        assert.deepStrictEqual(await pulumiStackLookup("client-d", dir), { unknown: "no Pulumi CLI on PATH" });
        fakePulumi("echo 'error: PULUMI_ACCESS_TOKEN must be set for login' >&2; exit 255");
        assert.deepStrictEqual(await pulumiStackLookup("client-d", dir), {
            unknown: "pulumi stack ls failed: error: PULUMI_ACCESS_TOKEN must be set for login",
        });
    });
});
