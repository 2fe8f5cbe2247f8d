/**
 * The parse cache of the stack files (components/config/yaml-cache.ts): every tenant evaluation
 * reads every stack file, and the cache keeps a fleet preview from parsing N² of them. Parses are
 * counted through the cache's `parse` seam; values are compared with an uncached read of the same
 * files; the parallel case runs real processes on one cache folder.
 */
import * as assert from "assert";
import { execFile } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { promisify } from "util";
import { configOf, stackFilesIn } from "../../components/config/stack-conflicts";
import { YamlCache, defaultYamlCacheDir, parseYamlCached } from "../../components/config/yaml-cache";
import { parseYaml } from "../../components/config/yaml-text";
import { REPO_ROOT } from "../../components/names";
import { syntheticRepo, tenantName } from "../support/synthetic-repo";
import { racedText } from "../support/yaml-cache-racer";

const NODE = path.join(REPO_ROOT, "node_modules", ".bin", "node");
const UNCACHED: YamlCache = { dir: undefined };

/** A cache in a fresh folder that counts the texts it parses and the entries it ignores. */
function countingCache(dir = fs.mkdtempSync(path.join(os.tmpdir(), "stock-yaml-cache-")), maxEntries?: number) {
    const counts = { parses: 0, ignored: 0 };
    const cache: YamlCache = {
        dir,
        maxEntries,
        parse: (text, file) => {
            counts.parses++;
            return parseYaml(text, file);
        },
        ignored: () => void counts.ignored++,
    };
    /** The texts parsed and entries ignored by `read`. */
    const during = (read: () => unknown) => {
        const before = { ...counts };
        read();
        return { parses: counts.parses - before.parses, ignored: counts.ignored - before.ignored };
    };
    return { dir, cache, during };
}

/** Every stack file's `config:` map and every value the conflict check reads, as `stackFilesIn` gives them. */
function everything(root: string, cache: YamlCache) {
    const keys = ["role", "tenant", "host", "apiHost", "backendSources", "harborServer", "imagePlatform"];
    return stackFilesIn(root, cache).map(({ stack, file, value }) => ({
        stack,
        config: configOf(path.join(root, file), UNCACHED),
        values: keys.map((k) => value(k)),
    }));
}

const stackFileCount = (root: string) => fs.readdirSync(root).filter((n) => /^Pulumi\..+\.yaml$/.test(n)).length;

