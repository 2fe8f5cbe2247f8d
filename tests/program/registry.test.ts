import * as assert from "assert";
import * as http from "http";
import { AddressInfo } from "net";
import { parseChallenge, registryTagDigest } from "../../components/images/registry";
import { PlainHttpRegistryError } from "../../components/images/registry-plain-http";
import { deadPort } from "../support/real-servers";

const DIGEST = `sha256:${"ab".repeat(32)}`;
const ROBOT = { username: "robot$stock-pull-client-a", password: "FAKE-SECRET-pull-token" };

interface FakeHarbor {
    server: string;
    /** Every HTTP request it parsed, as `METHOD url`. */
    requests: string[];
    /** How many of them carried an Authorization header (credentials or a token from them). */
    authorized(): number;
    /** TCP connections accepted. */
    connections(): number;
    /** Connections whose first bytes were no HTTP request (a TLS ClientHello, for one). */
    notHttp(): number;
    close(): Promise<void>;
}

/** A loopback plain-HTTP stand-in for Harbor's registry API: Bearer challenge, token service with Basic auth, one tag. */
function fakeHarbor(mode: "bearer" | "basic"): Promise<FakeHarbor> {
    const requests: string[] = [];
    let authorized = 0;
    let connections = 0;
    let notHttp = 0;
    const basic = `Basic ${Buffer.from(`${ROBOT.username}:${ROBOT.password}`).toString("base64")}`;
    const srv = http.createServer((req, res) => {
        requests.push(`${req.method} ${req.url}`);
        if (req.headers.authorization !== undefined) authorized++;
        const url = new URL(req.url!, "http://x");
        if (url.pathname === "/service/token") {
            if (req.headers.authorization !== basic) return res.writeHead(401).end();
            if (
                url.searchParams.get("scope") !== "repository:library/stock_backend:pull" ||
                url.searchParams.get("service") !== "harbor-registry"
            )
                return res.writeHead(400).end();
            return res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ token: "fake-bearer-token" }));
        }
        const m = /^\/v2\/library\/stock_backend\/manifests\/(.+)$/.exec(url.pathname);
        if (!m) return res.writeHead(404).end();
        const wanted = mode === "bearer" ? "Bearer fake-bearer-token" : basic;
        if (req.headers.authorization !== wanted) {
            const port = (srv.address() as AddressInfo).port;
            const challenge =
                mode === "bearer"
                    ? `Bearer realm="http://127.0.0.1:${port}/service/token",service="harbor-registry",scope="repository:library/stock_backend:pull"`
                    : 'Basic realm="harbor"';
            return res.writeHead(401, { "www-authenticate": challenge }).end();
        }
        if (!String(req.headers.accept).includes("application/vnd.oci.image.index.v1+json")) return res.writeHead(406).end();
        if (m[1] === "ctx-0123456789abcdef") return res.writeHead(200, { "docker-content-digest": DIGEST }).end();
        return res.writeHead(404).end();
    });
    srv.on("connection", () => connections++);
    srv.on("clientError", (_e, socket) => {
        notHttp++;
        // What Node's HTTP server (and any plain-HTTP registry) answers to bytes that are no request.
        socket.end("HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n");
    });
    return new Promise((resolve) =>
        srv.listen(0, "127.0.0.1", () =>
            resolve({
                server: `127.0.0.1:${(srv.address() as AddressInfo).port}`,
                requests,
                authorized: () => authorized,
                connections: () => connections,
                notHttp: () => notHttp,
                close: () => new Promise((r) => (srv.closeAllConnections(), srv.close(() => r()))),
            }),
        ),
    );
}

