import * as assert from "assert";
import * as http from "http";
import { AddressInfo } from "net";
import { parseChallenge, registryTagDigest } from "../../components/images/registry";
import { deadPort } from "../support/real-servers";

const DIGEST = `sha256:${"ab".repeat(32)}`;
const ROBOT = { username: "robot$stock-pull-client-a", password: "FAKE-SECRET-pull-token" };

/** A loopback stand-in for Harbor's registry API: Bearer challenge, token service with Basic auth, one tag. */
function fakeHarbor(mode: "bearer" | "basic"): Promise<{ server: string; requests: string[]; close(): Promise<void> }> {
    const requests: string[] = [];
    const basic = `Basic ${Buffer.from(`${ROBOT.username}:${ROBOT.password}`).toString("base64")}`;
    const srv = http.createServer((req, res) => {
        requests.push(`${req.method} ${req.url}`);
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
    return new Promise((resolve) =>
        srv.listen(0, "127.0.0.1", () =>
            resolve({
                server: `127.0.0.1:${(srv.address() as AddressInfo).port}`,
                requests,
                close: () => new Promise((r) => srv.close(() => r())),
            }),
        ),
    );
}

describe("registry lookup: is a tag in Harbor (Docker Registry HTTP API v2, real loopback server)", () => {
    for (const mode of ["bearer", "basic"] as const) {
        it(`answers the ${mode} challenge and returns the digest of a pushed tag, null for a missing one`, async () => {
            const harbor = await fakeHarbor(mode);
            try {
                const image = { server: harbor.server, repository: "library/stock_backend", tag: "ctx-0123456789abcdef" };
                assert.strictEqual(await registryTagDigest(image, ROBOT), DIGEST);
                assert.strictEqual(await registryTagDigest({ ...image, tag: "ctx-ffffffffffffffff" }, ROBOT), null);
                assert.ok(
                    harbor.requests.every((r) => r.startsWith("HEAD /v2/") || r.startsWith("GET /service/token")),
                    harbor.requests.join("\n"),
                );
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
                    { server: harbor.server, repository: "library/stock_backend", tag: "ctx-0123456789abcdef" },
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
                registryTagDigest({ server: dead.address, repository: "library/stock_backend", tag: "ctx-0123456789abcdef" }, ROBOT),
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
