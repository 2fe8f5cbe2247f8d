import * as assert from "assert";
import { ConfigError, KEYS, parseStackConfig } from "../../components/config";
import {
    LoadOptions,
    loadStackConfig,
    loadTenantConfig,
    projectDefaults,
    rawStackConfig,
    readProjectFile,
    stackNames,
} from "../../tools/lib/stack-files";

/** The problems the config model reports for client-a with these changes. */
function problems(options: LoadOptions, stack = "client-a"): string[] {
    try {
        loadStackConfig(stack, options);
    } catch (e) {
        if (e instanceof ConfigError) return e.problems;
        throw e;
    }
    return [];
}

function rejects(options: LoadOptions, ...fragments: string[]) {
    const found = problems(options);
    assert.ok(found.length > 0, `expected a rejection for ${JSON.stringify(options.overrides)}`);
    const text = found.join("\n");
    for (const f of fragments) assert.ok(text.includes(f), `expected "${f}" in:\n${text}`);
    assert.ok(text.includes("Pulumi.client-a.yaml"), "every problem names the stack file");
    assert.ok(text.includes("Fix:"), "every problem says how to fix it");
}

describe("config model", () => {
    it("accepts every stack file in the repo", () => {
        assert.deepStrictEqual(stackNames(), ["client-a", "client-b", "client-c", "images", "shared"]);
        for (const stack of stackNames()) loadStackConfig(stack);
    });

    it("types client-a from Pulumi.yaml defaults plus its own file", () => {
        const a = loadTenantConfig("client-a");
        assert.strictEqual(a.tenant, "client-a");
        assert.strictEqual(a.host, "app.client-a.feng.local");
        assert.strictEqual(a.database.port, 3306);
        assert.deepStrictEqual(a.harbor, {
            server: "harbor.feng.local:9800",
            plainHttp: false,
            project: "library",
            username: "robot$stock-deploy",
            pullUsername: "robot$stock-pull-client-a",
        });
        assert.deepStrictEqual(
            a.celery.workers.map((w) => w.name),
            ["default"],
        );
        assert.strictEqual(a.replicas.api, 2);
        assert.strictEqual(a.debug, false);
    });

    it("lets client-b override only what differs", () => {
        const b = loadTenantConfig("client-b");
        assert.strictEqual(b.replicas.api, 3);
        assert.deepStrictEqual(
            b.celery.workers.map((w) => [w.name, w.queues, w.replicas, w.concurrency, w.logLevel, w.resources?.limits.cpu]),
            [
                ["default", ["summary", "stock", "statement", "news"], 1, 2, "INFO", undefined],
                ["price", ["price"], 3, 4, "INFO", "2"],
            ],
        );
        assert.deepStrictEqual(
            b.resources.api,
            { requests: { cpu: "250m", memory: "384Mi" }, limits: { cpu: "1", memory: "768Mi" } },
            "from Pulumi.yaml",
        );
        assert.strictEqual(b.celery.beat, true);
    });

    it("reads the shared stack's tenants and Redis settings", () => {
        const shared = loadStackConfig("shared");
        assert.strictEqual(shared.role, "shared");
        if (shared.role !== "shared") return;
        assert.deepStrictEqual(shared.tenants, ["client-a", "client-b", "client-c"]);
        assert.strictEqual(shared.redis.imageRepository, "library/redis");
        assert.match(shared.redis.imageDigest, /^sha256:[0-9a-f]{64}$/);
        assert.strictEqual(shared.redis.revokeGraceSeconds, 600);
        assert.match(shared.redis.chartVersion, /^\d+\.\d+\.\d+$/);
    });

    it("rejects a Redis image without its digest, or with a malformed one, naming stock:redis and the shared stack file", () => {
        const shared = loadStackConfig("shared");
        assert.ok(shared.role === "shared");
        const { imageDigest, ...withoutDigest } = shared.redis;
        const variants: Array<Record<string, unknown>> = [
            withoutDigest,
            { ...shared.redis, imageDigest: "sha256:abc" },
            { ...shared.redis, imageDigest: imageDigest.replace("sha256:", "") },
        ];
        for (const redis of variants) {
            let text = "";
            try {
                loadStackConfig("shared", { overrides: { "stock:redis": redis } });
            } catch (e) {
                if (!(e instanceof ConfigError)) throw e;
                text = e.problems.join("\n");
            }
            assert.match(text, /stock:redis/, JSON.stringify(redis.imageDigest));
            assert.match(text, /imageDigest/);
            assert.match(text, /Pulumi\.shared\.yaml/);
        }
    });

    it("rejects a missing required key, naming it and the command that sets it", () =>
        rejects({ overrides: { "stock:host": undefined } }, "stock:host is required", "pulumi config set stock:host"));

    it("rejects a missing secret with the --secret command", () =>
        rejects(
            { overrides: { "stock:dbPassword": undefined } },
            "stock:dbPassword is required",
            "pulumi config set --secret stock:dbPassword -s client-a",
        ));

    it("rejects a tenant name that is not a DNS-1123 label", () =>
        rejects({ overrides: { "stock:tenant": "Client_A" } }, "stock:tenant", "DNS-1123 label"));

    it("rejects a tenant named like a system namespace", () =>
        rejects({ overrides: { "stock:tenant": "kube-system" } }, "stock:tenant", "must not be one of"));

    it("rejects a host that is not a DNS name", () => {
        for (const bad of [
            "app_client.feng.local",
            "localhost",
            "https://app.client-a.feng.local",
            "App.Client-A.feng.local",
            "10.0.0.1",
        ]) {
            rejects({ overrides: { "stock:host": bad } }, "stock:host", "DNS name");
        }
    });

    it("rejects a plaintext password or token, without printing it", () => {
        for (const key of ["stock:dbPassword", "stock:harborPassword", "stock:npmToken"]) {
            const found = problems({ overrides: { [key]: "hunter2-plaintext" } }).join("\n");
            assert.ok(found.includes(`${key} is stored in plaintext`), found);
            assert.ok(found.includes(`pulumi config set --secret ${key}`), found);
            assert.ok(!found.includes("hunter2-plaintext"), "the plaintext value is never echoed");
        }
    });

    it("rejects negative or non-integer replicas", () => {
        rejects({ overrides: { "stock:apiReplicas": -1 } }, "stock:apiReplicas", "0 or more");
        rejects({ overrides: { "stock:frontendReplicas": "two" } }, "stock:frontendReplicas", "whole number");
        rejects(
            {
                overrides: {
                    "stock:celeryWorkers": [{ name: "default", queues: ["summary", "stock", "statement", "price", "news"], replicas: -2 }],
                },
            },
            "stock:celeryWorkers[0].replicas",
            "0 or more",
        );
    });

    it("rejects resources without limits or with malformed quantities", () => {
        rejects({ overrides: { "stock:apiResources": { requests: { cpu: "250m", memory: "384Mi" } } } }, "stock:apiResources.limits");
        rejects(
            { overrides: { "stock:frontendResources": { requests: { cpu: "10m", memory: "32MB" }, limits: { cpu: "1", memory: "1Gi" } } } },
            "stock:frontendResources.requests.memory",
            "memory quantity",
        );
    });

    it("rejects an unknown Celery queue name", () =>
        rejects(
            {
                overrides: {
                    "stock:celeryWorkers": [
                        { name: "default", queues: ["summary", "stock", "statement", "price", "news", "prices"], replicas: 1 },
                    ],
                },
            },
            "stock:celeryWorkers[0].queues",
            "unknown Celery queue 'prices'",
            "summary, stock, statement, price, news",
        ));

    it("rejects a queue no worker consumes", () =>
        rejects(
            { overrides: { "stock:celeryWorkers": [{ name: "default", queues: ["summary"], replicas: 1 }] } },
            "without a worker",
            "stock, statement, price, news",
        ));

    it("rejects an unknown key and suggests the right one", () =>
        rejects({ overrides: { "stock:hots": "app.client-a.feng.local" } }, "stock:hots", "did you mean stock:host?"));

    it("rejects debug in prod", () =>
        rejects({ overrides: { "stock:debug": true } }, "stock:debug is true while stock:deployType is prod"));

    it("rejects a bad shared stack name, database CIDR and TLS shape", () => {
        rejects({ overrides: { "stock:sharedStack": "org/stock/shared/extra" } }, "stock:sharedStack");
        rejects({ overrides: { "stock:dbCidr": "10.0.0.5" } }, "stock:dbCidr", "CIDR");
        rejects({ overrides: { "stock:tls": { secret: "x" } } }, "stock:tls");
    });

    it("reports every problem at once", () => {
        const found = problems({
            overrides: { "stock:host": "bad host", "stock:tenant": "A", "stock:apiReplicas": -3, "stock:npmToken": "plain" },
        });
        assert.strictEqual(found.length, 4, found.join("\n"));
        assert.throws(
            () => loadStackConfig("client-a", { overrides: { "stock:host": "x" } }),
            (e: Error) => e.message.startsWith("Stack 'client-a' has 1 configuration problem (Pulumi.client-a.yaml)"),
        );
    });

    it("requires at least one tenant on the shared stack, listed once", () => {
        const raw = rawStackConfig("shared", { overrides: { "stock:tenants": [] } });
        assert.throws(() => parseStackConfig(raw), /stock:tenants .*list at least one tenant/);
        assert.throws(() => loadStackConfig("shared", { overrides: { "stock:tenants": ["client-a", "client-a"] } }), /more than once/);
    });

    it("rejects an unknown role", () =>
        assert.throws(
            () => loadStackConfig("client-a", { overrides: { "stock:role": "tenants" } }),
            /stock:role is 'tenants'.*must be 'images', 'shared' or 'tenant'/,
        ));
});

