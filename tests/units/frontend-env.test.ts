// The frontend dotenv check: the baked API URL must be exactly the tenant's origin (a trailing
// slash aside), never a longer host that starts with it.
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { checkFrontendEnv } from "../../components/frontend-env";

describe("frontend dotenv check", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "stock-dotenv-"));
    after(() => fs.rmSync(dir, { recursive: true, force: true }));
    const check = (line: string) => {
        fs.mkdirSync(path.join(dir, "envs"), { recursive: true });
        fs.writeFileSync(path.join(dir, "envs", "client-a"), `${line}\n`);
        return checkFrontendEnv(dir, "client-a", "http://app.client-a.feng.local");
    };

    it("accepts the exact origin, with or without a trailing slash or quotes", () => {
        for (const ok of ["REACT_APP_HOST_URL=http://app.client-a.feng.local", "REACT_APP_HOST_URL=http://app.client-a.feng.local/", `REACT_APP_HOST_URL="http://app.client-a.feng.local"`]) {
            assert.strictEqual(check(ok), undefined, ok);
        }
    });

    it("refuses a URL that only starts with the origin, naming what it found and what it expects", () => {
        for (const bad of ["http://app.client-a.feng.local.evil.com", "http://app.client-a.feng.local:8080", "http://app.client-a.feng.local/api", "https://app.client-a.feng.local", "http://app.client-a.feng.loca"]) {
            const problem = check(`REACT_APP_HOST_URL=${bad}`);
            assert.ok(problem, `refuses ${bad}`);
            assert.ok(problem.includes(`sets REACT_APP_HOST_URL=${bad}, but this tenant's API is at http://app.client-a.feng.local`), problem);
        }
    });
});
