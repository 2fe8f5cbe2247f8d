/**
 * The frontend build for real: app/frontend/build.js run the way `npm run build` runs it
 * (`env-cmd -f envs/${BUILD_FOR} node build.js`), with the dotenv parsed here instead of by env-cmd
 * (not installed in this repo), into a temporary BUILD_DIR.
 */
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { API_URL_VARIABLE, frontendDotenv, parseDotenv } from "../../components/tenant/frontend-env";
import { loadTenantConfig } from "../../tools/lib/stack-files";
import { FRONTEND_DIR, removeDir, tempDir } from "./harness";

function build(env: Record<string, string>, outDir: string) {
    return spawnSync(process.execPath, [path.join(FRONTEND_DIR, "build.js")], {
        cwd: FRONTEND_DIR,
        env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...env, BUILD_DIR: outDir },
        encoding: "utf8",
        timeout: 30_000,
    });
}

describe("app/frontend: build.js bakes the tenant's API URL in", function () {
    const dirs: string[] = [];
    after(() => dirs.forEach(removeDir));
    const out = () => {
        const d = tempDir("frontend");
        dirs.push(d);
        return d;
    };

    it("holds no hand-written dotenv: the program computes envs/client-a and envs/client-b", function () {
        assert.ok(!fs.existsSync(path.join(FRONTEND_DIR, "envs")), "app/frontend/envs/ would only repeat what the program computes");
        for (const stack of ["client-a", "client-b"]) {
            const computed = frontendDotenv(loadTenantConfig(stack), FRONTEND_DIR);
            assert.deepStrictEqual(computed, { text: `REACT_APP_HOST_URL=http://app.${stack}.feng.local\n`, problems: [] }, stack);
        }
    });

    for (const stack of ["client-a", "client-b"]) {
        it(`BUILD_FOR=${stack}: build/index.html shows the URL and loads a content-hashed asset that calls <URL>/api/v1/`, function () {
            const dotenv = parseDotenv(frontendDotenv(loadTenantConfig(stack), FRONTEND_DIR).text);
            const url = dotenv[API_URL_VARIABLE];
            const dir = out();
            const res = build(dotenv, dir);
            assert.strictEqual(res.status, 0, `build.js failed:\n${res.stdout}${res.stderr}`);
            const html = fs.readFileSync(path.join(dir, "index.html"), "utf8");
            assert.ok(html.includes(`<code id="host-url">${url}</code>`), html);
            assert.ok(html.includes(`${url}/api/v1/`), html);
            const script = /<script src="\/static\/js\/(main\.[0-9a-f]{8}\.js)"><\/script>/.exec(html);
            assert.ok(script, `no hashed script tag in\n${html}`);
            const js = fs.readFileSync(path.join(dir, "static", "js", script[1]), "utf8");
            assert.ok(js.includes(JSON.stringify(`${url}/api/v1/`)), js);
            assert.deepStrictEqual(fs.readdirSync(path.join(dir, "static", "js")), [script[1]]);
        });
    }

    it("the asset name changes with the URL and only with it (content hash)", function () {
        const name = (url: string) => {
            const dir = out();
            assert.strictEqual(build({ [API_URL_VARIABLE]: url }, dir).status, 0);
            return fs.readdirSync(path.join(dir, "static", "js"))[0];
        };
        assert.strictEqual(name("http://app.client-a.feng.local"), name("http://app.client-a.feng.local"));
        assert.notStrictEqual(name("http://app.client-a.feng.local"), name("http://app.client-b.feng.local"));
    });

    it("refuses to build without a usable REACT_APP_HOST_URL (no image with an empty API URL)", function () {
        for (const env of [{}, { [API_URL_VARIABLE]: "" }, { [API_URL_VARIABLE]: "app.client-a.feng.local" }, { [API_URL_VARIABLE]: "http://app.client-a.feng.local/api" }]) {
            const dir = out();
            const res = build(env as Record<string, string>, dir);
            assert.strictEqual(res.status, 1, JSON.stringify(env));
            assert.match(res.stderr, /REACT_APP_HOST_URL/);
            assert.ok(!fs.existsSync(path.join(dir, "index.html")), "wrote a page anyway");
        }
    });

    it("package.json builds the seed's way: env-cmd -f envs/${BUILD_FOR}, env-cmd a pinned dev dependency", function () {
        const pkg = JSON.parse(fs.readFileSync(path.join(FRONTEND_DIR, "package.json"), "utf8"));
        assert.strictEqual(pkg.scripts.build, "env-cmd -f envs/${BUILD_FOR} node build.js");
        assert.match(pkg.devDependencies["env-cmd"], /^\d+\.\d+\.\d+$/);
        const lock = JSON.parse(fs.readFileSync(path.join(FRONTEND_DIR, "package-lock.json"), "utf8"));
        assert.strictEqual(lock.packages["node_modules/env-cmd"].version, pkg.devDependencies["env-cmd"]);
    });
});
