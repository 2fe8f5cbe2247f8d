/**
 * What every command-line tool here does with its arguments: node:util's parseArgs, a bad option
 * answered with its message and the usage on stderr (exit 2), `--help` with the usage on stdout
 * (exit 0). Tools are callable in-process, so they write to the streams they are given.
 */
import { ParseArgsConfig, parseArgs } from "util";

/** Where a tool writes: process.stdout/stderr, or a test's buffer. */
export interface Output {
    write(text: string): unknown;
}

export const EXIT_USAGE = 2;

type Options = NonNullable<ParseArgsConfig["options"]>;
type Parsed<O extends Options, P extends boolean> = ReturnType<typeof parseArgs<{ args: string[]; options: O; allowPositionals: P }>>;

/** The parsed arguments, or the exit code to return at once (a bad option, or `--help`). */
export function parseCli<const O extends Options, const P extends boolean = false>(
    argv: string[],
    config: { options: O; allowPositionals?: P; usage: string; stdout: Output; stderr: Output },
): Parsed<O, P> | number {
    let parsed: Parsed<O, P>;
    try {
        parsed = parseArgs({ args: argv, options: config.options, allowPositionals: (config.allowPositionals ?? false) as P });
    } catch (e) {
        config.stderr.write(`${(e as Error).message}\n${config.usage}\n`);
        return EXIT_USAGE;
    }
    if ("help" in config.options && (parsed.values as Record<string, unknown>).help === true) {
        config.stdout.write(`${config.usage}\n`);
        return 0;
    }
    return parsed;
}
