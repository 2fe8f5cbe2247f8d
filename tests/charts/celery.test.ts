import { strict as assert } from "node:assert";
import { RELEASES } from "../../components/tenant/chart-values";
import { renderChart } from "../../tools/lib/helm";
import {
  describeStandardChecks,
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

const CHART = "celery" as const;
const REPO = "harbor.feng.local:9800/library/stock_backend";
/** The release of the chart tests' own renders (helm template's default, "stock-<chart>"). */
const NAME = "stock-celery";
/** The program's release (and the seed's): object names are `stock-backend-celery-<worker>`. */
const PROGRAM_NAME = RELEASES[CHART];
const ci = (scenario: string) => ciFile(CHART, scenario);
const tagged = (extra: object = {}) => ({ image: { tag: TEST_TAG }, ...extra });
const worker = (name: string, queues: string[], extra: object = {}) => ({ name, queues, replicaCount: 1, concurrency: 2, logLevel: "INFO", ...extra });

/** The value that follows flag in a command line. */
function arg(command: string[], flag: string): string | undefined {
  const i = command.indexOf(flag);
  return i < 0 ? undefined : command[i + 1];
}

describe("charts/celery", function () {
  before(() => primeChart(CHART));

  describeStandardChecks(CHART);

  describe("renders the program's contract", function () {
    it("with the values the program computes (every contract key)", async function () {
      const objs = await renderChart(CHART, programValues(CHART), "client-b");
      await assertValidRender(objs, "client-b");
      assert.equal(PROGRAM_NAME, "stock-backend-celery");
      assert.deepEqual(objs.map((o) => `${o.kind}/${o.metadata.name}`).sort(), [
        `Deployment/${PROGRAM_NAME}-default`,
        `NetworkPolicy/${PROGRAM_NAME}`,
        `PodDisruptionBudget/${PROGRAM_NAME}-default`,
        `ServiceAccount/${PROGRAM_NAME}`,
      ]);
      const d = one(objs, "Deployment", `${PROGRAM_NAME}-default`);
      assert.deepEqual(d.spec.template.metadata.annotations, { "checksum/env": "0123456789abcdef" });
      assert.equal(egressRule(one(objs, "NetworkPolicy"), 3306)?.to?.[0]?.ipBlock?.cidr, "10.0.0.5/32");
    });
  });

  describe("default render", function () {
    it("runs one worker Deployment on every queue", async function () {
      const objs = await render(CHART, tagged());
      assert.deepEqual(ofKind(objs, "Deployment").map((d) => d.metadata.name), [`${NAME}-default`]);
      const d = one(objs, "Deployment", `${NAME}-default`);
      assert.deepEqual(container(d, "worker").command, [
        "celery", "-A", "fin.celery", "worker", "-Q", "summary,stock,statement,price,news", "-l", "INFO", "--concurrency", "2", "-n", "default@%h",
      ]);
      assert.equal(d.spec.replicas, 1);
      assert.equal(ofKind(objs, "Service").length, 0, "workers take no traffic");
      assert.equal(ofKind(objs, "Ingress").length, 0);
    });

    it("uses the image tag, the harbor pull secret and the env ConfigMap/Secret", async function () {
      const objs = await render(CHART, tagged());
      assertImage(objs, `${REPO}:${TEST_TAG}`);
      assertEnvFrom(objs, "stock-backend-env", "stock-backend-secret");
    });

    it("gives workers 300 s to finish their tasks", async function () {
      const d = one(await render(CHART, tagged()), "Deployment");
      assert.equal(d.spec.template.spec.terminationGracePeriodSeconds, 300);
      assert.equal(one(await render(CHART, tagged({ terminationGracePeriodSeconds: 1800 })), "Deployment").spec.template.spec.terminationGracePeriodSeconds, 1800);
    });

    it("checks liveness by the age of the heartbeat file, which lives on a writable emptyDir", async function () {
      const d = one(await render(CHART, tagged()), "Deployment");
      const c = container(d);
      for (const probe of ["startupProbe", "livenessProbe", "readinessProbe"]) {
        const cmd: string[] = c[probe].exec.command;
        assert.deepEqual(cmd.slice(0, 2), ["/bin/sh", "-c"], probe);
        assert.match(cmd[2], /^f=\/tmp\/celery\/worker_heartbeat; test -f "\$f" && test \$\(\( \$\(date \+%s\) - \$\(stat -c %Y "\$f"\) \)\) -lt 60$/, probe);
      }
      assert.ok(!JSON.stringify(c.livenessProbe).includes("inspect"), "no celery inspect ping by default");
      const mount = c.volumeMounts.find((m: { mountPath: string }) => m.mountPath === "/tmp/celery");
      assert.ok(d.spec.template.spec.volumes.find((v: { name: string }) => v.name === mount.name).emptyDir);
    });

    it("spreads each worker's pods across nodes", async function () {
      const d = one(await render(CHART, tagged()), "Deployment");
      assert.deepEqual(d.spec.template.spec.topologySpreadConstraints, [
        { maxSkew: 1, topologyKey: "kubernetes.io/hostname", whenUnsatisfiable: "ScheduleAnyway", labelSelector: { matchLabels: d.spec.selector.matchLabels } },
      ]);
    });

    it("has a PDB per worker, no HPA, no beat", async function () {
      const objs = await render(CHART, tagged());
      assert.equal(one(objs, "PodDisruptionBudget", `${NAME}-default`).spec.maxUnavailable, 1);
      assert.equal(ofKind(objs, "HorizontalPodAutoscaler").length, 0);
      assert.ok(!ofKind(objs, "Deployment").some((d) => d.metadata.name.endsWith("-beat")));
    });
  });

  describe("workers", function () {
    it("split workers: one Deployment per worker, each with its own -Q, level, concurrency and replicas", async function () {
      const objs = await render(CHART, {}, [ci("split-workers")]);
      const expected: Array<[string, string, string, string, number]> = [
        ["fast", "summary,stock", "INFO", "4", 2],
        ["fetch", "price,news", "WARNING", "8", 1],
        ["statements", "statement", "DEBUG", "1", 0],
      ];
      assert.deepEqual(ofKind(objs, "Deployment").map((d) => d.metadata.name).sort(), expected.map(([n]) => `${NAME}-${n}`));
      for (const [name, queues, level, concurrency, replicas] of expected) {
        const d = one(objs, "Deployment", `${NAME}-${name}`);
        const cmd: string[] = container(d).command;
        assert.equal(arg(cmd, "-Q"), queues, name);
        assert.equal(arg(cmd, "-l"), level, name);
        assert.equal(arg(cmd, "--concurrency"), concurrency, name);
        assert.equal(arg(cmd, "-n"), `${name}@%h`, name);
        assert.equal(d.spec.replicas, replicas, name);
        assert.equal(one(objs, "PodDisruptionBudget", `${NAME}-${name}`).spec.selector.matchLabels["app.kubernetes.io/component"], `worker-${name}`);
      }
      assert.deepEqual(container(one(objs, "Deployment", `${NAME}-fetch`)).resources.limits, { cpu: "500m", memory: "512Mi" });
      assert.deepEqual(container(one(objs, "Deployment", `${NAME}-fast`)).resources.limits, { cpu: "1", memory: "1Gi" });
    });

    it("beat: exactly one replica, Recreate, a writable schedule directory, no pidfile", async function () {
      const objs = await render(CHART, {}, [ci("beat-on")]);
      const beat = one(objs, "Deployment", `${NAME}-beat`);
      assert.equal(beat.spec.replicas, 1);
      assert.deepEqual(beat.spec.strategy, { type: "Recreate" });
      const c = container(beat, "beat");
      assert.deepEqual(c.command.slice(0, 8), ["celery", "-A", "fin.celery", "beat", "-l", "INFO", "-s", "/tmp/celerybeat/schedule"]);
      assert.ok(c.command.includes("--pidfile="));
      const mount = c.volumeMounts.find((m: { mountPath: string }) => m.mountPath === "/tmp/celerybeat");
      assert.ok(beat.spec.template.spec.volumes.find((v: { name: string }) => v.name === mount.name).emptyDir);
      assert.equal(c.livenessProbe, undefined, "beat has no heartbeat bootstep");
      assert.equal(ofKind(objs, "PodDisruptionBudget").filter((p) => p.metadata.name.endsWith("-beat")).length, 0);
      // Beat never scales, even with autoscaling on.
      const withHpa = await render(CHART, tagged({ beat: { enabled: true }, autoscaling: { enabled: true, minReplicas: 1, maxReplicas: 3 } }));
      assert.equal(one(withHpa, "Deployment", `${NAME}-beat`).spec.replicas, 1);
      assert.ok(!ofKind(withHpa, "HorizontalPodAutoscaler").some((h) => h.spec.scaleTargetRef.name.endsWith("-beat")));
    });

    it("ping mode: celery inspect ping of this worker, slow and patient", async function () {
      const c = container(one(await render(CHART, {}, [ci("ping-probe")]), "Deployment"));
      assert.deepEqual(c.livenessProbe.exec.command, ["/bin/sh", "-c", "celery -A fin.celery inspect ping -d default@$HOSTNAME --timeout 10"]);
      assert.ok(c.livenessProbe.periodSeconds >= 60);
      assert.ok(c.livenessProbe.timeoutSeconds >= 30);
      assert.equal(c.readinessProbe, undefined);
      assert.equal(c.startupProbe, undefined);
    });

    it("ci/upstream-app: ping through the configured celery command, beat's schedule dir writable, the Python runtime on PYTHONPATH of every container", async function () {
      const objs = await render(CHART, {}, [ci("upstream-app")]);
      const w = container(one(objs, "Deployment", `${NAME}-default`));
      assert.deepEqual(w.command.slice(0, 6), ["python", "-m", "celery", "-A", "fin.celery", "worker"]);
      assert.deepEqual(w.livenessProbe.exec.command, ["/bin/sh", "-c", "python -m celery -A fin.celery inspect ping -d default@$HOSTNAME --timeout 10"]);
      const beat = one(objs, "Deployment", `${NAME}-beat`);
      assert.deepEqual(container(beat).command.slice(0, 6), ["python", "-m", "celery", "-A", "fin.celery", "beat"]);
      assert.equal(arg(container(beat).command, "-s"), "/code/beat/schedule");
      assert.ok(container(beat).volumeMounts.some((m: { mountPath: string }) => m.mountPath === "/code/beat"), "beat's schedule directory is writable");
      for (const d of ofKind(objs, "Deployment")) {
        const c = container(d);
        assert.deepEqual(c.env.find((e: { name: string }) => e.name === "PYTHONPATH"), { name: "PYTHONPATH", value: "/opt/stock-runtime/python" }, d.metadata.name);
        assert.ok(c.volumeMounts.some((m: { name: string; mountPath: string; readOnly?: boolean }) => m.name === "python-runtime" && m.mountPath === "/opt/stock-runtime/python" && m.readOnly), d.metadata.name);
        assert.ok(c.volumeMounts.some((m: { mountPath: string }) => m.mountPath === "/code/media"), d.metadata.name);
        assert.deepEqual(d.spec.template.spec.volumes.find((v: { name: string }) => v.name === "python-runtime").configMap, { name: "stock-python-runtime" });
        assert.equal(d.spec.template.metadata.annotations["checksum/runtime"], "fedcba9876543210");
      }
    });

    it("refuses a celery command that the ping probe's shell would have to quote", async function () {
      assert.match(await renderError(CHART, tagged({ celeryCommand: ["celery", "--x=$(id)"] })), /celeryCommand/);
    });

    it("HPA per worker only when enabled (a worker may opt out), replicas left to the HPA", async function () {
      const objs = await render(CHART, {}, [ci("hpa-pdb")]);
      const hpas = ofKind(objs, "HorizontalPodAutoscaler");
      assert.deepEqual(hpas.map((h) => h.metadata.name), [`${NAME}-default`]);
      assert.deepEqual([hpas[0].spec.minReplicas, hpas[0].spec.maxReplicas], [1, 6]);
      assert.equal(one(objs, "Deployment", `${NAME}-default`).spec.replicas, undefined);
      assert.equal(one(objs, "Deployment", `${NAME}-pinned`).spec.replicas, 1);
      assert.equal(one(objs, "PodDisruptionBudget", `${NAME}-pinned`).spec.minAvailable, 1);
      const off = await render(CHART, {}, [ci("networkpolicy-off")]);
      assert.equal(ofKind(off, "PodDisruptionBudget").length, 0);
      assert.equal(ofKind(off, "HorizontalPodAutoscaler").length, 0);
    });
  });

  describe("network policy", function () {
    it("admits no ingress at all", async function () {
      const np = one(await render(CHART, tagged()), "NetworkPolicy", NAME);
      assert.ok(np.spec.policyTypes.includes("Ingress"));
      assert.equal((np.spec.ingress ?? []).length, 0);
      assert.deepEqual(np.spec.podSelector.matchLabels, { "app.kubernetes.io/name": "celery", "app.kubernetes.io/instance": NAME });
    });

    it("lets out DNS, Redis, the database and public HTTP(S) by default", async function () {
      const np = one(await render(CHART, tagged()), "NetworkPolicy", NAME);
      assert.ok(egressRule(np, 53, "UDP") && egressRule(np, 53, "TCP"));
      assert.deepEqual(egressRule(np, 6379)?.to, [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "redis" } } }]);
      assert.ok(egressRule(np, 3306));
      const web = egressRule(np, 443);
      assert.equal(web?.to?.[0]?.ipBlock?.cidr, "0.0.0.0/0");
      assert.deepEqual(web?.to?.[0]?.ipBlock?.except, ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "169.254.0.0/16"]);
    });

    it("follows the Redis namespace/port and database CIDR/port given, without internet", async function () {
      const np = one(await render(CHART, {}, [ci("networkpolicy-db")]), "NetworkPolicy");
      assert.deepEqual(egressRule(np, 6380)?.to, [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "shared-redis" } } }]);
      assert.deepEqual(egressRule(np, 3306)?.to, [{ ipBlock: { cidr: "10.0.0.5/32" } }]);
      assert.equal(egressRule(np, 443), undefined);
      assert.equal(np.spec.egress.length, 3);
    });

    it("is absent when disabled", async function () {
      assert.equal(ofKind(await render(CHART, {}, [ci("networkpolicy-off")]), "NetworkPolicy").length, 0);
    });
  });

  describe("schema and required values", function () {
    it("rejects a database CIDR prefix longer than the address (IPv4 over 32, IPv6 over 128)", async function () {
      for (const cidr of ["10.0.0.5/33", "fd00::1/129"]) {
        const msg = await renderError(CHART, tagged({ networkPolicy: { enabled: true, database: { cidr, port: 3306 } } }));
        assert.match(msg, /database\/cidr|database\.cidr/, cidr);
      }
    });

    it('rejects replicaCount: "two" inside workers (wrong type)', async function () {
      const msg = await renderError(CHART, tagged({ workers: [worker("default", ["stock"], { replicaCount: "two" })] }));
      assert.match(msg, /workers\/0\/replicaCount/);
    });

    it("rejects queues given as a string instead of a list", async function () {
      const msg = await renderError(CHART, tagged({ workers: [worker("default", "summary,stock" as unknown as string[])] }));
      assert.match(msg, /workers\/0\/queues/);
    });

    it("rejects an unknown key in a worker", async function () {
      const msg = await renderError(CHART, tagged({ workers: [worker("default", ["stock"], { queue: "stock" })] }));
      assert.match(msg, /workers\/0/);
      assert.match(msg, /queue/);
    });

    it("rejects an unknown top-level key", async function () {
      const msg = await renderError(CHART, tagged({ replicaCount: 2 }));
      assert.match(msg, /replicaCount/);
      assert.match(msg, /additional propert/i);
    });

    it("fails with a clear message when image.tag is empty", async function () {
      assert.match(await renderError(CHART, { image: { tag: "" } }), /image\.tag is required/);
    });

    it("refuses two workers with the same name, and a worker named beat", async function () {
      assert.match(await renderError(CHART, tagged({ workers: [worker("a", ["x"]), worker("a", ["y"])] })), /"a" is used twice/);
      assert.match(await renderError(CHART, tagged({ workers: [worker("beat", ["x"])] })), /workers\/0\/name/);
    });

    it("reports every bad worker in one failure (validateValues), not only the first", async function () {
      const msg = await renderError(CHART, tagged({ workers: [worker("a", ["x"]), worker("a", ["y"]), worker("b", ["x"]), worker("b", ["y"])] }));
      assert.match(msg, /VALUES VALIDATION:/);
      assert.match(msg, /workers\[1\]\.name "a" is used twice/);
      assert.match(msg, /workers\[3\]\.name "b" is used twice/);
    });

    it("refuses a heartbeat path that would need shell quoting", async function () {
      assert.match(await renderError(CHART, tagged({ livenessProbe: { enabled: true, mode: "heartbeat", heartbeatFile: "/tmp/$(reboot)" } })), /heartbeatFile/);
    });
  });
});
