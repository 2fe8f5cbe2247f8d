/**
 * The acl-reload sidecar's script is a file of its own (components/redis/acl-reload.sh): bash -n and
 * shellcheck (Debian package `shellcheck`) pass on it, and the shared stack's chart values carry it
 * byte for byte, with the environment it reads. What it does is tests/security/acl-reload.test.ts.
 */
import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import { ACL_RELOAD_SCRIPT_PATH, REDIS_ACL_DIR, REDIS_ACL_FILE, REDIS_PORT } from "../../components/redis/values";
import { reveal, runProgram } from "../../tools/lib/mock-run";
import { SKIP_ENV } from "../support/real-servers";

const SHELLCHECK = "/usr/bin/shellcheck";

function shellcheck(ctx: Mocha.Context, args: string[], input?: string) {
    if (!fs.existsSync(SHELLCHECK)) {
        const why = `shellcheck is missing; run: apt-get install -y shellcheck`;
        if (process.env[SKIP_ENV] === "1") {
            console.warn(`    [skipped: ${SKIP_ENV}=1 and ${why}]`);
            ctx.skip();
        }
        throw new Error(`${why} (or set ${SKIP_ENV}=1 to skip this test)`);
    }
    return spawnSync(SHELLCHECK, args, { encoding: "utf8", input, timeout: 30_000 });
}

describe("the acl-reload sidecar's script", function () {
    this.timeout(30_000);

    it("parses (bash -n)", () => {
        const result = spawnSync("/bin/bash", ["-n", ACL_RELOAD_SCRIPT_PATH], { encoding: "utf8" });
        assert.equal(result.status, 0, result.stderr);
    });

    it("passes shellcheck, which does flag a careless script (control)", function () {
        const result = shellcheck(this, ["--shell=bash", "--severity=style", ACL_RELOAD_SCRIPT_PATH]);
        assert.equal(result.status, 0, result.stdout + result.stderr);
        const careless = shellcheck(this, ["--shell=bash", "-"], 'for u in $(cat "$1"); do redis-cli ACL DELUSER $u; done\n');
        assert.notEqual(careless.status, 0);
        assert.match(careless.stdout, /SC2086/);
    });

    it("is what the Redis pod's sidecar runs, with the file, port and grace period it reads", async () => {
        const run = await runProgram("shared", { preview: false });
        const values = reveal(run.one("kubernetes:helm.sh/v4:Chart").inputs.values);
        const sidecar = values.master.sidecars.find((s: { name: string }) => s.name === "acl-reload");
        assert.deepEqual(sidecar.command, ["/bin/bash", "-c", fs.readFileSync(ACL_RELOAD_SCRIPT_PATH, "utf8")]);
        const env = Object.fromEntries(sidecar.env.map((e: { name: string; value?: string }) => [e.name, e.value ?? "(from a Secret)"]));
        assert.deepEqual(env, {
            ACL_FILE: `${REDIS_ACL_DIR}/${REDIS_ACL_FILE}`,
            REDIS_PORT: String(REDIS_PORT),
            ACL_RELOAD_INTERVAL: "5",
            ACL_REVOKE_GRACE: "600",
            REDIS_PASSWORD: "(from a Secret)",
        });
        for (const name of Object.keys(env))
            assert.match(fs.readFileSync(ACL_RELOAD_SCRIPT_PATH, "utf8"), new RegExp(`\\$\\{?${name}\\b`), `the script reads ${name}`);
    });
});
