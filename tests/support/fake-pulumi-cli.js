// A stand-in for the `pulumi` CLI, enough for the Automation API calls the fleet runner makes
// (version, whoami, plugin install, stack select, preview, up, stack output, stack history).
// It records every call (arguments, working directory, start and end) to $FAKE_PULUMI_LOG, writes
// the engine events the real CLI would to --event-log, and plays the stack's part by its name:
// *-busy answers 409, *-fail fails with an error, *-missing does not exist, *-policy violates a policy.
// The stacks in $FAKE_PULUMI_HOLD (comma-separated) hold their preview or up until a SIGINT, which
// the CLI takes as "cancel gracefully": it records the signal and ends with "update canceled" (with
// $FAKE_PULUMI_IGNORE_SIGINT set it records it and holds on, an in-flight operation that takes long).
"use strict";
const fs = require("fs");

const args = process.argv.slice(2);
const started = Date.now();
const record = (extra = {}) =>
    fs.appendFileSync(process.env.FAKE_PULUMI_LOG, JSON.stringify({ args, cwd: process.cwd(), started, ended: Date.now(), ...extra }) + "\n");
const flag = (name) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
};
const fail = (message) => {
    record({ failed: true });
    process.stderr.write(message + "\n");
    process.exit(255);
};
const stack = flag("--stack") ?? "";
const short = stack.split("/").pop();
const latency = Number(process.env.FAKE_PULUMI_LATENCY_MS ?? "0");

function events(log, kind) {
    let sequence = 0;
    const write = (e) => fs.appendFileSync(log, JSON.stringify({ sequence: sequence++, timestamp: Math.floor(Date.now() / 1000), ...e }) + "\n");
    write({ preludeEvent: { config: {} } });
    write({ resourcePreEvent: { metadata: { op: "create", urn: `urn:pulumi:${short}::stock::kubernetes:apps/v1:Deployment::${short}-api`, type: "kubernetes:apps/v1:Deployment", provider: "" } } });
    write({ resourcePreEvent: { metadata: { op: "same", urn: `urn:pulumi:${short}::stock::pulumi:pulumi:Stack::stock-${short}`, type: "pulumi:pulumi:Stack", provider: "" } } });
    if (short.endsWith("-policy")) {
        const violation = { policyEvent: { message: "image must come from Harbor", color: "never", policyName: "image-from-allowed-registry", policyPackName: "stock-deploy-guardrails", policyPackVersion: "0.1.0", policyPackVersionTag: "0.1.0", enforcementLevel: "mandatory" } };
        write(violation);
        // The line again, as the Automation API's log tail can deliver it twice: one violation still.
        sequence--;
        write(violation);
    }
    write({ summaryEvent: { maybeCorrupt: false, durationSeconds: 1, resourceChanges: { create: 2, update: 1, same: 5 }, policyPacks: {}, isPreview: kind === "preview" } });
    write({ cancelEvent: {} });
}

// Bounded: a held stack nobody cancels gives up after 30 s.
function holdUntilCancelled() {
    return new Promise(() => {
        const giveUp = setTimeout(() => fail(`error: ${short} was held for 30 s and never cancelled`), 30_000);
        process.on("SIGINT", () => {
            record({ signal: "SIGINT" });
            if (process.env.FAKE_PULUMI_IGNORE_SIGINT) return;
            clearTimeout(giveUp);
            fail(`error: update canceled: ${short} stopped after its in-flight operations, checkpoint written`);
        });
        record({ holding: true, pid: process.pid });
    });
}

async function main() {
    const [cmd, sub] = args;
    if (cmd === "version") {
        process.stdout.write("v3.200.0\n");
        return;
    }
    if (cmd === "whoami") {
        if (process.env.FAKE_PULUMI_LOGGED_OUT) fail("error: PULUMI_ACCESS_TOKEN must be set for login during non-interactive CLI sessions");
        process.stdout.write(JSON.stringify({ user: "fake-user", organizations: [], url: "file://~" }) + "\n");
        record();
        return;
    }
    if (cmd === "plugin" && sub === "install") {
        await new Promise((r) => setTimeout(r, latency));
        record();
        return;
    }
    if (cmd === "stack" && sub === "select") {
        if (short.endsWith("-missing")) fail(`error: no stack named '${stack}' found`);
        record();
        return;
    }
    if (cmd === "stack" && sub === "output") {
        process.stdout.write("{}\n");
        return;
    }
    if (cmd === "stack" && sub === "history") {
        process.stdout.write(JSON.stringify([{ version: 2, kind: "update", startTime: new Date(started).toISOString(), endTime: new Date().toISOString(), message: "", environment: {}, config: {}, result: "succeeded", resourceChanges: { create: 2, update: 1, same: 5 } }]) + "\n");
        return;
    }
    if (cmd === "preview" || cmd === "up") {
        await new Promise((r) => setTimeout(r, latency));
        if (short.endsWith("-busy")) fail("error: [409] Conflict: Another update is currently in progress.\nTo learn more about possible reasons and resolution, visit https://www.pulumi.com/docs/common-errors/#conflict");
        if ((process.env.FAKE_PULUMI_HOLD ?? "").split(",").includes(short)) await holdUntilCancelled();
        if (short.endsWith("-fail")) fail(`error: Running program '${process.cwd()}' failed with an unhandled exception:\nError: Stack '${short}' has 1 configuration problem`);
        const log = flag("--event-log");
        if (log) events(log, cmd);
        record();
        process.stdout.write(`${cmd} of ${stack} done\n`);
        return;
    }
    fail(`error: the fake pulumi does not know \`${args.join(" ")}\``);
}

main();
