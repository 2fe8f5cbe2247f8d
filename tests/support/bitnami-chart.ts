/**
 * Test support: the real Bitnami Redis chart, from a local bare mirror of github.com/bitnami/charts
 * (never committed here), as a chart directory `helm template` can render offline: the chart at tag
 * `redis/<version>` with its `common` dependency at the version its Chart.lock pins (tag
 * `common/<version>`), vendored into charts/common of a scratch copy under the OS temp dir, where
 * `helm dependency build` would have put it.
 *
 * The mirror is STOCK_BITNAMI_CHARTS_MIRROR, default /work/.mirror/bitnami+charts/repo (where the
 * development machines fetch it). Without it, bitnamiRedisChart() returns undefined and the tests
 * skip with a message: CI does not have the mirror.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as YAML from "yaml";

export const BITNAMI_MIRROR = process.env.STOCK_BITNAMI_CHARTS_MIRROR ?? "/work/.mirror/bitnami+charts/repo";

function git(args: string[]): Buffer {
    return execFileSync("git", ["--git-dir", BITNAMI_MIRROR, ...args], { maxBuffer: 256 * 1024 * 1024, timeout: 60_000 });
}

function hasTag(tag: string): boolean {
    try {
        git(["rev-parse", "--verify", "--quiet", `refs/tags/${tag}^{commit}`]);
        return true;
    } catch {
        return false;
    }
}

/** Extracts `dir` of the mirror at `tag` into `into` (git archive | tar). */
function extract(tag: string, dir: string, into: string): void {
    const archive = git(["archive", "--format=tar", tag, dir]);
    execFileSync("tar", ["-x", "-C", into], { input: archive });
}

/** Why the chart cannot be had, or the path of a renderable copy of bitnami/redis at `version`. */
export function bitnamiRedisChart(version: string): { dir: string } | { missing: string } {
    if (!fs.existsSync(BITNAMI_MIRROR))
        return { missing: `no bitnami/charts mirror at ${BITNAMI_MIRROR} (set STOCK_BITNAMI_CHARTS_MIRROR)` };
    const tag = `redis/${version}`;
    if (!hasTag(tag)) return { missing: `the mirror ${BITNAMI_MIRROR} has no tag ${tag}` };
    const scratch = path.join(os.tmpdir(), `stock-bitnami-redis-${version}-${process.pid}`);
    const chart = path.join(scratch, "bitnami", "redis");
    if (fs.existsSync(path.join(chart, "charts", "common", "Chart.yaml"))) return { dir: chart };
    fs.rmSync(scratch, { recursive: true, force: true });
    fs.mkdirSync(scratch, { recursive: true });
    extract(tag, "bitnami/redis", scratch);
    const lock = YAML.parse(fs.readFileSync(path.join(chart, "Chart.lock"), "utf8")) as {
        dependencies: Array<{ name: string; version: string }>;
    };
    const common = lock.dependencies.find((d) => d.name === "common");
    if (!common) return { missing: `${tag}'s Chart.lock has no common dependency` };
    if (!hasTag(`common/${common.version}`))
        return { missing: `the mirror has no tag common/${common.version} (pinned by ${tag}'s Chart.lock)` };
    extract(`common/${common.version}`, "bitnami/common", scratch);
    fs.mkdirSync(path.join(chart, "charts"), { recursive: true });
    fs.renameSync(path.join(scratch, "bitnami", "common"), path.join(chart, "charts", "common"));
    process.once("exit", () => fs.rmSync(scratch, { recursive: true, force: true }));
    return { dir: chart };
}