describe("the stack files' parse cache (components/config/yaml-cache.ts)", () => {
    let repo: ReturnType<typeof syntheticRepo>;
    const file = (name: string) => path.join(repo.root, name);
    beforeEach(() => {
        repo = syntheticRepo([1, 2, 3].map((i) => ({ name: tenantName(i) })));
    });
    afterEach(() => repo.remove());

    it("parses each text once: a second read of the same stack files takes every value from the cache", () => {
        const { cache, during } = countingCache();
        const files = stackFileCount(repo.root);
        let first: unknown;
        let second: unknown;
        assert.deepStrictEqual(during(() => (first = everything(repo.root, cache))).parses, files + 1, "every stack file and Pulumi.yaml");
        assert.deepStrictEqual(
            during(() => (second = everything(repo.root, cache))),
            { parses: 0, ignored: 0 },
        );
        assert.deepStrictEqual(second, first);
        assert.deepStrictEqual(second, everything(repo.root, UNCACHED));
        for (const name of fs.readdirSync(repo.root).filter((n) => n.endsWith(".yaml"))) {
            assert.deepStrictEqual(configOf(file(name), cache), configOf(file(name), UNCACHED), name);
        }
    });

    it("is used by default, in node_modules/.cache/stock-deploy/yaml of the repository", () => {
        const dir = defaultYamlCacheDir();
        assert.strictEqual(dir, path.join(REPO_ROOT, "node_modules", ".cache", "stock-deploy", "yaml"));
        const marker = `t-${process.pid}-${Date.now()}`;
        fs.writeFileSync(file(`Pulumi.${tenantName(2)}.yaml`), `config:\n  stock:tenant: ${marker}\n`);
        stackFilesIn(repo.root);
        const stored = fs.readdirSync(dir).filter((n) => fs.readFileSync(path.join(dir, n), "utf8").includes(marker));
        assert.strictEqual(stored.length, 1, `one entry in ${dir} holds the new text's value`);
        assert.deepStrictEqual(JSON.parse(fs.readFileSync(path.join(dir, stored[0]), "utf8")).value, {
            config: { "stock:tenant": marker },
        });
    });

    it("parses again only the file whose text changed, and finds the old text's entry when it comes back", () => {
        const { cache, during } = countingCache();
        everything(repo.root, cache);
        const name = `Pulumi.${tenantName(2)}.yaml`;
        const original = fs.readFileSync(file(name), "utf8");
        fs.writeFileSync(file(name), original.replace(`app.${tenantName(2)}.example.com`, "app.moved.example.com"));
        let read: ReturnType<typeof everything> = [];
        assert.deepStrictEqual(
            during(() => (read = everything(repo.root, cache))),
            { parses: 1, ignored: 0 },
        );
        assert.strictEqual(read.find((s) => s.stack === tenantName(2))!.values[2], "app.moved.example.com");
        assert.deepStrictEqual(read, everything(repo.root, UNCACHED));
        fs.writeFileSync(file(name), original);
        assert.deepStrictEqual(
            during(() => (read = everything(repo.root, cache))),
            { parses: 0, ignored: 0 },
        );
        assert.strictEqual(read.find((s) => s.stack === tenantName(2))!.values[2], `app.${tenantName(2)}.example.com`);
    });

    it("ignores an entry it cannot trust (torn, not JSON, another key's value) and parses the text again", () => {
        const { dir, cache, during } = countingCache();
        const truth = everything(repo.root, UNCACHED);
        everything(repo.root, cache);
        const entries = fs.readdirSync(dir).sort();
        assert.strictEqual(entries.length, stackFileCount(repo.root) + 1);
        const [first, second, third, ...rest] = entries.map((n) => path.join(dir, n));
        const firstText = fs.readFileSync(first, "utf8");
        fs.writeFileSync(first, fs.readFileSync(second, "utf8")); // a whole entry, of another text
        fs.writeFileSync(second, firstText.slice(0, firstText.length / 2)); // torn
        fs.writeFileSync(third, "not json at all");
        for (const entry of rest) {
            const { key } = JSON.parse(fs.readFileSync(entry, "utf8"));
            fs.writeFileSync(
                entry,
                JSON.stringify({ key: key.replace(/^./, key[0] === "0" ? "1" : "0"), value: { config: { "stock:tenant": "evil" } } }),
            );
        }
        let read: unknown;
        assert.deepStrictEqual(
            during(() => (read = everything(repo.root, cache))),
            { parses: entries.length, ignored: entries.length },
        );
        assert.deepStrictEqual(read, truth);
        assert.deepStrictEqual(
            during(() => (read = everything(repo.root, cache))),
            { parses: 0, ignored: 0 },
            "the entries were written again",
        );
        assert.deepStrictEqual(read, truth);
    });

    it("refuses a syntax error with the same message cached or not, in a file cached before the edit too, and never stores it", () => {
        const { dir, cache, during } = countingCache();
        everything(repo.root, cache);
        const stored = fs.readdirSync(dir).length;
        for (const broken of [
            "config:\n  stock:tenant: t-0002\n   stock:host: [app\n",
            "config:\n  stock:tenant: t-0002\n  stock:tenant: t-0003\n", // a duplicate key
        ]) {
            fs.writeFileSync(file(`Pulumi.${tenantName(2)}.yaml`), broken);
            const message = (() => {
                try {
                    stackFilesIn(repo.root, UNCACHED);
                } catch (e) {
                    return (e as Error).message;
                }
                assert.fail("the uncached read refuses the file");
            })();
            assert.match(message, /^Pulumi\.t-0002\.yaml is not valid YAML at line \d+, column \d+: .*Fix: correct /);
            for (let i = 0; i < 2; i++) {
                const counts = during(() => assert.throws(() => stackFilesIn(repo.root, cache), { message }));
                assert.strictEqual(counts.parses, 1, "the broken file is parsed each time, nothing else");
            }
        }
        assert.strictEqual(fs.readdirSync(dir).length, stored, "no entry for a text that does not parse");
    });

    it("stores only values that JSON gives back identical: NaN, -0 and a YAML 1.1 timestamp are parsed each time", () => {
        const { dir, cache, during } = countingCache();
        const texts = ["config:\n  stock:ratio: .nan\n  stock:zero: -0\n", "%YAML 1.1\n---\nconfig:\n  stock:since: 2001-12-14\n"];
        for (const text of texts) {
            for (let i = 0; i < 2; i++) {
                let value: unknown;
                assert.strictEqual(during(() => (value = parseYamlCached(text, "Pulumi.odd.yaml", cache))).parses, 1);
                assert.deepStrictEqual(value, parseYaml(text, "Pulumi.odd.yaml"));
            }
        }
        assert.deepStrictEqual(fs.readdirSync(dir), []);
    });

    it("only parses when its folder cannot be written (a read-only file system)", () => {
        const blocker = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "stock-yaml-cache-")), "a-file");
        fs.writeFileSync(blocker, "not a folder\n");
        const { cache, during } = countingCache(path.join(blocker, "yaml"));
        const files = stackFileCount(repo.root) + 1;
        for (let i = 0; i < 2; i++) {
            let read: unknown;
            assert.deepStrictEqual(
                during(() => (read = everything(repo.root, cache))),
                { parses: files, ignored: 0 },
            );
            assert.deepStrictEqual(read, everything(repo.root, UNCACHED));
        }
    });

    it("keeps its folder to the bound, removing the oldest entries", () => {
        const { dir, cache } = countingCache(undefined, 5);
        const anHourAgo = new Date(Date.now() - 3_600_000);
        for (let i = 0; i < 10; i++) {
            const old = path.join(dir, `${String(i).repeat(64)}.json`);
            fs.writeFileSync(old, JSON.stringify({ key: String(i).repeat(64), value: null }));
            fs.utimesSync(old, anHourAgo, anHourAgo);
        }
        assert.deepStrictEqual(parseYamlCached("config:\n  stock:tenant: t-new\n", "Pulumi.new.yaml", cache), {
            config: { "stock:tenant": "t-new" },
        });
        const left = fs.readdirSync(dir);
        assert.ok(left.length <= 5, `at most 5 entries, got ${left.length}`);
        const recent = left.filter((n) => fs.statSync(path.join(dir, n)).mtimeMs > anHourAgo.getTime() + 60_000);
        assert.strictEqual(recent.length, 1, "the new entry is kept");
    });

    it("stays whole when several processes write, delete and read the same entries at once", async function () {
        this.timeout(120_000);
        const { dir, cache, during } = countingCache();
        const texts = 4;
        const racers = await Promise.all(
            [1, 2, 3, 4].map((seed) =>
                promisify(execFile)(
                    NODE,
                    [
                        "-r",
                        "ts-node/register/transpile-only",
                        path.join(__dirname, "..", "support", "yaml-cache-racer.ts"),
                        dir,
                        String(seed),
                        "800",
                        String(texts),
                    ],
                    { cwd: REPO_ROOT, maxBuffer: 1 << 20 },
                ),
            ),
        );
        const reports = racers.map(({ stdout }) => JSON.parse(stdout.trim().split("\n").pop()!) as { parses: number; ignored: number });
        assert.deepStrictEqual(
            reports.map((r) => r.ignored),
            [0, 0, 0, 0],
            "no racer found a half-written entry",
        );
        const entries = fs.readdirSync(dir);
        assert.deepStrictEqual(
            entries.filter((n) => !/^[0-9a-f]{64}\.json$/.test(n)),
            [],
            "no temporary file is left",
        );
        for (const name of entries) assert.strictEqual(JSON.parse(fs.readFileSync(path.join(dir, name), "utf8")).key, name.slice(0, 64));
        const counts = during(() => {
            for (let index = 0; index < texts; index++) parseYamlCached(racedText(index), "Pulumi.race.yaml", cache);
        });
        assert.strictEqual(counts.ignored, 0);
        assert.strictEqual(counts.parses, texts - entries.length, "every entry left is one of the texts, and used");
        assert.ok(
            reports.every((r) => r.parses < 800),
            "the racers read entries, not only parsed",
        );
    });
});
