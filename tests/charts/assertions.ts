// Shared fixtures and contract assertions of the chart tests (not a test file itself).
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { CHART_NAMES, ChartName, chartDir, helmLint, helmTemplate, K8sObject } from "../../tools/lib/helm";
import { validateObjects } from "../support/k8s-schema";

export const TEST_TAG = "ctx-0123456789abcdef";
export const NAMESPACE = "client-a";

/** ci/<scenario>-values.yaml files of a chart, sorted. */
export function ciValuesFiles(chart: ChartName): string[] {
  const dir = path.join(chartDir(chart), "ci");
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith("-values.yaml"))
    .sort()
    .map((f) => path.join(dir, f));
}

/** profiles/*.yaml files of a chart (none for celery). */
export function profileFiles(chart: ChartName): string[] {
  const dir = path.join(chartDir(chart), "profiles");
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith(".yaml"))
    .sort()
    .map((f) => path.join(dir, f));
}

const memo = new Map<string, Promise<unknown>>();
function once<T>(key: string, fn: () => Promise<T>): Promise<T> {
  let p = memo.get(key) as Promise<T> | undefined;
  if (!p) {
    p = fn();
    // Rejections are observed by the test that awaits the promise.
    p.catch(() => undefined);
    memo.set(key, p);
  }
  return p;
}

/** Memoised render: the same (chart, values, files) is rendered once per mocha run. */
export function render(chart: ChartName, values: object = {}, valuesFiles: string[] = [], namespace = NAMESPACE): Promise<K8sObject[]> {
  return once(`template:${chart}:${namespace}:${JSON.stringify(values)}:${valuesFiles.join(",")}`, () =>
    helmTemplate(chartDir(chart), values, { namespace, valuesFiles }),
  );
}

/** Memoised lint. */
export function lint(chart: ChartName, valuesFiles: string[] = []): Promise<string> {
  return once(`lint:${chart}:${valuesFiles.join(",")}`, () => helmLint(chartDir(chart), valuesFiles));
}

/** Render that is expected to fail; resolves the error message. */
export async function renderError(chart: ChartName, values: object): Promise<string> {
  try {
    await helmTemplate(chartDir(chart), values, { namespace: NAMESPACE });
  } catch (e) {
    return (e as Error).message;
  }
  throw new assert.AssertionError({ message: `helm template of ${chart} with ${JSON.stringify(values)} succeeded, expected a failure` });
}

/**
 * Starts every lint and render of every chart at once (helm runs are throttled in
 * tools/lib/helm), so that helm keeps both cores busy while mocha runs the files one
 * by one; resolves when those of `chart` are done.
 */
export function primeChart(chart: ChartName): Promise<unknown> {
  const all = CHART_NAMES.map((c) =>
    once(`prime:${c}`, () => {
      const jobs: Promise<unknown>[] = [lint(c), render(c, { image: { tag: TEST_TAG } })];
      for (const f of ciValuesFiles(c)) jobs.push(lint(c, [f]), render(c, {}, [f]));
      for (const f of profileFiles(c)) jobs.push(render(c, { image: { tag: TEST_TAG } }, [f]));
      return Promise.allSettled(jobs);
    }),
  );
  return all[CHART_NAMES.indexOf(chart)];
}

// ---------------------------------------------------------------- lookups

export function ofKind(objs: K8sObject[], kind: string): K8sObject[] {
  return objs.filter((o) => o.kind === kind);
}

export function one(objs: K8sObject[], kind: string, name?: string): K8sObject {
  const found = objs.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
  assert.equal(found.length, 1, `expected exactly one ${kind}${name ? ` ${name}` : ""}, found ${found.map((o) => o.metadata.name).join(", ") || "none"}`);
  return found[0];
}

/** Pod templates of every workload (Deployment, StatefulSet, DaemonSet, Job). */
export function podTemplates(objs: K8sObject[]): Array<{ owner: K8sObject; template: K8sObject["spec"] }> {
  return objs
    .filter((o) => ["Deployment", "StatefulSet", "DaemonSet", "Job"].includes(o.kind))
    .map((o) => ({ owner: o, template: o.spec.template }));
}

 
type Container = any;
export function containersOf(template: K8sObject["spec"]): Container[] {
  return [...(template.spec.initContainers ?? []), ...template.spec.containers];
}

export function container(obj: K8sObject, name?: string): Container {
  const cs = obj.spec.template.spec.containers as Container[];
  if (name === undefined) {
    assert.equal(cs.length, 1, `${obj.metadata.name} has ${cs.length} containers`);
    return cs[0];
  }
  const c = cs.find((x) => x.name === name);
  assert.ok(c, `${obj.metadata.name} has no container ${name}`);
  return c;
}

