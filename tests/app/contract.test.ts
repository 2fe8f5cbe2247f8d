/**
 * The app contract kept honest without running anything: docs/app-contract.md, the settings the
 * backend actually reads, the env the program computes (components/tenant/app-env.ts), and the Docker
 * build files (Dockerfile stages, .dockerignore matched with Docker's own rules).
 */
import * as assert from "assert";
import dockerignore from "@balena/dockerignore";
import * as fs from "fs";
import * as path from "path";
import { CONFIG_ENV_KEYS, SECRET_ENV_KEYS } from "../../components/tenant/app-env";
import { BACKEND_DIR, FRONTEND_DIR, REPO_ROOT } from "./harness";

const CONTRACT = path.join(REPO_ROOT, "docs", "app-contract.md");
const read = (...p: string[]) => fs.readFileSync(path.join(...p), "utf8");

/** Rows of the env table in docs/app-contract.md: | `NAME` | where | ... */
function documentedEnv(): Map<string, string> {
    const rows = new Map<string, string>();
    for (const line of read(CONTRACT).split("\n")) {
        const m = /^\|\s*`([A-Z][A-Z0-9_]*)`\s*\|\s*([^|]+?)\s*\|/.exec(line);
        if (m) rows.set(m[1], m[2].toLowerCase());
    }
    return rows;
}

