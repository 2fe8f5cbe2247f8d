import { strict as assert } from "node:assert";
import { renderChart } from "../../tools/lib/helm";
import {
  describePublicEntry,
  describeStandardChecks,
  NAMESPACE,
  TEST_TAG,
  assertEnvFrom,
  assertImage,
  assertValidRender,
  ciFile,
  container,
  egressRule,
  ofKind,
  one,
  primeChart,
  programValues,
  render,
  renderError,
} from "./assertions";

const CHART = "backend-api" as const;
const REPO = "harbor.feng.local:9800/library/stock_backend";
const NAME = "stock-backend-api";
const ci = (scenario: string) => ciFile(CHART, scenario);
const tagged = (extra: object = {}) => ({ image: { tag: TEST_TAG }, ...extra });

describe("charts/backend-api", function () {
  before(() => primeChart(CHART));

  describeStandardChecks(CHART);

  describe("renders the program's contract", function () {
    it("with the values the program computes (every contract key)", async function () {
      const objs = await renderChart(CHART, programValues(CHART), "client-b");
      await assertValidRender(objs, "client-b");
      const d = one(objs, "Deployment", NAME);
      assert.deepEqual(d.spec.template.metadata.annotations, { "checksum/env": "0123456789abcdef" });
      assert.deepEqual(container(d).resources, { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "500m", memory: "256Mi" } });
      assert.equal(egressRule(one(objs, "NetworkPolicy"), 3306)?.to?.[0]?.ipBlock?.cidr, "10.0.0.5/32");
    });
  });

  describe("default render", function () {
    it("runs gunicorn on 8080 with a memory-backed worker tmp dir", async function () {
      const d = one(await render(CHART, tagged()), "Deployment", NAME);
      const c = container(d, "api");
      assert.deepEqual(c.command, ["gunicorn", "fin.wsgi", "--bind", "0.0.0.0:8080", "--workers", "3", "--timeout", "60", "--graceful-timeout", "30", "--worker-tmp-dir", "/dev/shm"]);
      assert.deepEqual(c.ports, [{ name: "http", containerPort: 8080, protocol: "TCP" }]);
      const mount = c.volumeMounts.find((m: { mountPath: string }) => m.mountPath === "/dev/shm");
      const vol = d.spec.template.spec.volumes.find((v: { name: string }) => v.name === mount.name);
      assert.equal(vol.emptyDir.medium, "Memory");
      assert.equal(d.spec.replicas, 2);
    });

    it("uses the image tag, the harbor pull secret and the env ConfigMap/Secret", async function () {
      const objs = await render(CHART, tagged());
      assertImage(objs, `${REPO}:${TEST_TAG}`);
      assertEnvFrom(objs, "stock-backend-env", "stock-backend-secret");
    });

    it("probes /healthz (startup, liveness) and /readyz (readiness) on the http port", async function () {
      const c = container(one(await render(CHART, tagged()), "Deployment", NAME));
      assert.deepEqual(c.startupProbe.httpGet, { path: "/healthz", port: "http" });
      assert.deepEqual(c.livenessProbe.httpGet, { path: "/healthz", port: "http" });
      assert.deepEqual(c.readinessProbe.httpGet, { path: "/readyz", port: "http" });
      assert.ok(c.startupProbe.periodSeconds * c.startupProbe.failureThreshold >= 60, "startup budget under a minute");
    });

    it("exposes Service port 80 -> targetPort http", async function () {
      const s = one(await render(CHART, tagged()), "Service", NAME);
      assert.deepEqual(s.spec.ports, [{ name: "http", port: 80, targetPort: "http", protocol: "TCP" }]);
      assert.equal(s.spec.type, "ClusterIP");
    });

    it("spreads API pods across nodes by default", async function () {
      const d = one(await render(CHART, tagged()), "Deployment", NAME);
      assert.deepEqual(d.spec.template.spec.topologySpreadConstraints, [
        { maxSkew: 1, topologyKey: "kubernetes.io/hostname", whenUnsatisfiable: "ScheduleAnyway", labelSelector: { matchLabels: d.spec.selector.matchLabels } },
      ]);
    });

    it("has no Ingress and no HPA, but a PDB", async function () {
      const objs = await render(CHART, tagged());
      assert.equal(ofKind(objs, "Ingress").length, 0);
      assert.equal(ofKind(objs, "HorizontalPodAutoscaler").length, 0);
      assert.equal(one(objs, "PodDisruptionBudget").spec.maxUnavailable, 1);
    });

    it("does not mount a service account token", async function () {
      const objs = await render(CHART, tagged());
      for (const o of [...ofKind(objs, "Deployment"), ...ofKind(objs, "Job")]) {
        assert.equal(o.spec.template.spec.automountServiceAccountToken, false, o.metadata.name);
      }
    });
  });

  describe("migrations", function () {
    it("is a Job named after the tag that the Deployment depends on", async function () {
      const objs = await render(CHART, tagged());
      const job = one(objs, "Job");
      assert.equal(job.metadata.name, `${NAME}-migrate-${TEST_TAG}`);
      assert.equal(one(objs, "Deployment").metadata.annotations["config.kubernetes.io/depends-on"], `batch/namespaces/${NAMESPACE}/Job/${job.metadata.name}`);
      const c = container(job, "migrate");
      assert.deepEqual(c.command, ["python", "manage.py", "migrate", "--noinput"]);
      assert.equal(job.spec.template.spec.restartPolicy, "Never");
      assert.equal(job.spec.backoffLimit, 2);
      assert.ok(job.spec.activeDeadlineSeconds > 0);
      assert.equal(job.spec.ttlSecondsAfterFinished, undefined, "ttlSecondsAfterFinished would make Pulumi see the Job vanish");
      assert.equal(job.metadata.annotations?.["helm.sh/hook"], undefined, "helm.v4.Chart does not run hooks");
      assert.deepEqual(c.envFrom, [{ configMapRef: { name: "stock-backend-env" } }, { secretRef: { name: "stock-backend-secret" } }]);
      assert.deepEqual(job.spec.template.spec.imagePullSecrets, [{ name: "harbor" }]);
    });

    it("names the depends-on annotation after the release namespace", async function () {
      const objs = await renderChart(CHART, tagged(), "client-b");
      const job = one(objs, "Job");
      assert.equal(one(objs, "Deployment").metadata.annotations["config.kubernetes.io/depends-on"], `batch/namespaces/client-b/Job/${job.metadata.name}`);
    });

    it("gets a new Job name for a new tag", async function () {
      const [a, b] = await Promise.all([render(CHART, { image: { tag: "ctx-aaaa" } }), render(CHART, { image: { tag: "ctx-bbbb" } })]);
      assert.notEqual(one(a, "Job").metadata.name, one(b, "Job").metadata.name);
    });

    it("sanitises and shortens a long tag to a valid name of at most 63 characters, keeping long tags apart", async function () {
      const long = "Release_2024.01.15-build.1234567890-with-a-very-long-suffix";
      const [a, b] = await Promise.all([render(CHART, {}, [ci("digest")]), render(CHART, { image: { tag: `${long}-2` } }, [ci("digest")])]);
      const ja = one(a, "Job").metadata.name;
      const jb = one(b, "Job").metadata.name;
      for (const n of [ja, jb]) {
        assert.ok(n.length <= 63, `${n} is ${n.length} characters`);
        assert.match(n, /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
        assert.ok(n.includes("-migrate-release-2024-01-15-build"), n);
      }
      assert.notEqual(ja, jb);
      assert.equal(one(a, "Deployment").metadata.annotations["config.kubernetes.io/depends-on"], `batch/namespaces/${NAMESPACE}/Job/${ja}`);
    });

    it("can be switched off: no Job, no depends-on annotation", async function () {
      const objs = await render(CHART, {}, [ci("migrations-off")]);
      assert.equal(ofKind(objs, "Job").length, 0);
      assert.equal(one(objs, "Deployment").metadata.annotations?.["config.kubernetes.io/depends-on"], undefined);
    });
  });

  describe("app profile (what the program's config sets for the app it deploys)", function () {
    it("ci/upstream-app: probe kinds tcp, http and exec, gunicorn through python -m, writable dir, the Python runtime on PYTHONPATH", async function () {
      const objs = await render(CHART, {}, [ci("upstream-app")]);
      const d = one(objs, "Deployment");
      const c = container(d);
      assert.deepEqual(c.command.slice(0, 6), ["python", "-m", "gunicorn", "fin.wsgi", "--bind", "0.0.0.0:8080"]);
      assert.deepEqual(c.startupProbe, { tcpSocket: { port: "http" }, periodSeconds: 5, timeoutSeconds: 5, failureThreshold: 24 });
      assert.deepEqual(c.livenessProbe.httpGet, { path: "/api/v1/", port: "http" });
      assert.deepEqual(c.readinessProbe.exec, { command: ["/bin/sh", "-c", "python -c 'import fin.wsgi'"] });
      assert.equal(c.readinessProbe.httpGet, undefined);
      for (const pod of [d, one(objs, "Job")]) {
        const k = container(pod);
        const where = `${pod.kind} ${pod.metadata.name}`;
        assert.deepEqual(k.env.find((e: { name: string }) => e.name === "PYTHONPATH"), { name: "PYTHONPATH", value: "/opt/stock-runtime/python" }, where);
        const mounts = Object.fromEntries(k.volumeMounts.map((m: { name: string; mountPath: string; readOnly?: boolean }) => [m.mountPath, m]));
        assert.deepEqual(mounts["/opt/stock-runtime/python"], { name: "python-runtime", mountPath: "/opt/stock-runtime/python", readOnly: true }, where);
        assert.equal(mounts["/code/media"].readOnly, undefined, where);
        const volumes = Object.fromEntries(pod.spec.template.spec.volumes.map((v: { name: string }) => [v.name, v]));
        assert.deepEqual(volumes["python-runtime"].configMap, { name: "stock-python-runtime" }, where);
        assert.deepEqual(volumes[mounts["/code/media"].name].emptyDir, { sizeLimit: "64Mi" }, where);
        assert.equal(pod.spec.template.metadata.annotations["checksum/runtime"], "fedcba9876543210", where);
      }
    });

    it("switches a probe off, and mounts no runtime and sets no PYTHONPATH without its ConfigMap", async function () {
      const c = container(one(await render(CHART, tagged({ livenessProbe: { enabled: false } })), "Deployment"));
      assert.equal(c.livenessProbe, undefined);
      assert.ok(c.startupProbe.httpGet);
      assert.ok(!c.env.some((e: { name: string }) => e.name === "PYTHONPATH"));
      assert.ok(!c.volumeMounts.some((m: { name: string }) => m.name === "python-runtime"));
    });

    it("runs the migration command given, as the user and group given", async function () {
      const objs = await render(CHART, tagged({ migrations: { enabled: true, command: ["python", "/code/manage.py", "migrate"] }, podSecurityContext: { runAsUser: 1234, runAsGroup: 4321, fsGroup: 4321 }, containerSecurityContext: { runAsUser: 1234, runAsGroup: 4321 } }));
      const job = one(objs, "Job");
      assert.deepEqual(container(job).command, ["python", "/code/manage.py", "migrate"]);
      for (const pod of [job, one(objs, "Deployment")]) {
        assert.deepEqual(pod.spec.template.spec.securityContext, { runAsNonRoot: true, runAsUser: 1234, runAsGroup: 4321, fsGroup: 4321, seccompProfile: { type: "RuntimeDefault" } });
        assert.equal(container(pod).securityContext.runAsUser, 1234);
        assert.equal(container(pod).securityContext.readOnlyRootFilesystem, true, "the chart's restricted defaults stay");
      }
      await assertValidRender(objs);
    });

    it("refuses an exec probe without a command, an http probe without a path, and an unknown kind", async function () {
      assert.match(await renderError(CHART, tagged({ livenessProbe: { kind: "exec" } })), /livenessProbe|command/);
      assert.match(await renderError(CHART, tagged({ readinessProbe: { kind: "grpc" } })), /readinessProbe/);
      assert.match(await renderError(CHART, tagged({ writablePaths: ["relative"] })), /writablePaths/);
      assert.match(await renderError(CHART, tagged({ gunicorn: { workers: 1, timeout: 1, command: [] } })), /gunicorn/);
    });
  });

  describe("values", function () {
    it("renders only the envFrom sources that are set", async function () {
      assertEnvFrom(await render(CHART, {}, [ci("migrations-off")]), "", "stock-backend-secret");
      assertEnvFrom(await render(CHART, tagged({ env: { configmap: "", secret: "" } })), "", "");
    });

    it("pulls by digest when one is given", async function () {
      const objs = await render(CHART, {}, [ci("digest")]);
      assertImage(objs, `${REPO}@sha256:${"0".repeat(64)}`, ["harbor"], "Always");
    });

    it("passes gunicorn workers and timeout", async function () {
      const c = container(one(await render(CHART, tagged({ gunicorn: { workers: 5, timeout: 120 } })), "Deployment"));
      assert.deepEqual(c.command.slice(4, 8), ["--workers", "5", "--timeout", "120"]);
    });

    it("creates HPA and PDB only when enabled, leaving replicas to the HPA", async function () {
      const on = await render(CHART, {}, [ci("hpa-pdb")]);
      const hpa = one(on, "HorizontalPodAutoscaler", NAME);
      assert.deepEqual([hpa.spec.minReplicas, hpa.spec.maxReplicas], [2, 5]);
      assert.deepEqual(hpa.spec.metrics.map((m: { resource: { name: string } }) => m.resource.name), ["cpu", "memory"]);
      assert.equal(one(on, "Deployment").spec.replicas, undefined);
      assert.equal(one(on, "PodDisruptionBudget").spec.minAvailable, 1);
      const off = await render(CHART, {}, [ci("networkpolicy-off")]);
      assert.equal(ofKind(off, "HorizontalPodAutoscaler").length, 0);
      assert.equal(ofKind(off, "PodDisruptionBudget").length, 0);
    });

    it("allows replicaCount 0", async function () {
      assert.equal(one(await render(CHART, tagged({ replicaCount: 0 })), "Deployment").spec.replicas, 0);
    });
  });

  describePublicEntry(CHART, NAME, "/api");

  describe("ingress", function () {
    it("passes the ci/ scenario's annotations through (bigger uploads to the API)", async function () {
      const ing = one(await render(CHART, {}, [ci("ingress-tls")]), "Ingress");
      assert.equal(ing.metadata.annotations["nginx.ingress.kubernetes.io/proxy-body-size"], "8m");
    });
  });

  describe("network policy", function () {
    it("lets out DNS, Redis and the database only", async function () {
      const np = one(await render(CHART, tagged()), "NetworkPolicy", NAME);
      assert.equal(np.spec.egress.length, 3);
      assert.deepEqual(egressRule(np, 53, "UDP")?.to, [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } } }]);
      assert.ok(egressRule(np, 53, "TCP"));
      assert.deepEqual(egressRule(np, 6379)?.to, [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "redis" } } }]);
      assert.equal(egressRule(np, 3306)?.to, undefined, "no CIDR: any destination on the database port");
      // The policy covers the migration Job too.
      const job = one(await render(CHART, tagged()), "Job");
      for (const [k, v] of Object.entries(np.spec.podSelector.matchLabels)) assert.equal(job.spec.template.metadata.labels[k], v);
    });

    it("narrows the database rule to the CIDR and port given", async function () {
      const np = one(await render(CHART, {}, [ci("networkpolicy-db")]), "NetworkPolicy");
      assert.deepEqual(egressRule(np, 3306)?.to, [{ ipBlock: { cidr: "10.0.0.5/32" } }]);
      const web = egressRule(np, 443);
      assert.equal(web?.to?.[0]?.ipBlock?.cidr, "0.0.0.0/0");
      assert.ok(web?.to?.[0]?.ipBlock?.except.includes("10.0.0.0/8"));
    });

    it("is absent when disabled", async function () {
      assert.equal(ofKind(await render(CHART, {}, [ci("networkpolicy-off")]), "NetworkPolicy").length, 0);
    });
  });

  describe("schema and required values", function () {
    it('rejects replicaCount: "two"', async function () {
      const msg = await renderError(CHART, tagged({ replicaCount: "two" }));
      assert.match(msg, /replicaCount/);
      assert.match(msg, /want integer|expected integer|Invalid type/i);
    });

    it("rejects an unknown top-level key", async function () {
      const msg = await renderError(CHART, tagged({ replicaCountt: 2 }));
      assert.match(msg, /replicaCountt/);
      assert.match(msg, /additional propert/i);
    });

    it("fails with a clear message when image.tag is empty", async function () {
      const msg = await renderError(CHART, {});
      assert.match(msg, /image\.tag is required/);
    });

    it("rejects a wrong type inside ingress.hosts", async function () {
      const msg = await renderError(CHART, tagged({ ingress: { enabled: true, hosts: [{ host: "app.client-a.feng.local", paths: "/api" }] } }));
      assert.match(msg, /ingress\/hosts\/0\/paths|ingress\.hosts\.0\.paths/);
    });

    it("rejects a database CIDR that is not one", async function () {
      const msg = await renderError(CHART, tagged({ networkPolicy: { enabled: true, database: { cidr: "db.example.local", port: 3306 } } }));
      assert.match(msg, /database\/cidr|database\.cidr/);
    });

    it("rejects a database CIDR prefix longer than the address (IPv4 over 32, IPv6 over 128)", async function () {
      for (const cidr of ["10.0.0.5/33", "10.0.0.5/99", "fd00::1/129"]) {
        const msg = await renderError(CHART, tagged({ networkPolicy: { enabled: true, database: { cidr, port: 3306 } } }));
        assert.match(msg, /database\/cidr|database\.cidr/, cidr);
      }
      for (const cidr of ["10.0.0.5/32", "10.0.0.0/8", "fd00::1/128"]) {
        await render(CHART, tagged({ networkPolicy: { enabled: true, database: { cidr, port: 3306 } } }));
      }
    });
  });
});