export function subset(sub: Record<string, string> | undefined, sup: Record<string, string> | undefined): boolean {
  if (!sub || Object.keys(sub).length === 0) return false;
  return Object.entries(sub).every(([k, v]) => sup?.[k] === v);
}

// ---------------------------------------------------------------- invariants

/** Pod Security Standard "restricted" plus a read-only root filesystem, on the pod and every container. */
export function assertRestricted(objs: K8sObject[]): void {
  for (const { owner, template } of podTemplates(objs)) {
    const where = `${owner.kind} ${owner.metadata.name}`;
    const pod = template.spec.securityContext ?? {};
    assert.equal(pod.runAsNonRoot, true, `${where}: pod runAsNonRoot`);
    assert.equal(pod.seccompProfile?.type, "RuntimeDefault", `${where}: pod seccompProfile`);
    assert.notEqual(template.spec.hostNetwork, true, `${where}: hostNetwork`);
    assert.notEqual(template.spec.hostPID, true, `${where}: hostPID`);
    for (const c of containersOf(template)) {
      const sc = c.securityContext ?? {};
      const at = `${where} container ${c.name}`;
      assert.equal(sc.runAsNonRoot, true, `${at}: runAsNonRoot`);
      const uid = sc.runAsUser ?? pod.runAsUser;
      assert.ok(Number.isInteger(uid) && uid > 0, `${at}: runAsUser must be a non-zero number, got ${uid}`);
      assert.equal(sc.allowPrivilegeEscalation, false, `${at}: allowPrivilegeEscalation`);
      assert.deepEqual(sc.capabilities?.drop, ["ALL"], `${at}: capabilities.drop`);
      assert.equal(sc.capabilities?.add, undefined, `${at}: capabilities.add`);
      assert.equal(sc.seccompProfile?.type ?? pod.seccompProfile?.type, "RuntimeDefault", `${at}: seccompProfile`);
      assert.equal(sc.readOnlyRootFilesystem, true, `${at}: readOnlyRootFilesystem`);
      assert.notEqual(sc.privileged, true, `${at}: privileged`);
      // Every writable path is an emptyDir.
      const volumes = new Map<string, K8sObject>((template.spec.volumes ?? []).map((v: K8sObject) => [v.name, v]));
      const tmp = (c.volumeMounts ?? []).find((m: K8sObject) => m.mountPath === "/tmp");
      assert.ok(tmp, `${at}: no writable /tmp`);
      assert.ok(volumes.get(tmp.name)?.emptyDir, `${at}: /tmp is not an emptyDir`);
    }
  }
}

/** Selectors: each workload's selector ⊆ its pod labels; Services, PDBs, HPAs and NetworkPolicies target a workload of the render. */
export function assertSelectors(objs: K8sObject[]): void {
  const deployments = ofKind(objs, "Deployment");
  for (const d of deployments) {
    const sel = d.spec.selector.matchLabels;
    assert.ok(subset(sel, d.spec.template.metadata.labels), `Deployment ${d.metadata.name}: selector ${JSON.stringify(sel)} not within its pod labels`);
    for (const t of d.spec.template.spec.topologySpreadConstraints ?? []) {
      assert.ok(subset(t.labelSelector?.matchLabels, d.spec.template.metadata.labels), `Deployment ${d.metadata.name}: topology spread selector does not select its own pods`);
    }
  }
  // Two workloads must never share pods.
  for (const a of podTemplates(objs)) {
    for (const b of deployments) {
      if (a.owner === b) continue;
      assert.ok(!subset(b.spec.selector.matchLabels, a.template.metadata.labels), `Deployment ${b.metadata.name} would select the pods of ${a.owner.kind} ${a.owner.metadata.name}`);
    }
  }
  for (const s of ofKind(objs, "Service")) {
    const targets = deployments.filter((d) => subset(s.spec.selector, d.spec.template.metadata.labels));
    assert.equal(targets.length, 1, `Service ${s.metadata.name} selects pods of ${targets.length} Deployments of this render (needs exactly one)`);
    const jobs = ofKind(objs, "Job").filter((j) => subset(s.spec.selector, j.spec.template.metadata.labels));
    assert.equal(jobs.length, 0, `Service ${s.metadata.name} selects Job pods`);
    for (const p of s.spec.ports) {
      const named = (targets[0].spec.template.spec.containers as Container[]).some((c) => (c.ports ?? []).some((cp: K8sObject) => cp.name === p.targetPort || cp.containerPort === p.targetPort));
      assert.ok(named, `Service ${s.metadata.name} port ${p.port}: targetPort ${p.targetPort} is not a container port`);
    }
  }
  for (const p of ofKind(objs, "PodDisruptionBudget")) {
    const targets = deployments.filter((d) => subset(p.spec.selector.matchLabels, d.spec.template.metadata.labels));
    assert.equal(targets.length, 1, `PDB ${p.metadata.name} selects pods of ${targets.length} Deployments`);
  }
  for (const h of ofKind(objs, "HorizontalPodAutoscaler")) {
    const target = deployments.find((d) => d.metadata.name === h.spec.scaleTargetRef.name);
    assert.ok(target, `HPA ${h.metadata.name} targets a missing Deployment ${h.spec.scaleTargetRef.name}`);
    assert.equal(target.spec.replicas, undefined, `Deployment ${target.metadata.name} sets replicas although an HPA manages it`);
  }
  for (const np of ofKind(objs, "NetworkPolicy")) {
    const targets = podTemplates(objs).filter((w) => subset(np.spec.podSelector.matchLabels, w.template.metadata.labels));
    assert.ok(targets.length >= 1, `NetworkPolicy ${np.metadata.name} selects no pod of this render`);
  }
}

