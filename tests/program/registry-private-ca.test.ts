/**
 * A Harbor behind a private CA: a loopback HTTPS stand-in for Harbor's
 * `HEAD /v2/<project>/<repo>/manifests/<tag>`, its certificate signed by a throwaway CA made here
 * with openssl. A tenant's tag check runs in a child process (Node reads NODE_EXTRA_CA_CERTS only at
 * start-up): without the CA it fails naming the URL, the TLS cause and the fix; with it, it reports
 * the tag present or absent.
 */
import * as assert from "assert";
import { execFile } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as https from "https";
import { AddressInfo } from "net";
import * as os from "os";
import * as path from "path";
import { promisify } from "util";
import { REPO_ROOT } from "../../components/names";
import { TagCheckRequest } from "../../components/images/tag-check";
import { OPENSSL, requireRealServers, runToCompletion } from "../support/real-servers";

const DIGEST = `sha256:${"cd".repeat(32)}`;
const PUSHED = "ctx-0123456789abcdef";
const MISSING = "ctx-ffffffffffffffff";
const ROBOT = { username: "robot$stock-pull-client-a", password: "FAKE-SECRET-pull-token", key: "stock:harborPullUsername" };
const CHILD = path.join(REPO_ROOT, "tests/support/tag-check-child.ts");

interface Certificates {
    /** The private CA's certificate: what NODE_EXTRA_CA_CERTS names. */
    caFile: string;
    /** Another CA, which signed nothing the server presents. */
    otherCaFile: string;
    leafKey: string;
    leafCert: string;
    caCert: string;
    selfSignedKey: string;
    selfSignedCert: string;
}

/** A throwaway CA, a certificate it signs for 127.0.0.1, another CA and a self-signed 127.0.0.1. */
function makeCertificates(dir: string): Certificates {
    const file = (name: string) => path.join(dir, name);
    const ssl = (...args: string[]) => runToCompletion(OPENSSL, args, { cwd: dir, timeoutMs: 30_000 });
    const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
    const ca = (name: string) =>
        ssl(
            "req",
            "-x509",
            ...ec,
            "-keyout",
            `${name}.key`,
            "-out",
            `${name}.pem`,
            "-days",
            "1",
            "-subj",
            `/CN=FAKE ${name} for stock-deploy tests`,
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        );
    ca("test-ca");
    ca("other-ca");
    fs.writeFileSync(file("leaf.ext"), "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n");
    ssl("req", "-new", ...ec, "-keyout", "leaf.key", "-out", "leaf.csr", "-subj", "/CN=127.0.0.1");
    ssl(
        "x509",
        "-req",
        "-in",
        "leaf.csr",
        "-CA",
        "test-ca.pem",
        "-CAkey",
        "test-ca.key",
        "-CAcreateserial",
        "-days",
        "1",
        "-extfile",
        "leaf.ext",
        "-out",
        "leaf.pem",
    );
    ssl(
        "req",
        "-x509",
        ...ec,
        "-keyout",
        "self.key",
        "-out",
        "self.pem",
        "-days",
        "1",
        "-subj",
        "/CN=127.0.0.1",
        "-addext",
        "subjectAltName=IP:127.0.0.1",
    );
    const read = (name: string) => fs.readFileSync(file(name), "utf8");
    return {
        caFile: file("test-ca.pem"),
        otherCaFile: file("other-ca.pem"),
        leafKey: read("leaf.key"),
        leafCert: read("leaf.pem"),
        caCert: read("test-ca.pem"),
        selfSignedKey: read("self.key"),
        selfSignedCert: read("self.pem"),
    };
}

interface FakeHarbor {
    server: string;
    requests: string[];
    close(): Promise<void>;
}

