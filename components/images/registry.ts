/**
 * Asks a registry (Harbor, or any Docker Registry HTTP API v2) whether a tag exists, and its digest:
 * `HEAD /v2/<repository>/manifests/<tag>`, answering the registry's challenge (Bearer token from its
 * realm, as Harbor does, or Basic). HTTPS only, and only HTTPS realms, by default: the challenge is
 * answered with the robot's credentials, so a peer that answers without TLS is refused with the fix
 * (./registry-plain-http.ts), never retried over plain HTTP (a downgrade anyone answering on
 * Harbor's address could force). A stack whose registry has no TLS (the e2e job's kind registry)
 * says so with `stock:harborPlainHttp`: then plain HTTP directly, with no HTTPS attempt first, as
 * the key says what the registry speaks. A certificate from a CA this process does not trust fails
 * with the fix (./registry-trust.ts), never with a retry.
 */
import * as http from "http";
import * as https from "https";
import { untrustedCaError } from "./registry-trust";
import { answersPlainHttp, isNotTls, plainHttpRealm } from "./registry-plain-http";

export interface RegistryImage {
    /** host[:port] */
    server: string;
    /** `stock:harborPlainHttp`: ask over plain HTTP, not HTTPS (credentials unencrypted). */
    plainHttp: boolean;
    /** Path inside the registry, e.g. `library/stock_backend`. */
    repository: string;
    tag: string;
}

export interface RegistryCredentials {
    username: string;
    password: string;
}

/** The digest of the manifest the tag points at (`sha256:…`), or null when the registry has no such tag. */
export type TagLookup = (image: RegistryImage, credentials: RegistryCredentials) => Promise<string | null>;

const MANIFEST_TYPES = [
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.docker.distribution.manifest.v2+json",
].join(", ");

interface Answer {
    status: number;
    headers: http.IncomingHttpHeaders;
    body: string;
}

function request(url: URL, method: string, headers: Record<string, string>, timeoutMs: number): Promise<Answer> {
    const lib = url.protocol === "https:" ? https : http;
    return new Promise((resolve, reject) => {
        const req = lib.request(url, { method, headers, timeout: timeoutMs }, (res) => {
            let body = "";
            res.setEncoding("utf8");
            res.on("data", (d: string) => (body += d.length + body.length < 65536 ? d : ""));
            res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
        });
        req.on("timeout", () => req.destroy(new Error(`no answer from ${url.host} within ${timeoutMs} ms`)));
        req.on("error", (e) => {
            if (url.protocol === "https:" && isNotTls(e)) return reject(answersPlainHttp(url, e));
            reject(untrustedCaError(url, e, process.env.NODE_EXTRA_CA_CERTS) ?? e);
        });
        req.end();
    });
}

/** `Bearer realm="…",service="…",scope="…"` → its parameters. */
export function parseChallenge(header: string): { scheme: string; params: Record<string, string> } {
    const [scheme, ...rest] = header.trim().split(/\s+/);
    const params: Record<string, string> = {};
    for (const m of rest.join(" ").matchAll(/(\w+)="([^"]*)"/g)) params[m[1]] = m[2];
    return { scheme: scheme.toLowerCase(), params };
}

function basic(c: RegistryCredentials): string {
    return `Basic ${Buffer.from(`${c.username}:${c.password}`).toString("base64")}`;
}

async function lookupAt(base: string, image: RegistryImage, credentials: RegistryCredentials, timeoutMs: number): Promise<string | null> {
    const url = new URL(`${base}/v2/${image.repository}/manifests/${encodeURIComponent(image.tag)}`);
    const ask = (authorization?: string) =>
        request(url, "HEAD", { Accept: MANIFEST_TYPES, ...(authorization ? { Authorization: authorization } : {}) }, timeoutMs);
    let answer = await ask();
    if (answer.status === 401) {
        const challenge = parseChallenge(String(answer.headers["www-authenticate"] ?? ""));
        if (challenge.scheme === "bearer" && challenge.params.realm) {
            const tokenUrl = new URL(challenge.params.realm);
            if (tokenUrl.protocol !== "https:" && !image.plainHttp) throw plainHttpRealm(image.server, tokenUrl);
            if (challenge.params.service) tokenUrl.searchParams.set("service", challenge.params.service);
            tokenUrl.searchParams.set("scope", challenge.params.scope ?? `repository:${image.repository}:pull`);
            const token = await request(tokenUrl, "GET", { Authorization: basic(credentials) }, timeoutMs);
            if (token.status !== 200)
                throw new Error(`the registry's token service (${tokenUrl.origin}) refused ${credentials.username}: HTTP ${token.status}`);
            const parsed = JSON.parse(token.body) as { token?: string; access_token?: string };
            answer = await ask(`Bearer ${parsed.token ?? parsed.access_token}`);
        } else {
            answer = await ask(basic(credentials));
        }
    }
    if (answer.status === 200) return String(answer.headers["docker-content-digest"] ?? "") || "sha256:unknown";
    if (answer.status === 404) return null;
    if (answer.status === 401 || answer.status === 403)
        throw new Error(`${image.server} refused ${credentials.username} reading ${image.repository} (HTTP ${answer.status})`);
    throw new Error(`${image.server} answered HTTP ${answer.status} for ${image.repository}:${image.tag}`);
}

/** The real lookup (see the top of this file). */
export const registryTagDigest: TagLookup = (image, credentials) =>
    lookupAt(`${image.plainHttp ? "http" : "https"}://${image.server}`, image, credentials, 15_000);
