// The checksum annotation is what rolls the backend pods when their environment changes: every
// value of the ConfigMap and of the Secret must move it, and nothing else may.
import * as assert from "assert";
import { BackendEnv, envChecksum } from "../../components/tenant/app-env";
import { runProgram } from "../../tools/lib/mock-run";

const base: BackendEnv = {
    config: { DJANGO_DEBUG: "0", MYSQL_DATABASE: "stock_client_a" },
    secret: { DJANGO_DB_USER: "stock_client_a", DJANGO_DB_PWD: "FAKE-SECRET-one" },
};

describe("env checksum", function () {
    this.timeout(60000);

    it("changes with any ConfigMap value and any Secret value, and only then", () => {
        const sum = envChecksum(base);
        assert.match(sum, /^[0-9a-f]{16}$/);
        assert.strictEqual(envChecksum({ config: { ...base.config }, secret: { ...base.secret } }), sum, "same env, same checksum");
        assert.strictEqual(
            envChecksum({ config: { MYSQL_DATABASE: "stock_client_a", DJANGO_DEBUG: "0" }, secret: base.secret }),
            sum,
            "key order does not matter",
        );
        assert.notStrictEqual(
            envChecksum({ ...base, secret: { ...base.secret, DJANGO_DB_PWD: "FAKE-SECRET-two" } }),
            sum,
            "a new password rolls the pods",
        );
        assert.notStrictEqual(envChecksum({ ...base, config: { ...base.config, DJANGO_DEBUG: "1" } }), sum, "a new setting rolls the pods");
        assert.notStrictEqual(
            envChecksum({ config: { ...base.config, DJANGO_DB_PWD: "FAKE-SECRET-one" }, secret: { DJANGO_DB_USER: "stock_client_a" } }),
            sum,
            "moving a value between ConfigMap and Secret counts",
        );
    });

    it("reaches the API and Celery charts: a changed database password gives new pod annotations", async () => {
        const annotation = async (password: string) => {
            const run = await runProgram("client-a", { overrides: { "stock:dbPassword": password }, secrets: ["stock:dbPassword"] });
            return run
                .ofType("kubernetes:helm.sh/v4:Chart")
                .filter((c) => !c.inputs.chart.endsWith("frontend"))
                .map((c) => c.inputs.values.podAnnotations["checksum/env"]);
        };
        const [api, celery] = await annotation("FAKE-SECRET-first");
        assert.strictEqual(api, celery);
        assert.deepStrictEqual(await annotation("FAKE-SECRET-first"), [api, celery]);
        const [api2, celery2] = await annotation("FAKE-SECRET-second");
        assert.notStrictEqual(api2, api);
        assert.strictEqual(api2, celery2);
    });
});
