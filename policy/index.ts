/**
 * The stock-deploy CrossGuard policy pack. The analyzer (`pulumi preview|up --policy-pack ./policy`)
 * runs this file; everything else imports ./policies, because constructing a PolicyPack starts the
 * analyzer's gRPC server and prints its port for the engine.
 */
import { PolicyPack } from "@pulumi/policy";
import { PACK_NAME, policies } from "./policies";

new PolicyPack(PACK_NAME, {
    description:
        "Guardrails for the stock app on Kubernetes: non-root pods with limits and pinned images from Harbor, " +
        "no external Services in tenant namespaces, a default-deny NetworkPolicy per tenant, credentials only in Secrets.",
    enforcementLevel: "mandatory",
    policies,
});
