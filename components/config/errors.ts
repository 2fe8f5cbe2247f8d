/** How configuration problems are reported: all at once, each naming the key, the stack file and the fix. */

/** Every problem with a stack's configuration, reported together. */
export class ConfigError extends Error {
    constructor(
        readonly stack: string,
        readonly problems: string[],
    ) {
        super(
            `Stack '${stack}' has ${problems.length} configuration problem${problems.length === 1 ? "" : "s"} (Pulumi.${stack}.yaml):\n` +
                problems.map((p) => `  - ${p}`).join("\n"),
        );
        this.name = "ConfigError";
    }
}

export function stackFile(stack: string): string {
    return `Pulumi.${stack}.yaml`;
}
