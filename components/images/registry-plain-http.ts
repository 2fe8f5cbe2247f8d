/**
 * A registry that answers plain HTTP where the program expects TLS. Without `stock:harborPlainHttp`
 * the lookup never retries without TLS: whoever answers on Harbor's address without TLS (a
 * downgrade) would otherwise receive the robot's credentials. The fix names the key and the stack,
 * which only the caller knows, so the error carries a function of the stack.
 */
import { PROJECT, stackFile } from "../config";

/** OpenSSL's and Node's ways of saying "the peer's first bytes are no TLS record". */
export function isNotTls(cause: Error): boolean {
    const code = (cause as NodeJS.ErrnoException).code ?? "";
    return (
        code === "EPROTO" ||
        code === "ERR_SSL_WRONG_VERSION_NUMBER" ||
        code === "ERR_SSL_PACKET_LENGTH_TOO_LONG" ||
        /wrong version number|packet length too long/i.test(cause.message)
    );
}

/** The registry (or its token service) would be spoken to without TLS, and the stack did not say it may. */
export class PlainHttpRegistryError extends Error {
    constructor(
        /** What happened, naming the server. */
        readonly problem: string,
        /** host[:port] of the server that has no TLS. */
        readonly host: string,
        cause?: Error,
    ) {
        super(`${problem}. Fix: ${plainHttpFix(host, "<stack>")}`, { cause });
        this.name = "PlainHttpRegistryError";
    }

    /** The fix for `stack`. */
    fixFor(stack: string): string {
        return plainHttpFix(this.host, stack);
    }
}

/** Trust the network explicitly, or (better) give Harbor TLS. */
export function plainHttpFix(host: string, stack: string): string {
    return `put ${host} behind TLS (Harbor's https external URL); or, only for a registry on a network you trust, since the robot's credentials then cross it unencrypted: pulumi config set ${PROJECT}:harborPlainHttp true -s ${stack} (stack file ${stackFile(stack)}), and tell the Docker engine that pushes the same (\`insecure-registries\` in /etc/docker/daemon.json)`;
}

/** A TLS handshake to `url` met a peer that speaks plain HTTP. */
export function answersPlainHttp(url: URL, cause: Error): PlainHttpRegistryError {
    return new PlainHttpRegistryError(
        `${url.host} answers plain HTTP, not TLS (${(cause as NodeJS.ErrnoException).code ?? "no code"}: ${cause.message}), and ${PROJECT}:harborPlainHttp is false, so no credentials were sent to it`,
        url.host,
        cause,
    );
}

/** Harbor's challenge sends the robot's credentials to a token service at an http:// address. */
export function plainHttpRealm(registry: string, realm: URL): PlainHttpRegistryError {
    return new PlainHttpRegistryError(
        `${registry}'s challenge names a plain-HTTP token service (${realm.origin}), and ${PROJECT}:harborPlainHttp is false, so the robot's credentials were not sent to it`,
        realm.host,
    );
}