/** Every object: in the release namespace, standard labels, names that fit. */
export function assertMetadata(objs: K8sObject[], namespace = NAMESPACE): void {
  assert.ok(objs.length > 0, "nothing rendered");
  for (const o of objs) {
    const where = `${o.kind} ${o.metadata.name}`;
    assert.equal(o.metadata.namespace, namespace, `${where}: namespace`);
    assert.ok(o.metadata.name.length <= 63, `${where}: name longer than 63 characters`);
    assert.match(o.metadata.name, /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, `${where}: name is not a DNS label`);
    const labels = o.metadata.labels ?? {};
    for (const k of ["app.kubernetes.io/name", "app.kubernetes.io/instance", "app.kubernetes.io/managed-by", "helm.sh/chart"]) {
      assert.ok(labels[k], `${where}: label ${k} missing`);
    }
  }
}

/** Pull secrets and image of every pod. */
export function assertImage(objs: K8sObject[], image: string, pullSecrets: string[] = ["harbor"], pullPolicy = "IfNotPresent"): void {
  for (const { owner, template } of podTemplates(objs)) {
    assert.deepEqual((template.spec.imagePullSecrets ?? []).map((s: K8sObject) => s.name), pullSecrets, `${owner.metadata.name}: imagePullSecrets`);
    for (const c of containersOf(template)) {
      assert.equal(c.image, image, `${owner.metadata.name}/${c.name}: image`);
      assert.equal(c.imagePullPolicy, pullPolicy, `${owner.metadata.name}/${c.name}: imagePullPolicy`);
    }
  }
}

/** envFrom of every container: exactly the given ConfigMap and Secret (each omitted when ""). */
export function assertEnvFrom(objs: K8sObject[], configmap: string, secret: string): void {
  const expected = [...(configmap ? [{ configMapRef: { name: configmap } }] : []), ...(secret ? [{ secretRef: { name: secret } }] : [])];
  for (const { owner, template } of podTemplates(objs)) {
    for (const c of containersOf(template)) {
      assert.deepEqual(c.envFrom ?? [], expected, `${owner.metadata.name}/${c.name}: envFrom`);
    }
  }
}

/** The standard checks of one render: Kubernetes schema, metadata, security, selectors. */
export async function assertValidRender(objs: K8sObject[], namespace = NAMESPACE): Promise<void> {
  await validateObjects(objs);
  assertMetadata(objs, namespace);
  assertRestricted(objs);
  assertSelectors(objs);
}

/** The egress rule of a NetworkPolicy that opens the given port. */
export function egressRule(np: K8sObject, port: number, protocol = "TCP"): K8sObject | undefined {
  return (np.spec.egress ?? []).find((r: K8sObject) => (r.ports ?? []).some((p: K8sObject) => p.port === port && (p.protocol ?? "TCP") === protocol));
}

// ------------------------------------------------------------ program values

/** Values shaped exactly as components/tenant/chart-values.ts computes them (every contract key, fake values). */
export function programValues(chart: ChartName): Record<string, unknown> {
  const common = {
    image: {
      repository: chart === "frontend" ? "harbor.feng.local:9800/library/frontend_stock" : "harbor.feng.local:9800/library/stock_backend",
      tag: TEST_TAG,
      pullPolicy: "IfNotPresent",
    },
    imagePullSecrets: [{ name: "harbor" }],
    podAnnotations: { "checksum/env": "0123456789abcdef" },
    resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "500m", memory: "256Mi" } },
  };
  const backendish = {
    env: { configmap: "stock-backend-env", secret: "stock-backend-secret" },
    networkPolicy: { enabled: true, redis: { namespace: "redis", port: 6379 }, database: { cidr: "10.0.0.5/32", port: 3306 } },
  };
  const ingress = (p: string) => ({
    replicaCount: 2,
    ingress: {
      enabled: true,
      className: "nginx",
      annotations: {},
      hosts: [{ host: "app.client-a.feng.local", paths: [{ path: p, pathType: "Prefix" }] }],
      tls: [],
      certManager: { clusterIssuer: "" },
    },
  });
  switch (chart) {
    case "backend-api":
      return { ...common, ...backendish, ...ingress("/api"), migrations: { enabled: true }, gunicorn: { workers: 3, timeout: 60 } };
    case "celery":
      return {
        ...common,
        ...backendish,
        workers: [{ name: "default", queues: ["summary", "stock", "statement", "price", "news"], replicaCount: 1, concurrency: 2, logLevel: "INFO" }],
        beat: { enabled: false },
        terminationGracePeriodSeconds: 300,
      };
    case "frontend":
      return { ...common, networkPolicy: { enabled: true }, ...ingress("/") };
  }
}