describe("config model: the images stack", () => {
    const imagesProblems = (overrides: Record<string, unknown>, secrets: string[] = []) => problems({ overrides, secrets }, "images");

    it("types Pulumi.images.yaml: the backends to build, the push robot, no cluster", () => {
        const images = loadStackConfig("images");
        assert.ok(images.role === "images");
        assert.deepStrictEqual(images.backend, { sources: ["app/backend", "fixtures/upstream-app/backend"], repository: "stock_backend" });
        assert.deepStrictEqual(images.harbor, {
            server: "harbor.feng.local:9800",
            plainHttp: false,
            project: "library",
            username: "robot$stock-deploy",
        });
        assert.strictEqual(images.platform, "linux/amd64");
        assert.strictEqual(images.buildCache, true);
        assert.strictEqual(images.secrets.harborPassword, "FAKE-SECRET-harborPassword-images");
        assert.ok(!("kubeContext" in images), "it deploys to no cluster");
    });

    it("requires stock:backendSources and refuses an empty list, a context listed twice, and two whose resource names collide", () => {
        const all = [
            ...imagesProblems({ "stock:backendSources": undefined }),
            ...imagesProblems({ "stock:backendSources": [] }),
            ...imagesProblems({ "stock:backendSources": ["app/backend", "app/backend"] }),
            ...imagesProblems({ "stock:backendSources": ["app/backend", "app-backend"] }),
        ].join("\n");
        assert.match(
            all,
            /stock:backendSources is required for images stacks but is not set in Pulumi\.images\.yaml\. Fix: list each backend build context on its own line under stock:backendSources in Pulumi\.images\.yaml/,
        );
        assert.match(all, /stock:backendSources in Pulumi\.images\.yaml: list at least one backend build context/);
        assert.match(all, /stock:backendSources in Pulumi\.images\.yaml: lists a build context twice/);
        assert.match(all, /stock:backendSources in Pulumi\.images\.yaml: lists two build contexts whose names differ only in punctuation/);
    });

    it("refuses a stock:harborPlainHttp that is no boolean, naming the key, the file and the fix", () => {
        assert.match(
            imagesProblems({ "stock:harborPlainHttp": "yes" }).join("\n"),
            /stock:harborPlainHttp in Pulumi\.images\.yaml: .*\(got "yes"\)\. Fix: pulumi config set stock:harborPlainHttp 'false' -s images/,
        );
    });

    it("requires the push robot's token as a secret, and refuses a tenant's secret", () => {
        assert.match(
            imagesProblems({ "stock:harborPassword": "FAKE-SECRET-plain" }).join("\n"),
            /stock:harborPassword is stored in plaintext in Pulumi\.images\.yaml, but it is a secret\. Fix: remove it from Pulumi\.images\.yaml and run pulumi config set --secret stock:harborPassword -s images/,
        );
        assert.match(
            imagesProblems({ "stock:npmToken": "FAKE-SECRET-npm" }, ["stock:npmToken"]).join("\n"),
            /stock:npmToken is set in Pulumi\.images\.yaml, but only tenant stacks use it.*Fix: pulumi config rm stock:npmToken -s images/,
        );
    });

    it("refuses stock:backendSources in a tenant or shared stack, where it would do nothing", () => {
        rejects(
            { overrides: { "stock:backendSources": ["app/backend"] } },
            "stock:backendSources is set in Pulumi.client-a.yaml, but only images stacks use it: in this tenant stack it would do nothing. Fix: pulumi config rm stock:backendSources -s client-a, and set it in the images stack's file instead",
        );
        assert.match(
            problems({ overrides: { "stock:backendSources": ["app/backend"] } }, "shared").join("\n"),
            /only images stacks use it: in this shared stack/,
        );
    });

    it("keys refused in other roles have no project default in Pulumi.yaml (else every stack would set them)", () => {
        const defaults = projectDefaults();
        const refused = Object.entries(KEYS).filter(([, spec]) => "refusedInOtherRoles" in spec && spec.refusedInOtherRoles);
        assert.deepStrictEqual(
            refused.map(([k]) => k),
            ["backendSources"],
        );
        for (const [key] of refused) assert.ok(!(`stock:${key}` in defaults), `stock:${key} has a default in Pulumi.yaml`);
    });
});

