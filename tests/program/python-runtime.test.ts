import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { readPythonRuntime, runtimeChecksum } from "../../components/tenant/python-runtime";
import { tenantPythonRuntime } from "../../components/program";
import { loadTenantConfig } from "../../tools/lib/stack-files";

/** A runtime directory with these files (name → content; a Buffer for bytes). */
function runtimeDir(files: Record<string, string | Buffer>): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "stock-runtime-"));
    for (const [name, content] of Object.entries(files)) {
        fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
        fs.writeFileSync(path.join(dir, name), content);
    }
    return dir;
}

describe("the Python runtime ConfigMap content (components/tenant/python-runtime.ts)", () => {
    it("reads every file, sorted, with a checksum of names and contents", () => {
        const dir = runtimeDir({
            "sitecustomize.py": "import stock_redis_prefix\n",
            "stock_redis_prefix.py": "PREFIX_ENV = 'STOCK_REDIS_KEY_PREFIX'\n",
        });
        const runtime = readPythonRuntime(dir);
        assert.deepStrictEqual(
            runtime.files.map((f) => f.key),
            ["sitecustomize.py", "stock_redis_prefix.py"],
        );
        assert.strictEqual(runtime.files[0].content, "import stock_redis_prefix\n");
        assert.match(runtime.checksum, /^[0-9a-f]{16}$/);
        assert.strictEqual(readPythonRuntime(dir).checksum, runtime.checksum, "stable across reads");
    });

    it("changes the checksum when a file's content or name changes, and ignores bytecode caches", () => {
        const base = readPythonRuntime(runtimeDir({ "a.py": "x = 1\n", "b.py": "y = 2\n" })).checksum;
        assert.notStrictEqual(readPythonRuntime(runtimeDir({ "a.py": "x = 2\n", "b.py": "y = 2\n" })).checksum, base);
        assert.notStrictEqual(readPythonRuntime(runtimeDir({ "a2.py": "x = 1\n", "b.py": "y = 2\n" })).checksum, base);
        // Moving bytes between two files must not keep the digest either.
        assert.notStrictEqual(
            runtimeChecksum([
                { key: "a.py", content: "x = 1\ny" },
                { key: "b.py", content: " = 2\n" },
            ]),
            base,
        );
        const withCache = runtimeDir({
            "a.py": "x = 1\n",
            "b.py": "y = 2\n",
            "__pycache__/a.cpython-311.pyc": Buffer.from([0, 1, 2]),
            "c.pyc": Buffer.from([3]),
        });
        assert.strictEqual(readPythonRuntime(withCache).checksum, base);
    });

    it("refuses a missing or empty directory, nested directories, odd names and non-text files", () => {
        assert.throws(() => readPythonRuntime(path.join(os.tmpdir(), "stock-no-such-runtime")), /does not exist/);
        assert.throws(() => readPythonRuntime(runtimeDir({})), /is empty/);
        assert.throws(() => readPythonRuntime(runtimeDir({ "pkg/__init__.py": "" })), /pkg.*not a plain file.*flat/);
        assert.throws(() => readPythonRuntime(runtimeDir({ "my module.py": "" })), /ConfigMap key/);
        assert.throws(() => readPythonRuntime(runtimeDir({ "blob.py": Buffer.from([0xff, 0xfe, 0x00]) })), /not UTF-8/);
        assert.throws(() => readPythonRuntime(runtimeDir({ "big.py": "#".repeat(1024 * 1024 + 1) })), /1 MiB/);
    });

    it("is bad deployment input in shim mode: the problem names the key, the stack file and the fix", () => {
        const config = loadTenantConfig("client-a", { overrides: { "stock:redisKeyPrefixMode": "shim" } });
        const problems: string[] = [];
        assert.strictEqual(tenantPythonRuntime(config, problems, runtimeDir({})), undefined);
        assert.strictEqual(problems.length, 1);
        assert.match(
            problems[0],
            /^stock:redisKeyPrefixMode is shim .*Pulumi\.client-a\.yaml.*is empty\. Fix: restore runtime\/python\/.*pulumi config set stock:redisKeyPrefixMode app -s client-a/,
        );
    });

    it("is not read at all when the app applies the prefix itself", () => {
        const problems: string[] = [];
        assert.strictEqual(tenantPythonRuntime(loadTenantConfig("client-a"), problems, runtimeDir({})), undefined);
        assert.deepStrictEqual(problems, []);
    });
});
