import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import * as fc from "fast-check";
import { ConfigError } from "../../components/config";
import { FleetStack, balancedBatches, haltReason, loadFleet, planRollout, planWaves } from "../../tools/lib/rollout";
import { loadStackConfig } from "../../tools/lib/stack-files";
import { syntheticRepo, tenantName } from "../support/synthetic-repo";

const tenant = (name: string, wave: number): FleetStack => ({ name, role: "tenant", wave });
const shared: FleetStack = { name: "shared", role: "shared", wave: 0 };
const images: FleetStack = { name: "images", role: "images", wave: 0 };
const policy = { batchSize: 3, failureBudget: 1 };

describe("rollout: planning waves", () => {
    it("deploys shared first, then canaries, then each wave in ascending order, names sorted", () => {
        const stacks = [tenant("zeta", 2), tenant("beta", 1), tenant("alpha", 1), tenant("canary-b", 0), shared, tenant("canary-a", 0)];
        assert.deepStrictEqual(planWaves(stacks, policy), [["shared"], ["canary-a", "canary-b"], ["alpha", "beta"], ["zeta"]]);
        assert.deepStrictEqual(
            planRollout(stacks, policy).map((s) => [s.label, s.canary]),
            [
                ["shared", false],
                ["wave 0 (canary)", true],
                ["wave 1", false],
                ["wave 2", false],
            ],
        );
    });

    it("deploys the images stack before the shared stack, and both before any tenant", () => {
        const stacks = [tenant("beta", 1), shared, tenant("canary", 0), images];
        assert.deepStrictEqual(planWaves(stacks, policy), [["images"], ["shared"], ["canary"], ["beta"]]);
        assert.deepStrictEqual(
            planRollout(stacks, policy).map((s) => [s.label, s.wave, s.canary]),
            [
                ["images", "images", false],
                ["shared", "shared", false],
                ["wave 0 (canary)", 0, true],
                ["wave 1", 1, false],
            ],
        );
    });

    it("splits a wave larger than the batch size into balanced batches, labelled", () => {
        const seven = ["g", "f", "e", "d", "c", "b", "a"].map((n) => tenant(n, 1));
        const steps = planRollout(seven, policy);
        assert.deepStrictEqual(
            steps.map((s) => s.stacks),
            [
                ["a", "b", "c"],
                ["d", "e"],
                ["f", "g"],
            ],
        );
        assert.deepStrictEqual(
            steps.map((s) => s.label),
            ["wave 1 batch 1/3", "wave 1 batch 2/3", "wave 1 batch 3/3"],
        );
        assert.deepStrictEqual(
            steps.map((s) => [s.batch, s.batches]),
            [
                [1, 3],
                [2, 3],
                [3, 3],
            ],
        );
    });

    it("skips wave numbers nobody uses and plans nothing for no stacks", () => {
        assert.deepStrictEqual(planWaves([tenant("a", 7), tenant("b", 3)], policy), [["b"], ["a"]]);
        assert.deepStrictEqual(planWaves([], policy), []);
        assert.deepStrictEqual(planWaves([tenant("a", 1)], policy), [["a"]], "no shared step when shared is not selected");
    });

    it("refuses a stack listed twice and a wave that is not a whole number", () => {
        assert.throws(() => planRollout([tenant("a", 1), tenant("a", 2)], policy), /stack a is listed twice/);
        assert.throws(
            () => planRollout([tenant("a", 1.5)], policy),
            /stock:rolloutWave of stack a .*Fix: pulumi config set stock:rolloutWave/,
        );
        assert.throws(() => balancedBatches(["a"], 0), /batch size/);
    });

    it("any fleet: every stack exactly once, shared before tenants, waves never go back, batches within the size", () => {
        const arbitraryFleet = fc.uniqueArray(
            fc.record({ name: fc.stringMatching(/^[a-z][a-z0-9-]{0,8}$/), wave: fc.integer({ min: 0, max: 5 }), isShared: fc.boolean() }),
            { selector: (s) => s.name, maxLength: 60 },
        );
        fc.assert(
            fc.property(arbitraryFleet, fc.integer({ min: 1, max: 10 }), (raw, batchSize) => {
                const stacks: FleetStack[] = raw.map((r) => ({ name: r.name, role: r.isShared ? "shared" : "tenant", wave: r.wave }));
                const steps = planRollout(stacks, { batchSize, failureBudget: 0 });
                const flat = steps.flatMap((s) => s.stacks);
                assert.deepStrictEqual([...flat].sort(), stacks.map((s) => s.name).sort());
                const waveOf = (s: (typeof steps)[number]) => (s.wave === "shared" ? -1 : s.wave);
                steps.forEach((s, i) => {
                    if (s.wave !== "shared") assert.ok(s.stacks.length >= 1 && s.stacks.length <= batchSize);
                    if (i > 0) assert.ok(waveOf(steps[i - 1]) <= waveOf(s));
                    for (const name of s.stacks) {
                        const stack = stacks.find((t) => t.name === name)!;
                        assert.strictEqual(s.wave === "shared" ? "shared" : stack.wave, stack.role === "shared" ? "shared" : s.wave);
                    }
                });
                // The batches of one wave differ in size by at most one.
                for (const wave of new Set(steps.map((s) => s.wave))) {
                    const sizes = steps.filter((s) => s.wave === wave).map((s) => s.stacks.length);
                    assert.ok(Math.max(...sizes) - Math.min(...sizes) <= 1, `wave ${wave}: ${sizes.join(", ")}`);
                }
            }),
            { numRuns: 300 },
        );
    });
});