describe("app profile", () => {
    const PROFILE_KEYS = [
        "celeryBeatSchedule",
        "celeryApp",
        "celeryCommand",
        "celeryLiveness",
        "apiCommand",
        "wsgiModule",
        "apiStartupProbe",
        "apiLivenessProbe",
        "apiReadinessProbe",
        "migrations",
        "migrationCommand",
        "writablePaths",
        "backendRunAs",
        "frontendRunAs",
        "redisKeyPrefixMode",
    ];

    it("defaults (client-c sets none of its keys) run the real stock app unmodified", () => {
        const stackFileText = require("fs").readFileSync(
            require("path").join(__dirname, "..", "..", "Pulumi.client-c.yaml"),
            "utf8",
        ) as string;
        for (const key of PROFILE_KEYS) assert.ok(!stackFileText.includes(`stock:${key}:`), `Pulumi.client-c.yaml sets stock:${key}`);
        const c = loadTenantConfig("client-c");
        assert.deepStrictEqual(c.app, {
            api: {
                command: ["gunicorn"],
                wsgiModule: "fin.wsgi",
                probes: {
                    startup: { kind: "http", path: "/api/v1/" },
                    liveness: { kind: "http", path: "/api/v1/" },
                    readiness: { kind: "http", path: "/api/v1/" },
                },
            },
            celery: { command: ["celery"], app: "fin.celery", liveness: "ping", beatSchedule: "/tmp/celerybeat/schedule" },
            migrations: { enabled: true, command: ["python", "manage.py", "migrate", "--noinput"] },
            writablePaths: [],
            runAs: { backend: { user: 1000, group: 1000 }, frontend: { user: 101, group: 101 } },
            redisKeyPrefix: "shim",
        });
        assert.strictEqual(c.images.backend.source, "fixtures/upstream-app/backend");
    });

    it("client-a and client-b opt into the reference app's hardened endpoints and its own key prefix", () => {
        for (const stack of ["client-a", "client-b"]) {
            const t = loadTenantConfig(stack);
            assert.deepStrictEqual(
                t.app.api.probes,
                {
                    startup: { kind: "http", path: "/healthz" },
                    liveness: { kind: "http", path: "/healthz" },
                    readiness: { kind: "http", path: "/readyz" },
                },
                stack,
            );
            assert.strictEqual(t.app.celery.liveness, "heartbeat", stack);
            assert.strictEqual(t.app.redisKeyPrefix, "app", stack);
        }
    });

    it("client-a and client-b name the reference app they build, client-c the stand-in shaped like the real app", () => {
        for (const stack of ["client-a", "client-b"]) {
            const text = require("fs").readFileSync(require("path").join(__dirname, "..", "..", `Pulumi.${stack}.yaml`), "utf8") as string;
            assert.ok(
                text.includes("stock:backendSource: app/backend") && text.includes("stock:frontendSource: app/frontend"),
                `${stack} says which app it builds`,
            );
            assert.strictEqual(loadTenantConfig(stack).app.redisKeyPrefix, "app");
        }
        const c = loadTenantConfig("client-c");
        assert.deepStrictEqual(
            [c.images.backend.source, c.images.frontend.source],
            ["fixtures/upstream-app/backend", "fixtures/upstream-app/frontend"],
        );
    });

    it("reads every probe form: http:<path>, tcp, exec:<command>, off", () => {
        const probes = (value: string) => loadTenantConfig("client-c", { overrides: { "stock:apiLivenessProbe": value } }).app.api.probes;
        assert.deepStrictEqual(probes("http:/api/v1/?format=json").liveness, { kind: "http", path: "/api/v1/?format=json" });
        assert.deepStrictEqual(probes("tcp").liveness, { kind: "tcp" });
        assert.deepStrictEqual(probes("exec: python -c 'import fin'").liveness, { kind: "exec", command: "python -c 'import fin'" });
        assert.deepStrictEqual(probes("off").liveness, { kind: "off" });
        assert.deepStrictEqual(
            probes("off").readiness,
            { kind: "http", path: "/api/v1/" },
            "one probe overridden, the others keep their defaults",
        );
    });

    it("rejects a probe in any other form, naming the forms", () => {
        for (const bad of ["/api/v1/", "http:api/v1", "http:/a b", "exec:", "grpc", "HTTP:/api/v1/"]) {
            rejects(
                { overrides: { "stock:apiReadinessProbe": bad } },
                "stock:apiReadinessProbe in Pulumi.client-a.yaml",
                "http:<path>",
                "tcp",
                "exec:<shell command>",
                "off",
                "Fix: pulumi config set stock:apiReadinessProbe 'http:/api/v1/' -s client-a",
            );
        }
    });

    it("rejects a Celery liveness mode or key prefix mode it does not know", () => {
        rejects(
            { overrides: { "stock:celeryLiveness": "heartbeats" } },
            "stock:celeryLiveness",
            "Fix: pulumi config set stock:celeryLiveness 'ping'",
        );
        rejects(
            { overrides: { "stock:redisKeyPrefixMode": "none" } },
            "stock:redisKeyPrefixMode",
            "Fix: pulumi config set stock:redisKeyPrefixMode 'shim'",
        );
    });

    it("rejects module names and commands that cannot run", () => {
        rejects({ overrides: { "stock:celeryApp": "fin/celery" } }, "stock:celeryApp", "dotted Python module");
        rejects({ overrides: { "stock:wsgiModule": "fin.wsgi;rm" } }, "stock:wsgiModule", "dotted Python module");
        rejects({ overrides: { "stock:apiCommand": [] } }, "stock:apiCommand", "at least the executable");
        rejects({ overrides: { "stock:migrationCommand": ["python", ""] } }, "stock:migrationCommand[1]", "must not be empty");
        rejects({ overrides: { "stock:celeryCommand": ["celery", "--config=$(id)"] } }, "stock:celeryCommand", "shell-safe");
        assert.deepStrictEqual(
            loadTenantConfig("client-c", { overrides: { "stock:celeryCommand": ["python", "-m", "celery"] } }).app.celery.command,
            ["python", "-m", "celery"],
        );
        assert.strictEqual(loadTenantConfig("client-c", { overrides: { "stock:migrations": false } }).app.migrations.enabled, false);
    });

    it("rejects root, or a user without its group", () => {
        rejects(
            { overrides: { "stock:backendRunAs": { user: 0, group: 1000 } } },
            "stock:backendRunAs.user",
            "non-root",
            "Fix: pulumi config set --path 'stock:backendRunAs.user'",
        );
        rejects({ overrides: { "stock:frontendRunAs": { user: 101 } } }, "stock:frontendRunAs.group");
        rejects({ overrides: { "stock:backendRunAs": { user: "1000", group: 1000 } } }, "stock:backendRunAs.user");
    });

    it("takes writable paths and a beat schedule, refusing ones that would hide the image or collide", () => {
        const c = loadTenantConfig("client-c", {
            overrides: {
                "stock:writablePaths": ["/code/media", "/var/www/static/CACHE"],
                "stock:celeryBeatSchedule": "/code/beat/schedule",
            },
        });
        assert.deepStrictEqual(c.app.writablePaths, ["/code/media", "/var/www/static/CACHE"]);
        assert.strictEqual(c.app.celery.beatSchedule, "/code/beat/schedule");
        for (const [bad, why] of [
            ["relative/dir", "absolute path"],
            ["/", "absolute path"],
            ["/code/", "absolute path"],
            ["/code/../etc", ". or .. segments"],
            ["/usr", "system directory"],
            ["/proc/self", "system directory"],
            ["/tmp/x", "/tmp is always writable"],
            ["/opt/stock-runtime", "Python runtime"],
        ]) {
            rejects({ overrides: { "stock:writablePaths": [bad] } }, "stock:writablePaths[0]", why);
        }
        rejects({ overrides: { "stock:writablePaths": ["/code/media", "/code/media"] } }, "lists /code/media twice");
        rejects(
            { overrides: { "stock:writablePaths": ["/code/beat"], "stock:celeryBeatSchedule": "/code/beat/schedule" } },
            "the directory of stock:celeryBeatSchedule",
        );
        rejects({ overrides: { "stock:celeryBeatSchedule": "/schedule" } }, "stock:celeryBeatSchedule", "inside a directory");
    });
});

