/**
 * charts/celery's KEDA objects (templates/scaledobject.yaml, templates/triggerauthentication.yaml),
 * rendered by the real helm and validated against KEDA's own CRD schemas (tests/fixtures/keda,
 * tests/support/keda-schema.ts); that the validator itself refuses what the API server or KEDA's
 * webhook would refuse. The list names against a real Redis and Celery:
 * tests/runtime/keda-trigger.test.ts.
 */
import { strict as assert } from "node:assert";
import { K8sObject, renderChart } from "../../tools/lib/helm";
import { kedaProblems, KEDA_VERSION } from "../support/keda-schema";
import { assertValidRender, ciFile, ofKind, one, render, renderError, TEST_TAG } from "./assertions";

const CHART = "celery" as const;
const NAME = "stock-celery";
const tagged = (extra: object = {}) => ({ image: { tag: TEST_TAG }, ...extra });
const worker = (name: string, queues: string[], extra: object = {}) => ({ name, queues, replicaCount: 1, concurrency: 2, logLevel: "INFO", ...extra });
const clone = <T>(o: T): T => JSON.parse(JSON.stringify(o)) as T;

describe(`charts/celery: KEDA ScaledObjects (schemas of KEDA ${KEDA_VERSION})`, function () {
  let objs: K8sObject[];

  before(async function () {
    objs = await render(CHART, {}, [ciFile(CHART, "keda")]);
  });

  it("is off by default: no ScaledObject, no TriggerAuthentication", async function () {
    const plain = await render(CHART, tagged());
    assert.deepEqual(plain.filter((o) => o.apiVersion.startsWith("keda.sh/")), []);
  });

  it("ci/keda: one ScaledObject per KEDA worker, one redis trigger per queue on <keyPrefix><queue>", function () {
    const scaled = ofKind(objs, "ScaledObject");
    assert.deepEqual(scaled.map((s) => s.metadata.name).sort(), [`${NAME}-fast`, `${NAME}-fetch`]);
    const fast = one(objs, "ScaledObject", `${NAME}-fast`);
    assert.deepEqual(fast.spec.scaleTargetRef, { apiVersion: "apps/v1", kind: "Deployment", name: `${NAME}-fast` });
    assert.deepEqual([fast.spec.minReplicaCount, fast.spec.maxReplicaCount], [0, 5], "the top-level keda's bounds");
    assert.deepEqual(
      fast.spec.triggers.map((t: K8sObject) => [t.type, t.name, t.metadata.listName, t.metadata.listLength, t.metadata.databaseIndex]),
      [
        ["redis", "queue-summary", "client-a:summary", "20", "0"],
        ["redis", "queue-stock", "client-a:stock", "20", "0"],
      ],
    );
    const fetch = one(objs, "ScaledObject", `${NAME}-fetch`);
    assert.deepEqual([fetch.spec.minReplicaCount, fetch.spec.maxReplicaCount], [1, 8], "the worker's own bounds");
    assert.deepEqual(
      fetch.spec.triggers.map((t: K8sObject) => [t.metadata.listName, t.metadata.listLength, t.metadata.activationListLength]),
      [
        ["client-a:price", "5", "2"],
        ["client-a:news", "5", "2"],
        ["client-a:statement", "5", "2"],
      ],
    );
  });

  it("authenticates every trigger with the TriggerAuthentication that reads the tenant's Secret (address, user, password)", function () {
    const auth = one(objs, "TriggerAuthentication");
    assert.equal(auth.metadata.name, `${NAME}-redis`);
    assert.deepEqual(auth.spec, {
      secretTargetRef: [
        { parameter: "address", name: "stock-backend-secret", key: "STOCK_REDIS_ADDRESS" },
        { parameter: "username", name: "stock-backend-secret", key: "STOCK_REDIS_USERNAME" },
        { parameter: "password", name: "stock-backend-secret", key: "STOCK_REDIS_PASSWORD" },
      ],
    });
    for (const s of ofKind(objs, "ScaledObject")) {
      for (const t of s.spec.triggers) {
        assert.deepEqual(t.authenticationRef, { name: auth.metadata.name }, `${s.metadata.name} ${t.name}`);
        assert.deepEqual(Object.keys(t.metadata).sort(), ["activationListLength", "databaseIndex", "listLength", "listName"], "no address or credential in the trigger");
      }
    }
  });

  it("turns the chart's HPA off for KEDA's workers and leaves their replicas to KEDA; a worker without KEDA keeps its own", function () {
    assert.deepEqual(ofKind(objs, "HorizontalPodAutoscaler"), [], "fast and fetch: KEDA's HPA only; pinned: autoscaling off");
    assert.equal(one(objs, "Deployment", `${NAME}-fast`).spec.replicas, undefined);
    assert.equal(one(objs, "Deployment", `${NAME}-fetch`).spec.replicas, undefined);
    assert.equal(one(objs, "Deployment", `${NAME}-pinned`).spec.replicas, 2);
  });

  it("gives KEDA's HPA the chart HPA's name (handed over on the switch) and scales down as slowly as the chart's HPA", async function () {
    const fast = one(objs, "ScaledObject", `${NAME}-fast`);
    assert.equal(fast.metadata.annotations["scaledobject.keda.sh/transfer-hpa-ownership"], "true");
    assert.equal(fast.spec.advanced.horizontalPodAutoscalerConfig.name, `${NAME}-fast`);
    const hpa = one(await render(CHART, {}, [ciFile(CHART, "hpa-pdb")]), "HorizontalPodAutoscaler");
    assert.deepEqual(fast.spec.advanced.horizontalPodAutoscalerConfig.behavior, hpa.spec.behavior);
  });

  it("keeps the names KEDA's webhook accepts with a 40-character worker name under the program's release (keda-hpa-<name> would be too long)", async function () {
    const long = "w".repeat(40);
    const rendered = await renderChart(CHART, tagged({ keda: { enabled: true, keyPrefix: "client-a:" }, workers: [worker(long, ["stock"])] }), "client-a");
    await assertValidRender(rendered);
    const so = one(rendered, "ScaledObject");
    assert.equal(so.metadata.name, `stock-backend-celery-${long}`);
    assert.deepEqual(kedaProblems(so), []);
    const unnamed = clone(so);
    delete unnamed.spec.advanced.horizontalPodAutoscalerConfig.name;
    assert.match(kedaProblems(unnamed).join("\n"), /HPA name "keda-hpa-stock-backend-celery-w+" is longer than 63/);
  });

  it("refuses a minReplicaCount above maxReplicaCount, naming the worker", async function () {
    const msg = await renderError(CHART, tagged({ keda: { enabled: true, minReplicaCount: 3, maxReplicaCount: 2 }, workers: [worker("default", ["stock"])] }));
    assert.match(msg, /workers\[0\] \(default\): keda\.minReplicaCount 3 is above keda\.maxReplicaCount 2/);
    // Not when that worker's KEDA is off.
    await render(CHART, tagged({ keda: { enabled: true, minReplicaCount: 3, maxReplicaCount: 2 }, workers: [worker("default", ["stock"], { keda: { enabled: false } })] }));
  });

  it("refuses unknown or mistyped KEDA values (values.schema.json)", async function () {
    assert.match(await renderError(CHART, tagged({ workers: [worker("default", ["stock"], { keda: { enabled: true, maxReplicas: 3 } })] })), /workers\/0\/keda.*maxReplicas|maxReplicas/);
    assert.match(await renderError(CHART, tagged({ keda: { listLength: 0 } })), /keda\/listLength/);
    assert.match(await renderError(CHART, tagged({ keda: { keyPrefix: "client-a" } })), /keda\/keyPrefix/);
  });

  describe("the KEDA schema check itself refuses what the API server or KEDA would refuse", function () {
    let so: K8sObject;
    before(() => {
      so = one(objs, "ScaledObject", `${NAME}-fetch`);
      assert.deepEqual(kedaProblems(so), [], "the rendered object is valid");
      assert.deepEqual(kedaProblems(one(objs, "TriggerAuthentication")), []);
    });

    const cases: Array<[string, (o: K8sObject) => void, RegExp]> = [
      ["an unknown field (pruned silently by the API server)", (o) => (o.spec.minReplicaCounts = 1), /\/spec must NOT have additional properties \(minReplicaCounts\)/],
      ["a number where KEDA wants a string", (o) => (o.spec.triggers[0].metadata.listLength = 5), /\/spec\/triggers\/0\/metadata\/listLength must be string/],
      ["no triggers", (o) => (o.spec.triggers = []), /\/spec\/triggers must NOT have fewer than 1 items/],
      ["a trigger without type", (o) => delete o.spec.triggers[0].type, /must have required property 'type'/],
      ["minReplicaCount above maxReplicaCount (the CRD's CEL rule)", (o) => (o.spec.minReplicaCount = 9), /\/spec: minReplicaCount must be less than or equal to maxReplicaCount/],
      ["minReplicaCount above the default maximum of 100", (o) => { o.spec.minReplicaCount = 101; delete o.spec.maxReplicaCount; }, /minReplicaCount must be less than or equal to maxReplicaCount/],
      ["two triggers of the same name (KEDA's webhook)", (o) => (o.spec.triggers[1].name = o.spec.triggers[0].name), /triggerName "queue-price" is defined multiple times/],
      ["a name over 63 characters (KEDA's webhook)", (o) => (o.metadata.name = "s".repeat(64)), /scaledobject name "s{64}" is longer than 63/],
      ["an int32 out of range", (o) => (o.spec.maxReplicaCount = 2 ** 31), /\/spec\/maxReplicaCount must match format "int32"/],
      ["a wrong authenticationRef kind", (o) => (o.spec.triggers[0].authenticationRef.kind = "Secret"), /authenticationRef\/kind must be equal to one of the allowed values/],
    ];
    for (const [what, mutate, expected] of cases) {
      it(what, function () {
        const bad = clone(so);
        mutate(bad);
        assert.match(kedaProblems(bad).join("\n"), expected);
      });
    }

    it("a TriggerAuthentication reference without key", function () {
      const bad = clone(one(objs, "TriggerAuthentication"));
      delete bad.spec.secretTargetRef[2].key;
      assert.match(kedaProblems(bad).join("\n"), /\/spec\/secretTargetRef\/2 must have required property 'key'/);
    });
  });
});
