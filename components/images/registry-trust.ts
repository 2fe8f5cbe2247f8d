/**
 * A Harbor whose certificate is signed by a private CA: Node trusts only its bundled roots plus the
 * file NODE_EXTRA_CA_CERTS names (read once, at start-up; the Pulumi CLI passes its environment to
 * the program). The handshake error alone ("unable to verify the first certificate") says neither
 * which registry nor what to do, and the image pushes (BuildKit, not Node) need the same CA.
 * Verification is never turned off: the fix is always to trust the CA.
 */

/** OpenSSL's verify results that mean "signed by a CA not in the trust store". */
export const UNTRUSTED_CA_CODES: readonly string[] = [
    "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
    "UNABLE_TO_GET_ISSUER_CERT",
    "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
    "SELF_SIGNED_CERT_IN_CHAIN",
    "DEPTH_ZERO_SELF_SIGNED_CERT",
    "CERT_UNTRUSTED",
];

/** The registry's certificate chain ends in a CA this process does not trust. */
export class RegistryTrustError extends Error {
    constructor(
        /** What failed, naming the URL and the TLS cause. */
        readonly problem: string,
        /** What the platform engineer does about it. */
        readonly fix: string,
        cause: Error,
    ) {
        super(`${problem}. Fix: ${fix}`, { cause });
        this.name = "RegistryTrustError";
    }
}

/**
 * The {@link RegistryTrustError} for `cause`, an error of a request to `url`, when it is an
 * untrusted-CA handshake failure; undefined for any other error. `extraCaFile` is the process's
 * NODE_EXTRA_CA_CERTS (undefined when unset).
 */
export function untrustedCaError(url: URL, cause: Error, extraCaFile: string | undefined): RegistryTrustError | undefined {
    const code = (cause as NodeJS.ErrnoException).code ?? "";
    if (!UNTRUSTED_CA_CODES.includes(code)) return undefined;
    const host = url.host;
    const already = extraCaFile
        ? `; NODE_EXTRA_CA_CERTS=${extraCaFile} is set but does not hold that CA (or could not be read when the program started)`
        : "; NODE_EXTRA_CA_CERTS is not set";
    const problem = `TLS to ${url.origin} failed: ${host}'s certificate is signed by a CA this program does not trust (${code}: ${cause.message})${already}`;
    const fix = [
        `keep TLS verification on and trust the CA instead: if ${host} uses a private CA, give its CA certificate (PEM) to the program with \`export NODE_EXTRA_CA_CERTS=/path/to/harbor-ca.pem\` before \`pulumi preview\`/\`up\` (the Pulumi CLI passes it to the program; Node reads it only at start-up)`,
        `and to the image builds, which push through BuildKit, not Node: for the Docker engine's own builder, copy it to /etc/docker/certs.d/${host}/ca.crt on the Docker host; for a docker-container builder, add \`[registry."${host}"] ca = ["/path/to/harbor-ca.pem"]\` to a buildkitd.toml and create the builder with \`docker buildx create --driver docker-container --buildkitd-config <that file>\``,
    ].join(", ");
    return new RegistryTrustError(problem, fix, cause);
}