describe("Pulumi.yaml and the config model agree", () => {
    const project = readProjectFile();
    const declared = {
        ...project.config,
        ...Object.fromEntries(Object.entries(project.template?.config ?? {}).map(([k, v]) => [k.replace(/^stock:/, ""), v])),
    };

    it("declares every key the program reads, with the same description and secrecy", () => {
        for (const [key, spec] of Object.entries(KEYS)) {
            assert.ok(key in declared, `Pulumi.yaml does not declare ${key}`);
            const decl = declared[key] as { description?: string; secret?: boolean; value?: unknown };
            if (decl.value === undefined) assert.strictEqual(decl.description, spec.description, `description of ${key}`);
            assert.strictEqual(!!decl.secret, !!("secret" in spec && spec.secret), `secrecy of ${key}`);
        }
        for (const key of Object.keys(declared)) assert.ok(key in KEYS, `Pulumi.yaml declares ${key}, which the program never reads`);
    });

    it("passes Pulumi's own rules: declared keys have a value or default, no secret has a plaintext default", () => {
        for (const [key, decl] of Object.entries(project.config)) {
            if (decl && typeof decl === "object" && !Array.isArray(decl)) {
                const d = decl as Record<string, unknown>;
                assert.ok(
                    "default" in d || "value" in d,
                    `${key}: a declared key without default is required in EVERY stack, the shared one included`,
                );
                assert.ok(!d.secret, `${key}: a secret key under config: must be set in every stack`);
                if ("type" in d) assert.ok(["string", "integer", "boolean", "array"].includes(String(d.type)), `${key}: type`);
            }
        }
    });

    it("gives the app a stack builds no project default: every tenant stack file names its own", () => {
        const defaults = projectDefaults(project);
        for (const key of ["stock:backendSource", "stock:frontendSource"]) {
            assert.ok(!(key in defaults), `${key} has a project default in Pulumi.yaml: a stack naming no app would build it`);
            assert.ok(project.template?.config?.[key], `${key} is declared under template.config`);
        }
        const tenants = stackNames().filter((s) => loadStackConfig(s).role === "tenant");
        assert.ok(tenants.length >= 3, tenants.join());
        for (const stack of tenants) {
            const raw = rawStackConfig(stack, { project: { ...project, config: {} } });
            for (const key of ["stock:backendSource", "stock:frontendSource"])
                assert.ok(raw.values[key], `Pulumi.${stack}.yaml sets ${key}`);
        }
    });

    it("keeps stack files free of plaintext secrets", () => {
        for (const stack of stackNames()) {
            const raw = rawStackConfig(stack, { fakeSecrets: false });
            for (const [key, spec] of Object.entries(KEYS)) {
                if ("secret" in spec && spec.secret && `stock:${key}` in raw.values) {
                    assert.ok(raw.secretKeys.has(`stock:${key}`), `${key} in plaintext in Pulumi.${stack}.yaml`);
                }
            }
        }
    });
});

