/**
 * Test support: what the shared stack really deploys to Redis and hands to the tenant stacks,
 * computed by running the program for the `shared` stack under Pulumi's mocks (tools/lib/mock-run):
 * the users.acl of the `redis-acl` Secret, the `default` password of the `redis-auth` Secret (the
 * chart's --requirepass) and the `redisCredential-<tenant>` outputs. Every password is derived from
 * the fake seed the mock runner fills in.
 */
import { strict as assert } from "node:assert";
import { REDIS_ACL_FILE, REDIS_ACL_SECRET, REDIS_AUTH_SECRET, REDIS_AUTH_SECRET_KEY } from "../../components/redis/values";
import { redisCredentialOutput } from "../../components/names";
import { RedisCredential } from "../../components/redis/credential";
import { ProgramRun, reveal, runProgram, RunOptions } from "../../tools/lib/mock-run";
import { StartRedisOptions } from "./redis-server";

export interface SharedStackRedis {
    /** users.acl exactly as in the `redis-acl` Secret. */
    usersAcl: string;
    /** The `default` user's password (`redis-auth` Secret, the chart's `--requirepass`). */
    defaultPassword: string;
    /** The stack outputs `redisCredential-<tenant>`, by tenant. */
    credentials: Record<string, RedisCredential>;
    tenants: string[];
    /** Every output of the shared stack, as a tenant stack's StackReference reads them. */
    outputs: Record<string, any>;
}

/** The stringData of the one Secret named `name` that a program run creates. */
export function secretData(run: ProgramRun, name: string): Record<string, string> {
    const found = run.ofType("kubernetes:core/v1:Secret").filter((r) => reveal(r.inputs.metadata)?.name === name);
    assert.equal(found.length, 1, `expected one Secret named ${name}`);
    return reveal(found[0].inputs.stringData);
}

/** Run the shared stack (as `up`, so every value is known) and collect what Redis gets. */
export async function sharedStackRedis(options: RunOptions = {}): Promise<SharedStackRedis> {
    const run = await runProgram("shared", { ...options, preview: false });
    const tenants: string[] = run.outputs.tenants;
    return {
        usersAcl: secretData(run, REDIS_ACL_SECRET)[REDIS_ACL_FILE],
        defaultPassword: secretData(run, REDIS_AUTH_SECRET)[REDIS_AUTH_SECRET_KEY],
        credentials: Object.fromEntries(tenants.map((t) => [t, run.outputs[redisCredentialOutput(t)]])),
        tenants,
        outputs: run.outputs,
    };
}

/** redis-server started as the shared stack's chart starts it: its ACL file and the `default` user's --requirepass. */
export function sharedRedisServerOptions(shared: SharedStackRedis, extra: Partial<StartRedisOptions> = {}): StartRedisOptions {
    return { usersAcl: shared.usersAcl, extraArgs: ["--requirepass", shared.defaultPassword], ...extra };
}
