import { strict as assert } from "node:assert";
import { ChildProcess, spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import * as zlib from "node:zlib";
import { K8sObject, renderChart } from "../../tools/lib/helm";
import {
  describePublicEntry,
  describeStandardChecks,
  TEST_TAG,
  assertImage,
  assertValidRender,
  ciFile,
  container,
  ofKind,
  one,
  primeChart,
  profileFiles,
  programValues,
  render,
  renderError,
} from "./assertions";

const CHART = "frontend" as const;
const REPO = "harbor.feng.local:9800/library/frontend_stock";
const NAME = "stock-frontend";
const ci = (scenario: string) => ciFile(CHART, scenario);
const tagged = (extra: object = {}) => ({ image: { tag: TEST_TAG }, ...extra });
const nginxConfig = (objs: K8sObject[]) => one(objs, "ConfigMap", `${NAME}-nginx`).data as { "nginx.conf": string; "default.conf": string };

describe("charts/frontend", function () {
  before(() => primeChart(CHART));

  describeStandardChecks(CHART);

  describe("renders the program's contract", function () {
    it("with the values the program computes (every contract key)", async function () {
      const objs = await renderChart(CHART, programValues(CHART), "client-b");
      await assertValidRender(objs, "client-b");
      const annotations = one(objs, "Deployment", NAME).spec.template.metadata.annotations;
      assert.equal(annotations["checksum/env"], "0123456789abcdef");
      assert.match(annotations["checksum/nginx-config"], /^[0-9a-f]{64}$/);
    });
  });

  describe("default render", function () {
    it("runs nginx as uid 101 on 8080 behind Service port 80", async function () {
      const objs = await render(CHART, tagged());
      const d = one(objs, "Deployment", NAME);
      const c = container(d, "nginx");
      assert.deepEqual(c.ports, [{ name: "http", containerPort: 8080, protocol: "TCP" }]);
      assert.equal(c.securityContext.runAsUser, 101);
      assert.deepEqual(c.command, ["nginx", "-c", "/etc/nginx/nginx.conf", "-g", "daemon off;"]);
      assert.deepEqual(one(objs, "Service", NAME).spec.ports, [{ name: "http", port: 80, targetPort: "http", protocol: "TCP" }]);
      assert.equal(c.envFrom, undefined, "a static site needs no env");
    });

    it("uses the image tag and the harbor pull secret", async function () {
      assertImage(await render(CHART, tagged()), `${REPO}:${TEST_TAG}`);
    });

    it("probes /healthz", async function () {
      const c = container(one(await render(CHART, tagged()), "Deployment"));
      for (const p of ["startupProbe", "livenessProbe", "readinessProbe"]) assert.deepEqual(c[p].httpGet, { path: "/healthz", port: "http" }, p);
    });

    it("mounts both nginx config files from the ConfigMap and keeps writable paths on emptyDirs", async function () {
      const d = one(await render(CHART, tagged()), "Deployment");
      const mounts = container(d).volumeMounts as Array<{ name: string; mountPath: string; subPath?: string }>;
      const volumes = new Map<string, K8sObject>(d.spec.template.spec.volumes.map((v: K8sObject) => [v.name, v]));
      const conf = mounts.filter((m) => m.subPath);
      assert.deepEqual(conf.map((m) => [m.mountPath, m.subPath]), [["/etc/nginx/nginx.conf", "nginx.conf"], ["/etc/nginx/conf.d/default.conf", "default.conf"]]);
      for (const m of conf) assert.equal(volumes.get(m.name)?.configMap?.name, `${NAME}-nginx`);
      for (const p of ["/tmp", "/var/cache/nginx"]) assert.ok(volumes.get(mounts.find((m) => m.mountPath === p)!.name)?.emptyDir, p);
    });

    it("configures nginx for a read-only root and a non-root user", async function () {
      const conf = nginxConfig(await render(CHART, tagged()))["nginx.conf"];
      assert.match(conf, /^pid \/tmp\/nginx\.pid;$/m);
      for (const t of ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"]) assert.match(conf, new RegExp(`^\\s*${t}_temp_path\\s+/tmp/`, "m"), t);
      assert.doesNotMatch(conf, /^\s*user\s/m);
      assert.doesNotMatch(conf, /daemon/);
      assert.match(conf, /^\s*gzip on;$/m);
      assert.match(conf, /include \/etc\/nginx\/conf\.d\/\*\.conf;/);
    });

    it("serves the SPA: listen 8080, fallback to index.html, immutable assets, no-cache index, /healthz", async function () {
      const site = nginxConfig(await render(CHART, tagged()))["default.conf"];
      assert.match(site, /^\s*listen 8080;$/m);
      assert.doesNotMatch(site, /listen \[::\]/);
      assert.match(site, /^\s*root \/usr\/share\/nginx\/html;$/m);
      assert.match(site, /try_files \$uri \$uri\/ \/index\.html;/);
      assert.match(site, /location \/static\/ \{\s*add_header Cache-Control "public, max-age=31536000, immutable";/);
      assert.match(site, /location = \/index\.html \{\s*add_header Cache-Control "no-cache";/);
      assert.match(site, /location = \/healthz \{[^}]*return 200/);
    });

    it("rolls the pods when, and only when, the nginx configuration changes", async function () {
      const sum = async (values: object) => one(await render(CHART, tagged(values)), "Deployment").spec.template.metadata.annotations["checksum/nginx-config"];
      const [base, replicas, gzip] = await Promise.all([sum({}), sum({ replicaCount: 5 }), sum({ nginx: { gzip: false } })]);
      assert.equal(base, replicas);
      assert.notEqual(base, gzip);
    });

    it("has no Ingress and no HPA, but a PDB", async function () {
      const objs = await render(CHART, tagged());
      assert.equal(ofKind(objs, "Ingress").length, 0);
      assert.equal(ofKind(objs, "HorizontalPodAutoscaler").length, 0);
      assert.equal(ofKind(objs, "PodDisruptionBudget").length, 1);
    });
  });

  describe("values", function () {
    it("nginx options: IPv6, gzip off, access log off, extra server config", async function () {
      const conf = nginxConfig(await render(CHART, {}, [ci("nginx-tuned")]));
      assert.match(conf["default.conf"], /listen \[::\]:8080;/);
      assert.doesNotMatch(conf["nginx.conf"], /gzip on/);
      assert.match(conf["nginx.conf"], /access_log off;/);
      assert.match(conf["nginx.conf"], /^worker_processes 2;$/m);
      assert.match(conf["default.conf"], /location = \/robots\.txt \{/);
    });

    it("creates HPA and PDB only when enabled, leaving replicas to the HPA", async function () {
      const on = await render(CHART, {}, [ci("hpa-pdb")]);
      assert.equal(one(on, "HorizontalPodAutoscaler").spec.scaleTargetRef.name, NAME);
      assert.equal(one(on, "Deployment").spec.replicas, undefined);
      assert.equal(one(on, "PodDisruptionBudget").spec.minAvailable, 1);
      const off = await render(CHART, {}, [ci("networkpolicy-off")]);
      assert.equal(ofKind(off, "HorizontalPodAutoscaler").length, 0);
      assert.equal(ofKind(off, "PodDisruptionBudget").length, 0);
    });
  });

  describePublicEntry(CHART, NAME, "/");

  describe("ingress", function () {
    for (const client of ["client-a", "client-b"]) {
      it(`profiles/${client}.yaml uses the host the API profile uses for /api: one host per customer`, async function () {
        const ing = one(await render(CHART, tagged(), [profileFiles(CHART).find((p) => path.basename(p) === `${client}.yaml`) as string]), "Ingress");
        const apiIng = one(await render("backend-api", tagged(), [profileFiles("backend-api").find((p) => path.basename(p) === `${client}.yaml`) as string]), "Ingress");
        assert.equal(apiIng.spec.rules[0].host, ing.spec.rules[0].host);
        assert.equal(apiIng.spec.rules[0].http.paths[0].path, "/api");
      });
    }
  });

  describe("network policy", function () {
    it("lets nothing out", async function () {
      assert.deepEqual(one(await render(CHART, tagged()), "NetworkPolicy", NAME).spec.egress, []);
    });

    it("is absent when disabled", async function () {
      assert.equal(ofKind(await render(CHART, {}, [ci("networkpolicy-off")]), "NetworkPolicy").length, 0);
    });
  });

  describe("schema and required values", function () {
    it('rejects replicaCount: "two"', async function () {
      const msg = await renderError(CHART, tagged({ replicaCount: "two" }));
      assert.match(msg, /replicaCount/);
    });

    it("rejects an unknown top-level key (env belongs to the backend charts)", async function () {
      const msg = await renderError(CHART, tagged({ env: { configmap: "x", secret: "y" } }));
      assert.match(msg, /'env'/);
      assert.match(msg, /additional propert/i);
    });

    it("fails with a clear message when image.tag is empty", async function () {
      assert.match(await renderError(CHART, {}), /image\.tag is required/);
    });

    it("rejects a privileged container port", async function () {
      assert.match(await renderError(CHART, tagged({ containerPorts: { http: 80 } })), /containerPorts\/http/);
    });
  });

  // The rendered configuration, run by a real nginx as an unprivileged user. Needs
  // an nginx binary (Debian: apt-get install nginx-light); skipped without one.
  describe("the rendered nginx configuration, served by a real nginx", function () {
    let nginx: ChildProcess | undefined;
    let port = 0;
    let work = "";
    let stderr = "";

    before(async function () {
      const bin = ["/usr/sbin/nginx", "/usr/bin/nginx"].find((p) => fs.existsSync(p));
      if (!bin || spawnSync(bin, ["-v"]).status !== 0) this.skip();
      port = await freePort();
      const conf = nginxConfig(await render(CHART, tagged({ containerPorts: { http: port } })));
      work = fs.mkdtempSync(path.join(os.tmpdir(), "stock-frontend-nginx-"));
      const html = path.join(work, "html");
      fs.mkdirSync(path.join(html, "static", "js"), { recursive: true });
      fs.writeFileSync(path.join(html, "index.html"), "<!doctype html><title>stock</title><div id=root></div>");
      fs.writeFileSync(path.join(html, "static", "js", "main.0123abcd.js"), `console.log(${JSON.stringify("x".repeat(4096))});`);
      // Only paths move: /tmp and /etc/nginx/conf.d into the work directory, the web root to the fake build.
      const tmp = path.join(work, "tmp");
      fs.mkdirSync(tmp);
      fs.writeFileSync(path.join(work, "default.conf"), conf["default.conf"].replace("root /usr/share/nginx/html;", `root ${html};`));
      fs.writeFileSync(path.join(work, "nginx.conf"), conf["nginx.conf"].replace(/\/tmp\//g, `${tmp}/`).replace("/etc/nginx/conf.d/*.conf", path.join(work, "default.conf")));
      fs.chmodSync(work, 0o755);
      for (const d of [tmp, html]) fs.chmodSync(d, 0o777);
      const nobody = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
      nginx = spawn(bin, ["-c", path.join(work, "nginx.conf"), "-p", work, "-g", "daemon off;"], { ...nobody, stdio: ["ignore", "ignore", "pipe"] });
      nginx.stderr!.on("data", (b) => (stderr += String(b)));
      const deadline = Date.now() + 5000;
      for (;;) {
        if (nginx.exitCode !== null) throw new Error(`nginx exited with ${nginx.exitCode}: ${stderr}`);
        try {
          if ((await get("/healthz")).status === 200) break;
        } catch {
          /* not listening yet */
        }
        if (Date.now() > deadline) throw new Error(`nginx did not answer within 5 s: ${stderr}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    });

    after(async function () {
      if (nginx && nginx.exitCode === null) {
        const exited = new Promise((r) => nginx!.once("exit", r));
        nginx.kill("SIGTERM");
        await exited;
      }
      if (work) fs.rmSync(work, { recursive: true, force: true });
    });

    function get(p: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
      return new Promise((resolve, reject) => {
        const req = http.get({ host: "127.0.0.1", port, path: p, headers, timeout: 2000 }, (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c) => chunks.push(c));
          res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
        });
        req.on("timeout", () => req.destroy(new Error("timeout")));
        req.on("error", reject);
      });
    }

    it("answers /healthz with 200 whatever the Host header", async function () {
      const r = await get("/healthz", { Host: "app.client-a.feng.local" });
      assert.equal(r.status, 200);
      assert.equal(r.body.toString(), "ok\n");
    });

    it("falls back to index.html, marked no-cache, for client-side routes", async function () {
      const r = await get("/portfolio/42");
      assert.equal(r.status, 200);
      assert.match(r.body.toString(), /<div id=root>/);
      assert.equal(r.headers["cache-control"], "no-cache");
      assert.equal((await get("/")).headers["cache-control"], "no-cache");
    });

    it("serves hashed assets as immutable, gzipped", async function () {
      const r = await get("/static/js/main.0123abcd.js", { "Accept-Encoding": "gzip" });
      assert.equal(r.status, 200);
      assert.equal(r.headers["cache-control"], "public, max-age=31536000, immutable");
      assert.equal(r.headers["content-encoding"], "gzip");
      assert.match(zlib.gunzipSync(r.body).toString(), /^console\.log/);
      assert.equal((await get("/static/js/missing.js")).status, 404, "a missing asset is a 404, not index.html");
    });

    it("redirects a directory without the internal port", async function () {
      const r = await get("/static");
      assert.equal(r.status, 301);
      assert.equal(r.headers.location, "/static/");
    });
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}
