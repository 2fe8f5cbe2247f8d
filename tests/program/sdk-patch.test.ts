/**
 * The one patch this repository carries on a dependency (patches/README.md): @pulumi/pulumi's
 * `debuggablePromise` keeps the Error it makes for the leak report and formats its stack only when
 * the report reads it. Unpatched, the SDK formats a stack (through ts-node's source maps) for each
 * of the four promises of every resource property, about 800 for one tenant stack, and none is
 * ever read unless a promise leaks. These tests fail if `npm ci` did not apply the patch, and
 * check that the leak report still says what it said.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import * as debuggable from "@pulumi/pulumi/runtime/debuggable";
import { runProgram } from "../../tools/lib/mock-run";

/** The SDK's leak-report internals (marked @internal, so not in its typings). */
const { debuggablePromise, promiseDebugString } = debuggable as unknown as {
    debuggablePromise<T>(this: void, p: Promise<T>, ctx: string): Promise<T>;
    promiseDebugString(this: void, p: Promise<unknown>): string;
};

const NOT_PATCHED =
    "node_modules/@pulumi/pulumi is not patched as patches/ says: run npm ci (its postinstall applies patches/), or npx patch-package";

type PrepareStackTrace = (error: Error, stack: NodeJS.CallSite[]) => unknown;

/** Runs `f` with every stack formatting recorded (by the first frame's function), through the source-map hook ts-node installed. */
async function recordingStackFormats<T>(f: () => T | Promise<T>): Promise<{ result: T; formats: string[] }> {
    const errorClass = Error as { prepareStackTrace?: PrepareStackTrace };
    const hook = errorClass.prepareStackTrace;
    assert.ok(hook, "no Error.prepareStackTrace: the tests run under ts-node, which installs source-map-support");
    const formats: string[] = [];
    errorClass.prepareStackTrace = (error, stack) => {
        formats.push(stack[0]?.getFunctionName() ?? "<anonymous>");
        return hook(error, stack);
    };
    try {
        return { result: await f(), formats };
    } finally {
        errorClass.prepareStackTrace = hook;
    }
}

/**
 * A pending promise made debuggable here, so the leak report's stack has a frame in this file.
 * `watched` is the promise the SDK tracks as a leak candidate (it carries the debug properties);
 * `result` is what the SDK hands on.
 */
function pendingHere(ctx: string): { watched: Promise<string>; result: Promise<string>; settle(): void } {
    let settle!: () => void;
    const watched = new Promise<string>((resolve) => (settle = () => resolve("settled")));
    const result = debuggablePromise(watched, ctx);
    return { watched, result, settle };
}

describe("@pulumi/pulumi, as patched by npm ci (patches/)", () => {
    it("evaluates a whole tenant stack without formatting a stack trace for any debuggable promise", async () => {
        const { result: run, formats } = await recordingStackFormats(() => runProgram("client-a"));
        assert.ok(run.resources.length >= 10, `client-a registered ${run.resources.length} resources`);
        const fromPromises = formats.filter((f) => f === "debuggablePromise").length;
        assert.strictEqual(
            fromPromises,
            0,
            `${fromPromises} of ${formats.length} stack traces were formatted for debuggable promises; ${NOT_PATCHED}`,
        );
        // What is left is the SDK's source position of each resource (Resource.callsites), one a resource.
        assert.ok(
            formats.length <= 2 * run.resources.length,
            `${formats.length} stack traces formatted for ${run.resources.length} resources`,
        );
    });

    it("keeps the leak report's stack trace: formatted when read, through the source maps, pointing at the caller", async () => {
        const { result: pending, formats } = await recordingStackFormats(() => pendingHere("transferProperty(test)"));
        assert.deepStrictEqual(formats, [], `a stack trace was formatted before anything read it; ${NOT_PATCHED}`);
        const report = promiseDebugString(pending.watched);
        pending.settle();
        assert.strictEqual(await pending.result, "settled");
        const lines = report.split("\n");
        assert.match(lines[0], /^CONTEXT\(\d+\): transferProperty\(test\)$/);
        assert.strictEqual(lines[1], "STACK_TRACE:");
        assert.strictEqual(lines[2], "Error");
        assert.match(lines[3], /at (Object\.)?debuggablePromise \(.*debuggable\.(js|ts):\d+:\d+\)$/);
        // Source-mapped: the .ts file and the line of the debuggablePromise call in pendingHere.
        const callLine =
            fs
                .readFileSync(__filename, "utf8")
                .split("\n")
                .findIndex((l) => l.includes("debuggablePromise(watched")) + 1;
        assert.ok(
            lines.some((l) => l.trim().startsWith("at pendingHere (") && l.includes(`${path.basename(__filename)}:${callLine}:`)),
            `no frame at ${path.basename(__filename)}:${callLine} in\n${report}`,
        );
        assert.strictEqual(promiseDebugString(pending.watched), report, "a second read says the same");
    });
});