describe("README", () => {
    const readme = require("fs").readFileSync(require("path").join(__dirname, "..", "..", "README.md"), "utf8") as string;

    it("documents every config key", () => {
        for (const key of Object.keys(KEYS)) assert.ok(readme.includes(`| \`stock:${key}\` |`), `README's config table lacks stock:${key}`);
    });

    it("gives the test command .ci/run runs", () => {
        const ci = require("fs").readFileSync(require("path").join(__dirname, "..", "..", ".ci", "run"), "utf8") as string;
        assert.ok(readme.includes("npm test") && /^npm test$/m.test(ci));
        assert.ok(readme.includes("npm ci") && /^npm ci\b/m.test(ci));
    });
});

describe("frontend build keys", () => {
    it("defaults buildFor to the tenant, npmTokenMode to build-arg, the build cache on", () => {
        const a = loadTenantConfig("client-a", { overrides: { "stock:npmTokenMode": projectDefaults()["stock:npmTokenMode"] } });
        assert.strictEqual(projectDefaults()["stock:npmTokenMode"], "build-arg", "the real app's Dockerfile declares ARG NPM_TOKEN");
        assert.strictEqual(a.buildFor, "client-a");
        assert.strictEqual(a.npmTokenMode, "build-arg");
        assert.strictEqual(a.buildCache, true);
        assert.strictEqual(a.apiHost, undefined);
        assert.deepStrictEqual(a.frontendEnv, {});
        assert.strictEqual(loadTenantConfig("client-a").npmTokenMode, "secret", "client-a's Dockerfile mounts the token as a secret");
    });

    it("rejects an unknown npm token mode, a computed or multi-line frontendEnv key, and a buildFor that leaves envs/", () => {
        rejects({ overrides: { "stock:npmTokenMode": "arg" } }, "stock:npmTokenMode", "build-arg", "secret");
        rejects(
            { overrides: { "stock:frontendEnv": { REACT_APP_HOST_URL: "http://elsewhere.example.com" } } },
            "stock:frontendEnv.REACT_APP_HOST_URL",
            "the program computes REACT_APP_HOST_URL",
        );
        rejects(
            { overrides: { "stock:frontendEnv": { REACT_APP_TITLE: "two\nlines" } } },
            "stock:frontendEnv.REACT_APP_TITLE",
            "must fit on one line",
        );
        rejects({ overrides: { "stock:frontendEnv": { "react-title": "x" } } }, "stock:frontendEnv.react-title", "Invalid key");
        rejects({ overrides: { "stock:buildFor": ".." } }, "stock:buildFor", "not . or ..");
    });

    it("rejects an apiHost that is the host itself or not a DNS name", () => {
        rejects(
            { overrides: { "stock:apiHost": "app.client-a.feng.local" } },
            "stock:apiHost in Pulumi.client-a.yaml is the same as stock:host",
        );
        rejects({ overrides: { "stock:apiHost": "https://api.client-a.feng.local" } }, "stock:apiHost", "DNS name");
    });

    it("no two stack files in the repo claim the same host or API host", () => {
        const { stackConflicts, tenantStacksIn } =
            require("../../components/config/stack-conflicts") as typeof import("../../components/config/stack-conflicts");
        const others = tenantStacksIn(require("path").join(__dirname, "..", ".."));
        for (const stack of stackNames().filter((s) => loadStackConfig(s).role === "tenant")) {
            assert.deepStrictEqual(stackConflicts(loadTenantConfig(stack), others), [], stack);
        }
        const taken = loadTenantConfig("client-a", {
            overrides: { "stock:tenant": "client-x", "stock:apiHost": "app.client-b.feng.local" },
        });
        assert.strictEqual(
            stackConflicts({ ...taken, stack: "client-x" }, others).length,
            2,
            "client-a's host and client-b's host as an API host are both refused",
        );
    });
});