/** Harbor's manifest HEAD over TLS, Basic challenge (or `challenge`), one pushed tag. */
function fakeHarbor(key: string, cert: string, challenge = 'Basic realm="harbor"'): Promise<FakeHarbor> {
    const requests: string[] = [];
    const basic = `Basic ${Buffer.from(`${ROBOT.username}:${ROBOT.password}`).toString("base64")}`;
    const srv = https.createServer({ key, cert }, (req, res) => {
        requests.push(`${req.method} ${req.url}`);
        const m = /^\/v2\/library\/stock_backend\/manifests\/(.+)$/.exec(req.url ?? "");
        if (!m || req.method !== "HEAD") return res.writeHead(404).end();
        if (req.headers.authorization !== basic) return res.writeHead(401, { "www-authenticate": challenge }).end();
        if (m[1] === PUSHED) return res.writeHead(200, { "docker-content-digest": DIGEST }).end();
        return res.writeHead(404).end();
    });
    srv.on("tlsClientError", () => undefined);
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

type ChildAnswer = { tag: string; digest?: string; error?: string; name?: string };

/** The tag check for `tags` in a fresh Node process whose only CA setting is `extraCaFile`. */
async function tagCheckInChild(server: string, tags: string[], extraCaFile?: string): Promise<ChildAnswer[]> {
    const env = { ...process.env };
    for (const k of ["NODE_EXTRA_CA_CERTS", "NODE_OPTIONS", "SSL_CERT_FILE", "SSL_CERT_DIR", "NODE_TLS_REJECT_UNAUTHORIZED"]) delete env[k];
    if (extraCaFile) env.NODE_EXTRA_CA_CERTS = extraCaFile;
    const request: Omit<TagCheckRequest, "preview"> = {
        image: { repository: `${server}/library/stock_backend`, tag: "" },
        plainHttp: false,
        credentials: ROBOT,
        stack: "client-a",
        builtBy: "images",
    };
    const { stdout } = await promisify(execFile)(
        process.execPath,
        ["-r", "ts-node/register/transpile-only", CHILD, JSON.stringify(request), ...tags],
        { cwd: REPO_ROOT, env, timeout: 60_000, killSignal: "SIGKILL" },
    );
    return stdout
        .trim()
        .split("\n")
        .filter((l) => l.startsWith("{"))
        .map((l) => JSON.parse(l) as ChildAnswer);
}

/** The untrusted-CA failure: the URL, the TLS cause, both fixes, and no generic "reachable" advice. */
function assertUntrustedCa(answer: ChildAnswer, server: string, code: string, caSetting: RegExp): void {
    const error = answer.error ?? assert.fail(`the tag check succeeded: ${JSON.stringify(answer)}`);
    const escaped = server.replace(/\./g, "\\.");
    assert.strictEqual(answer.name, "ImageNotInRegistryError");
    assert.match(
        error,
        new RegExp(
            `^Stack 'client-a' cannot tell whether ${escaped} has the backend image ${escaped}/library/stock_backend:${answer.tag}: `,
        ),
    );
    assert.match(
        error,
        new RegExp(`TLS to https://${escaped} failed: ${escaped}'s certificate is signed by a CA this program does not trust \\(${code}: `),
    );
    assert.match(error, caSetting);
    assert.match(
        error,
        /Fix: keep TLS verification on and trust the CA instead: if .* uses a private CA, .*`export NODE_EXTRA_CA_CERTS=\/path\/to\/harbor-ca\.pem`/,
    );
    assert.match(error, new RegExp(`/etc/docker/certs\\.d/${escaped}/ca\\.crt`));
    assert.match(error, new RegExp(`\\[registry\\."${escaped}"\\] ca = \\["/path/to/harbor-ca\\.pem"\\].*--buildkitd-config`));
    assert.doesNotMatch(error, /fetch failed|is reachable from here/);
}

describe("registry lookup: a Harbor behind a private CA (real HTTPS on loopback, openssl CA, child processes)", function () {
    this.timeout(120_000);
    let dir = "";
    let certs: Certificates;
    const harbors: FakeHarbor[] = [];
    let leafOnly: FakeHarbor; // presents its certificate alone: UNABLE_TO_VERIFY_LEAF_SIGNATURE
    let withChain: FakeHarbor; // presents the CA too: SELF_SIGNED_CERT_IN_CHAIN
    let selfSigned: FakeHarbor; // DEPTH_ZERO_SELF_SIGNED_CERT

    before(async function () {
        requireRealServers(this, { modules: [], openssl: true });
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "stock-private-ca-"));
        certs = makeCertificates(dir);
        leafOnly = await fakeHarbor(certs.leafKey, certs.leafCert);
        withChain = await fakeHarbor(certs.leafKey, certs.leafCert + certs.caCert);
        selfSigned = await fakeHarbor(certs.selfSignedKey, certs.selfSignedCert);
        harbors.push(leafOnly, withChain, selfSigned);
    });

    after(async function () {
        await Promise.all(harbors.map((h) => h.close()));
        if (dir) fs.rmSync(dir, { recursive: true, force: true });
    });

    it("without NODE_EXTRA_CA_CERTS: fails naming the Harbor URL, the TLS cause and the fix, and sends no request (no plain-HTTP retry)", async function () {
        const cases: [FakeHarbor, string][] = [
            [leafOnly, "UNABLE_TO_VERIFY_LEAF_SIGNATURE"],
            [withChain, "SELF_SIGNED_CERT_IN_CHAIN"],
            [selfSigned, "DEPTH_ZERO_SELF_SIGNED_CERT"],
        ];
        const answers = await Promise.all(cases.map(([h]) => tagCheckInChild(h.server, [PUSHED])));
        cases.forEach(([h, code], i) => {
            assert.strictEqual(answers[i].length, 1, JSON.stringify(answers[i]));
            assertUntrustedCa(answers[i][0], h.server, code, /NODE_EXTRA_CA_CERTS is not set/);
            assert.deepStrictEqual(h.requests, [], `${h.server} was asked over an unverified connection`);
        });
    });

    it("with NODE_EXTRA_CA_CERTS naming another CA: the same failure, saying the file does not hold Harbor's CA", async function () {
        const [answer] = await tagCheckInChild(leafOnly.server, [PUSHED], certs.otherCaFile);
        assertUntrustedCa(
            answer,
            leafOnly.server,
            "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
            new RegExp(`NODE_EXTRA_CA_CERTS=${certs.otherCaFile.replace(/\./g, "\\.")} is set but does not hold that CA`),
        );
    });

    it("with NODE_EXTRA_CA_CERTS=<the CA>: reports the pushed tag's digest and refuses the missing one as not in Harbor", async function () {
        for (const harbor of [leafOnly, withChain]) {
            const [pushed, missing] = await tagCheckInChild(harbor.server, [PUSHED, MISSING], certs.caFile);
            assert.deepStrictEqual(pushed, { tag: PUSHED, digest: DIGEST });
            assert.strictEqual(missing.name, "ImageNotInRegistryError", JSON.stringify(missing));
            assert.match(
                missing.error!,
                new RegExp(`stock_backend:${MISSING}, which is not in ${harbor.server.replace(/\./g, "\\.")} yet`),
            );
            assert.deepStrictEqual(
                harbor.requests.filter((r) => r.includes("/manifests/")).map((r) => r.replace(/ .*\//, " ")),
                [`HEAD ${PUSHED}`, `HEAD ${PUSHED}`, `HEAD ${MISSING}`, `HEAD ${MISSING}`],
            );
            harbor.requests.length = 0;
        }
    });

    it("a Harbor over TLS whose challenge names a plain-HTTP token service: refused naming stock:harborPlainHttp, and the token service gets no credentials", async function () {
        const tokenRequests: string[] = [];
        const tokenService = http.createServer((req, res) => (tokenRequests.push(`${req.method} ${req.url}`), res.writeHead(500).end()));
        await new Promise<void>((r) => tokenService.listen(0, "127.0.0.1", () => r()));
        const tokenPort = (tokenService.address() as AddressInfo).port;
        const harbor = await fakeHarbor(
            certs.leafKey,
            certs.leafCert,
            `Bearer realm="http://127.0.0.1:${tokenPort}/service/token",service="harbor-registry"`,
        );
        harbors.push(harbor);
        try {
            const [answer] = await tagCheckInChild(harbor.server, [PUSHED], certs.caFile);
            assert.strictEqual(answer.name, "ImageNotInRegistryError", JSON.stringify(answer));
            assert.match(
                answer.error!,
                new RegExp(
                    `${harbor.server.replace(/\./g, "\\.")}'s challenge names a plain-HTTP token service \\(http://127\\.0\\.0\\.1:${tokenPort}\\), and stock:harborPlainHttp is false, so the robot's credentials were not sent to it\\. Fix: put 127\\.0\\.0\\.1:${tokenPort} behind TLS .*pulumi config set stock:harborPlainHttp true -s client-a \\(stack file Pulumi\\.client-a\\.yaml\\)`,
                ),
            );
            assert.deepStrictEqual(
                harbor.requests,
                [`HEAD /v2/library/stock_backend/manifests/${PUSHED}`],
                "asked once, without credentials",
            );
            assert.deepStrictEqual(tokenRequests, [], "the plain-HTTP token service was never asked");
        } finally {
            await new Promise<void>((r) => tokenService.close(() => r()));
        }
    });
});