/** Every env variable app/backend/fin reads (through fin/env.py's helpers or os.environ). */
function envReadByApp(): Set<string> {
    const names = new Set<string>();
    const dir = path.join(BACKEND_DIR, "fin");
    for (const f of fs.readdirSync(dir).filter((f) => f.endsWith(".py"))) {
        const src = read(dir, f);
        for (const m of src.matchAll(/\b(?:required|optional|flag|port|host_list)\(\s*"([A-Z][A-Z0-9_]*)"/g)) names.add(m[1]);
        for (const m of src.matchAll(/os\.environ(?:\.get)?[([]\s*"([A-Z][A-Z0-9_]*)"/g)) names.add(m[1]);
    }
    names.delete("DJANGO_SETTINGS_MODULE"); // set by the app itself (manage.py, wsgi.py, fin.celery)
    return names;
}

/** Dockerfile split into stages (text from one FROM to the next). */
function stages(dockerfile: string): string[] {
    return dockerfile.split(/^(?=FROM\s)/m).filter((s) => /^FROM\s/.test(s));
}

describe("app contract: docs/app-contract.md, settings and the program agree", function () {
    it("documents every variable the backend reads, and nothing it does not", function () {
        const documented = [...documentedEnv().keys()].sort();
        assert.deepStrictEqual(documented, [...envReadByApp()].sort());
    });

    it("documents each variable the program sets in the ConfigMap/Secret it really goes to", function () {
        const doc = documentedEnv();
        for (const key of CONFIG_ENV_KEYS) assert.match(doc.get(key) ?? "(undocumented)", /^configmap/, key);
        for (const key of SECRET_ENV_KEYS) assert.match(doc.get(key) ?? "(undocumented)", /^secret/, key);
        for (const [key, where] of doc) {
            if (/^(configmap|secret)/.test(where)) {
                assert.ok((CONFIG_ENV_KEYS as readonly string[]).includes(key) || (SECRET_ENV_KEYS as readonly string[]).includes(key),
                    `${key} is documented as ${where} but the program does not set it`);
            }
        }
    });

    it("shows the kombu/Celery settings lines that settings.py really has", function () {
        const doc = read(CONTRACT);
        const settings = read(BACKEND_DIR, "fin", "settings.py");
        for (const line of [
            '"global_keyprefix": REDIS_KEY_PREFIX,',
            '"unacked_key": REDIS_KEY_PREFIX + "unacked",',
            '"unacked_index_key": REDIS_KEY_PREFIX + "unacked_index",',
            '"unacked_mutex_key": REDIS_KEY_PREFIX + "unacked_mutex",',
            'CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {"global_keyprefix": REDIS_KEY_PREFIX}',
            "CELERY_TASK_ACKS_LATE = True",
            "CELERY_WORKER_PREFETCH_MULTIPLIER = 1",
            'STATIC_URL = "/api/static/"',
        ]) {
            assert.ok(settings.includes(line), `settings.py lacks: ${line}`);
            assert.ok(doc.includes(line), `docs/app-contract.md lacks: ${line}`);
        }
    });
});

describe("app contract: Docker build files", function () {
    it("backend: python:3.8 base, requirements, collectstatic, uid 1000, EXPOSE 8080, gunicorn fin.wsgi", function () {
        const df = read(BACKEND_DIR, "Dockerfile");
        assert.strictEqual(stages(df).length, 1);
        assert.match(df, /^FROM python:3\.8(-slim)?\s*$/m);
        assert.match(df, /^RUN pip install -r requirements\.txt\s*$/m);
        assert.match(df, /manage\.py collectstatic --noinput/);
        assert.match(df, /--uid 1000\b/);
        const users = [...df.matchAll(/^USER\s+(\S+)/gm)].map((m) => m[1]);
        assert.deepStrictEqual(users.slice(-1), ["1000"], "last USER must be the numeric uid 1000");
        assert.match(df, /^EXPOSE 8080\s*$/m);
        const cmd = [...df.matchAll(/^CMD\s+(.*)$/gm)].map((m) => m[1]).pop();
        assert.deepStrictEqual(JSON.parse(cmd ?? "null"), ["gunicorn", "fin.wsgi", "--bind", "0.0.0.0:8080"]);
        const reqs = read(BACKEND_DIR, "requirements.txt");
        for (const pkg of ["Django", "gunicorn", "celery\\[redis\\]", "whitenoise", "PyMySQL"]) assert.match(reqs, new RegExp(`^${pkg}==\\S+$`, "m"), pkg);
    });

    it("frontend: node:16.15.1 builder with ARG BUILD_FOR and the npm token as a BuildKit secret only; the served stage has neither the token nor node", function () {
        const df = read(FRONTEND_DIR, "Dockerfile");
        const [builder, ...rest] = stages(df);
        assert.match(builder, /^FROM node:16\.15\.1 as builder\s*$/m);
        assert.doesNotMatch(df, /^ARG NPM_TOKEN/m, "the token is no build argument (stock:npmTokenMode secret)");
        assert.match(builder, /^RUN --mount=type=secret,id=npm_token /m);
        assert.match(builder, /\/run\/secrets\/npm_token/);
        assert.match(builder, /^ARG BUILD_FOR\s*$/m);
        assert.match(builder, /~\/\.npmrc/);
        assert.match(builder, /env-cmd -f envs\/\$\{BUILD_FOR\}/);
        assert.strictEqual(rest.length, 1, "one final stage");
        const final = rest[0];
        assert.match(final, /^FROM nginx:1\.27-alpine\s*$/m, "stock nginx, as the real frontend: the chart makes it non-root");
        assert.doesNotMatch(final, /NPM_TOKEN|npmrc|^ARG\s/m, "the final stage must not see the npm token");
        const copies = [...final.matchAll(/^COPY\s+(.*)$/gm)].map((m) => m[1]);
        assert.ok(copies.includes("--from=builder /app/build /usr/share/nginx/html"), copies.join("\n"));
        assert.ok(copies.every((c) => c.startsWith("--from=builder /app/build ") || c === "nginx.conf /etc/nginx/conf.d/default.conf"), copies.join("\n"));
        assert.match(final, /^EXPOSE 80\s*$/m);
    });

    it("backend .dockerignore (Docker's matching rules) keeps tests, caches, databases and .env files out", function () {
        const ig = dockerignore({ ignorecase: false }).add(read(BACKEND_DIR, ".dockerignore"));
        for (const p of ["tests/test_x.py", "fin/__pycache__/settings.cpython-38.pyc", "__pycache__/x.pyc", "db.sqlite3", "fin/x.sqlite3", ".env", ".env.local", "fin/.env", "staticfiles/fin/ping.txt"]) {
            assert.ok(ig.ignores(p), `${p} should be excluded`);
        }
        for (const p of ["manage.py", "requirements.txt", "Dockerfile", "fin/settings.py", "fin/static/fin/ping.txt"]) {
            assert.ok(!ig.ignores(p), `${p} must stay in the context`);
        }
    });

    it("frontend .dockerignore keeps node_modules, build output and .npmrc out, envs/ in", function () {
        const ig = dockerignore({ ignorecase: false }).add(read(FRONTEND_DIR, ".dockerignore"));
        for (const p of ["node_modules/env-cmd/package.json", "build/index.html", ".npmrc", ".env"]) assert.ok(ig.ignores(p), p);
        // envs/<BUILD_FOR> is written into the staged copy of this context, which keeps these rules.
        for (const p of ["envs/client-a", "envs/client-b", "build.js", "package.json", "package-lock.json", "nginx.conf", "Dockerfile"]) assert.ok(!ig.ignores(p), p);
    });
});
