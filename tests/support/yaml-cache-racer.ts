/**
 * One of several processes sharing a YAML parse cache folder at once (tests/program/yaml-cache.test.ts):
 * parses the same few texts as its siblings over and over, now and then deleting an entry so that
 * it is written again while the others read it; checks every value it gets and prints how many
 * texts it parsed and how many entries it found but could not trust (a half-written one).
 * Usage: yaml-cache-racer.ts <cache dir> <seed> <iterations> <texts>
 */
import * as fs from "fs";
import * as path from "path";
import { parseYamlCached } from "../../components/config/yaml-cache";
import { parseYaml } from "../../components/config/yaml-text";

const PAYLOAD = 50_000;

/** The text every racer parses for `index`: large enough that a write takes a while to finish. */
export function racedText(index: number): string {
    return `config:\n  stock:tenant: t-${index}\n  stock:payload: "${"x".repeat(PAYLOAD)}"\n`;
}

function main(): void {
    const [dir, seed, iterations, texts] = process.argv.slice(2).map((a, i) => (i === 0 ? a : Number(a))) as [
        string,
        number,
        number,
        number,
    ];
    let parses = 0;
    let ignored = 0;
    const cache = {
        dir,
        parse: (text: string, file: string) => {
            parses++;
            return parseYaml(text, file);
        },
        ignored: () => void ignored++,
    };
    for (let i = 0; i < iterations; i++) {
        const index = (i * (seed + 1)) % texts;
        if (i % 4 === seed % 4) {
            const entries = fs.existsSync(dir) ? fs.readdirSync(dir).filter((n) => n.endsWith(".json")) : [];
            if (entries.length > 0) fs.rmSync(path.join(dir, entries[(i + seed) % entries.length]), { force: true });
        }
        const value = parseYamlCached(racedText(index), "Pulumi.race.yaml", cache) as { config: Record<string, string> };
        if (value.config["stock:tenant"] !== `t-${index}` || value.config["stock:payload"].length !== PAYLOAD) {
            throw new Error(`racer ${seed} read a wrong value for text ${index} at iteration ${i}`);
        }
    }
    process.stdout.write(JSON.stringify({ parses, ignored }) + "\n");
}

if (require.main === module) main();