// ------------------------------------------------------------ shared suites

/** What every chart must pass: `helm lint --strict` and valid renders with the defaults, each ci/ scenario and each profile. */
export function describeStandardChecks(chart: ChartName): void {
  const tagged = { image: { tag: TEST_TAG } };
  describe("helm lint --strict", function () {
    it("passes with the default values", async function () {
      await lint(chart);
    });
    for (const f of ciValuesFiles(chart)) {
      it(`passes with ci/${path.basename(f)}`, async function () {
        await lint(chart, [f]);
      });
    }
  });

  describe("renders valid Kubernetes objects", function () {
    it("with the default values (and a tag)", async function () {
      await assertValidRender(await render(chart, tagged));
    });
    for (const f of ciValuesFiles(chart)) {
      it(`with ci/${path.basename(f)}`, async function () {
        await assertValidRender(await render(chart, {}, [f]));
      });
    }
    for (const f of profileFiles(chart)) {
      it(`with profiles/${path.basename(f)}`, async function () {
        await assertValidRender(await render(chart, tagged, [f]));
      });
    }
  });
}

/** A values file of ci/ by scenario name (`ingress-tls` → ci/ingress-tls-values.yaml). */
export function ciFile(chart: ChartName, scenario: string): string {
  const file = ciValuesFiles(chart).find((f) => path.basename(f) === `${scenario}-values.yaml`);
  if (!file) throw new Error(`charts/${chart}/ci/${scenario}-values.yaml does not exist`);
  return file;
}

/**
 * What the two internet-facing charts share: the per-customer ingress profiles (one host, the
 * chart's path prefix, class nginx, no rewrite), TLS from a secret or cert-manager, and inbound
 * traffic from the ingress controller only.
 */
export function describePublicEntry(chart: "backend-api" | "frontend", fullname: string, pathPrefix: string): void {
  const tagged = { image: { tag: TEST_TAG } };
  describe("ingress (shared by the internet-facing charts)", function () {
    for (const client of ["client-a", "client-b"]) {
      it(`profiles/${client}.yaml serves ${pathPrefix} on app.${client}.feng.local with class nginx`, async function () {
        const f = profileFiles(chart).find((p) => path.basename(p) === `${client}.yaml`) as string;
        const ing = one(await render(chart, tagged, [f]), "Ingress", fullname);
        assert.equal(ing.spec.ingressClassName, "nginx");
        assert.deepEqual(ing.spec.rules, [
          { host: `app.${client}.feng.local`, http: { paths: [{ path: pathPrefix, pathType: "Prefix", backend: { service: { name: fullname, port: { name: "http" } } } }] } },
        ]);
        assert.equal(ing.metadata.annotations?.["nginx.ingress.kubernetes.io/rewrite-target"], undefined, "rewrite-target / would break every path below the prefix");
        assert.equal(ing.spec.tls, undefined);
      });
    }

    it("takes explicit TLS entries", async function () {
      const ing = one(await render(chart, {}, [ciFile(chart, "ingress-tls")]), "Ingress");
      assert.deepEqual(ing.spec.tls, [{ hosts: ["app.client-a.feng.local"], secretName: "app-client-a-tls" }]);
    });

    it("adds the cert-manager annotation and a generated TLS entry for a ClusterIssuer", async function () {
      const ing = one(await render(chart, {}, [ciFile(chart, "cert-manager")]), "Ingress");
      assert.equal(ing.metadata.annotations["cert-manager.io/cluster-issuer"], "letsencrypt-prod");
      assert.deepEqual(ing.spec.tls, [{ hosts: ["app.client-b.feng.local"], secretName: `${fullname}-tls` }]);
    });

    it("admits only the ingress controller, on 8080", async function () {
      const np = one(await render(chart, tagged), "NetworkPolicy", fullname);
      assert.deepEqual(np.spec.policyTypes, ["Ingress", "Egress"]);
      assert.deepEqual(np.spec.ingress, [
        {
          from: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "ingress-nginx" } }, podSelector: { matchLabels: { "app.kubernetes.io/name": "ingress-nginx" } } }],
          ports: [{ port: 8080, protocol: "TCP" }],
        },
      ]);
    });
  });
}
