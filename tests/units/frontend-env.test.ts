// The frontend dotenv the program computes, merged with one the source already has: a computed key
// it sets must be exactly the computed value (a trailing slash aside), never a longer host that
// starts with it.
import * as assert from "assert";
import { mergeDotenv } from "../../components/tenant/frontend-env";

describe("frontend dotenv merge", () => {
    const computed = { REACT_APP_HOST_URL: "http://app.client-a.feng.local" };
    const where = { file: "app/frontend/envs/client-a", stack: "client-a", buildFor: "client-a", tenant: "client-a" };
    const merge = (line: string) => mergeDotenv(`${line}\n`, computed, where);

    it("accepts the exact origin, with or without a trailing slash or quotes, and keeps the file as it is", () => {
        for (const ok of [
            "REACT_APP_HOST_URL=http://app.client-a.feng.local",
            "REACT_APP_HOST_URL=http://app.client-a.feng.local/",
            `REACT_APP_HOST_URL="http://app.client-a.feng.local"`,
        ]) {
            assert.deepStrictEqual(merge(ok), { text: `${ok}\n`, problems: [] }, ok);
        }
    });

    it("refuses a URL that only starts with the origin, naming what it found and what it computes", () => {
        for (const bad of [
            "http://app.client-a.feng.local.evil.com",
            "http://app.client-a.feng.local:8080",
            "http://app.client-a.feng.local/api",
            "https://app.client-a.feng.local",
            "http://app.client-a.feng.loca",
        ]) {
            const { problems } = merge(`REACT_APP_HOST_URL=${bad}`);
            assert.strictEqual(problems.length, 1, `refuses ${bad}`);
            assert.ok(
                problems[0].includes(
                    `sets REACT_APP_HOST_URL=${bad}, but stack 'client-a' (Pulumi.client-a.yaml) computes REACT_APP_HOST_URL=http://app.client-a.feng.local`,
                ),
                problems[0],
            );
        }
    });

    it("writes the computed keys alone without a file, and appends the missing ones to a file without them", () => {
        assert.deepStrictEqual(mergeDotenv(undefined, { ...computed, REACT_APP_TITLE: "Stock" }, where), {
            text: "REACT_APP_HOST_URL=http://app.client-a.feng.local\nREACT_APP_TITLE=Stock\n",
            problems: [],
        });
        assert.deepStrictEqual(mergeDotenv("# switches\nREACT_APP_FEATURE=1", computed, where), {
            text: "# switches\nREACT_APP_FEATURE=1\nREACT_APP_HOST_URL=http://app.client-a.feng.local\n",
            problems: [],
        });
    });
});