describe("rollout: halting", () => {
    const [imagesStep, sharedStep, canary, wave1] = planRollout([images, shared, tenant("c", 0), tenant("a", 1), tenant("b", 1)], {
        batchSize: 5,
        failureBudget: 1,
    });
    const budget1 = { batchSize: 5, failureBudget: 1 };

    it("goes on while nothing failed", () => {
        for (const step of [imagesStep, sharedStep, canary, wave1]) assert.strictEqual(haltReason(step, 0, 0, budget1), undefined);
    });

    it("halts on a failed images stack, shared stack or canary, whatever the budget", () => {
        assert.match(
            haltReason(imagesStep, 1, 0, { batchSize: 5, failureBudget: 100 })!,
            /images stack failed \(1 of 1\).*backend image every tenant deploys.*nothing after it runs/,
        );
        assert.match(haltReason(sharedStep, 1, 0, { batchSize: 5, failureBudget: 100 })!, /shared stack failed.*no tenant is deployed/);
        assert.match(haltReason(canary, 1, 0, { batchSize: 5, failureBudget: 100 })!, /1 canary stack failed in wave 0 \(canary\)/);
    });

    it("halts on a busy canary, whatever the budget, but never on busy stacks of a later wave", () => {
        const lenient = { batchSize: 5, failureBudget: 100 };
        assert.match(
            haltReason(canary, 0, 0, lenient, ["c"])!,
            /canary stack c was busy in wave 0 \(canary\).*ran on 0 of 1 canaries.*`pulumi cancel -s c` only if it is stale/,
        );
        assert.strictEqual(haltReason(wave1, 0, 0, { batchSize: 5, failureBudget: 0 }, ["a", "b"]), undefined);
    });

    it("halts on a busy images or shared stack as busy, naming it and the fix", () => {
        const lenient = { batchSize: 5, failureBudget: 100 };
        assert.match(
            haltReason(imagesStep, 0, 0, lenient, ["images"])!,
            /^the images stack images was busy .*no tenant is deployed \(they need the backend image every tenant deploys\).*`pulumi cancel -s images` only if it is stale/,
        );
        assert.match(
            haltReason(sharedStep, 0, 0, lenient, ["shared"])!,
            /^the shared stack shared was busy .*the Redis every tenant reads.*`pulumi cancel -s shared` only if it is stale/,
        );
        assert.match(haltReason(sharedStep, 1, 0, lenient, [])!, /^the shared stack failed/);
    });

    it("tolerates failures up to the budget, counting earlier steps, and halts beyond it", () => {
        assert.strictEqual(haltReason(wave1, 1, 0, budget1), undefined);
        assert.match(
            haltReason(wave1, 1, 1, budget1)!,
            /2 tenant stacks failed, over the failure budget of 1 \(stock:rolloutFailureBudget/,
        );
        assert.match(haltReason(wave1, 1, 0, { batchSize: 5, failureBudget: 0 })!, /over the failure budget of 0/);
    });
});

describe("rollout: settings in the config model", () => {
    it("every tenant is in wave 1 by default; the shared stack carries the policy", () => {
        const a = loadStackConfig("client-a");
        assert.strictEqual(a.role === "tenant" && a.rolloutWave, 1);
        const s = loadStackConfig("shared");
        assert.deepStrictEqual(s.role === "shared" && s.rollout, { batchSize: 25, failureBudget: 0 });
    });

    it("refuses a negative or fractional wave and a batch size of 0, naming the key and the fix", () => {
        const problems = (stack: string, overrides: Record<string, unknown>) => {
            try {
                loadStackConfig(stack, { overrides });
            } catch (e) {
                if (e instanceof ConfigError) return e.problems.join("\n");
                throw e;
            }
            return "";
        };
        assert.match(
            problems("client-a", { "stock:rolloutWave": -1 }),
            /stock:rolloutWave in Pulumi\.client-a\.yaml: must be 0 \(canary\) or more.*Fix: pulumi config set stock:rolloutWave/,
        );
        assert.match(problems("client-a", { "stock:rolloutWave": 1.5 }), /stock:rolloutWave .*whole number/);
        assert.match(
            problems("shared", { "stock:rolloutBatchSize": 0 }),
            /stock:rolloutBatchSize in Pulumi\.shared\.yaml: must be 1 or more/,
        );
        assert.match(problems("shared", { "stock:rolloutFailureBudget": "many" }), /stock:rolloutFailureBudget .*whole number/);
    });
});

describe("rollout: loading the fleet from stack files", () => {
    it("reads this repository: images, shared plus the example tenants, policy from Pulumi.yaml", () => {
        const fleet = loadFleet();
        assert.deepStrictEqual(fleet.policy, { batchSize: 25, failureBudget: 0 });
        assert.deepStrictEqual(fleet.invalid, []);
        assert.deepStrictEqual(planWaves(fleet.stacks, fleet.policy).slice(0, 2), [["images"], ["shared"]]);
        assert.ok(fleet.stacks.some((s) => s.name === "shared" && s.role === "shared"));
        assert.ok(fleet.stacks.some((s) => s.name === "client-a" && s.role === "tenant" && s.wave === 1));
    });

    it("reads waves and the shared stack's policy; lists refused stacks apart; selects a subset", () => {
        const repo = syntheticRepo(
            [
                { name: "canary-one", wave: 0 },
                { name: tenantName(1) },
                { name: tenantName(2), wave: 2 },
                { name: "broken", config: { "stock:host": "not a host" } },
            ],
            { "stock:rolloutBatchSize": 2, "stock:rolloutFailureBudget": 3 },
        );
        try {
            const fleet = loadFleet(repo.root);
            assert.deepStrictEqual(fleet.policy, { batchSize: 2, failureBudget: 3 });
            assert.deepStrictEqual(planWaves(fleet.stacks, fleet.policy), [["images"], ["shared"], ["canary-one"], ["t-0001"], ["t-0002"]]);
            assert.deepStrictEqual(
                fleet.invalid.map((i) => i.stack),
                ["broken"],
            );
            assert.match(fleet.invalid[0].problems.join("\n"), /stock:host/);

            const some = loadFleet(repo.root, ["t-0002"]);
            assert.deepStrictEqual(
                some.stacks.map((s) => s.name),
                ["t-0002"],
            );
            assert.deepStrictEqual(some.invalid, []);
            assert.throws(() => loadFleet(repo.root, ["nope"]), /no stack file for nope \(expected Pulumi\.nope\.yaml/);
        } finally {
            repo.remove();
        }
    });

    it("refuses a fleet of tenants without exactly one images stack, which builds their backend image", () => {
        const repo = syntheticRepo([{ name: "a-one" }]);
        try {
            fs.rmSync(path.join(repo.root, "Pulumi.images.yaml"));
            assert.throws(
                () => loadFleet(repo.root),
                /exactly one stack with stock:role images .* found none: it builds and pushes the backend image/,
            );
            fs.writeFileSync(
                path.join(repo.root, "Pulumi.images-a.yaml"),
                "config:\n  stock:role: images\n  stock:backendSources: [app/backend]\n",
            );
            fs.writeFileSync(
                path.join(repo.root, "Pulumi.images-b.yaml"),
                "config:\n  stock:role: images\n  stock:backendSources: [app/backend]\n",
            );
            assert.throws(() => loadFleet(repo.root), /exactly one stack with stock:role images .* found images-a, images-b/);
        } finally {
            repo.remove();
        }
    });

    it("refuses to guess the policy when the shared stack is refused", () => {
        const repo = syntheticRepo([{ name: "a-one" }], { "stock:rolloutBatchSize": 0 });
        try {
            assert.throws(() => loadFleet(repo.root), /shared stack's rollout settings cannot be read[\s\S]*stock:rolloutBatchSize/);
        } finally {
            repo.remove();
        }
    });
});