describe("registry lookup: is a tag in Harbor (Docker Registry HTTP API v2, real loopback server)", () => {
    for (const mode of ["bearer", "basic"] as const) {
        it(`with stock:harborPlainHttp true: answers the ${mode} challenge over plain HTTP, with no HTTPS attempt, and returns the digest of a pushed tag, null for a missing one`, async () => {
            const harbor = await fakeHarbor(mode);
            try {
                const image = { server: harbor.server, plainHttp: true, repository: "library/stock_backend", tag: "ctx-0123456789abcdef" };
                assert.strictEqual(await registryTagDigest(image, ROBOT), DIGEST);
                assert.strictEqual(await registryTagDigest({ ...image, tag: "ctx-ffffffffffffffff" }, ROBOT), null);
                assert.ok(
                    harbor.requests.every((r) => r.startsWith("HEAD /v2/") || r.startsWith("GET /service/token")),
                    harbor.requests.join("\n"),
                );
                assert.ok(harbor.authorized() >= 2, `the challenge was answered: ${harbor.requests.join("\n")}`);
                assert.strictEqual(harbor.notHttp(), 0, "no TLS handshake was tried first");
            } finally {
                await harbor.close();
            }
        });

        it(`with stock:harborPlainHttp false: refuses a plain-HTTP registry (${mode} challenge) naming it and the key, and sends it no request, so no credentials`, async () => {
            const harbor = await fakeHarbor(mode);
            try {
                const image = { server: harbor.server, plainHttp: false, repository: "library/stock_backend", tag: "ctx-0123456789abcdef" };
                const escaped = harbor.server.replace(/\./g, "\\.");
                await assert.rejects(registryTagDigest(image, ROBOT), (e: Error) => {
                    assert.ok(e instanceof PlainHttpRegistryError, `${e.name}: ${e.message}`);
                    assert.match(e.message, new RegExp(`^${escaped} answers plain HTTP, not TLS \\(`));
                    assert.match(e.message, /stock:harborPlainHttp is false, so no credentials were sent to it/);
                    assert.match(
                        e.fixFor("client-a"),
                        new RegExp(
                            `^put ${escaped} behind TLS .*only for a registry on a network you trust, since the robot's credentials then cross it unencrypted: pulumi config set stock:harborPlainHttp true -s client-a \\(stack file Pulumi\\.client-a\\.yaml\\)`,
                        ),
                    );
                    return true;
                });
                assert.strictEqual(harbor.connections(), 1, "one TLS attempt, no plain-HTTP retry");
                assert.strictEqual(harbor.notHttp(), 1, "that one connection carried a TLS handshake, not a request");
                assert.deepStrictEqual(harbor.requests, [], "no HTTP request reached the plain-HTTP registry");
                assert.strictEqual(harbor.authorized(), 0, "no credentials reached it");
            } finally {
                await harbor.close();
            }
        });
    }

    it("says who was refused when the credentials are wrong", async () => {
        const harbor = await fakeHarbor("bearer");
        try {
            await assert.rejects(
                registryTagDigest(
                    { server: harbor.server, plainHttp: true, repository: "library/stock_backend", tag: "ctx-0123456789abcdef" },
                    { ...ROBOT, password: "FAKE-SECRET-wrong" },
                ),
                /token service .* refused robot\$stock-pull-client-a: HTTP 401/,
            );
        } finally {
            await harbor.close();
        }
    });

    it("fails, without a plain-HTTP retry, when the registry is down (its port resets every connection)", async () => {
        // A port this test holds, not one it freed: another process could take a freed one and answer.
        const dead = await deadPort();
        try {
            await assert.rejects(
                registryTagDigest(
                    { server: dead.address, plainHttp: false, repository: "library/stock_backend", tag: "ctx-0123456789abcdef" },
                    ROBOT,
                ),
                /ECONNRESET/,
            );
            assert.strictEqual(dead.connections(), 1, "one HTTPS attempt, no plain-HTTP retry");
        } finally {
            await dead.close();
        }
    });

    it("parses Harbor's challenge", () => {
        assert.deepStrictEqual(parseChallenge('Bearer realm="https://harbor.feng.local:9800/service/token",service="harbor-registry"'), {
            scheme: "bearer",
            params: { realm: "https://harbor.feng.local:9800/service/token", service: "harbor-registry" },
        });
    });
});
