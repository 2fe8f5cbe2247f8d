// The external load balancer's server block: port 80 always; with TLS on the ingress, how to pass
// port 443 through at layer 4 (the ingress holds the certificate).
import * as assert from "assert";
import { nginxServerBlock } from "../../components/tenant/nginx";

const tenant = { tenant: "client-a", host: "app.client-a.feng.local", lbUpstream: "k8s" };

describe("nginx server block: TLS", () => {
    it("without TLS, says nothing about port 443", () => {
        const block = nginxServerBlock(tenant);
        assert.ok(block.includes("  listen 80;\n  server_name app.client-a.feng.local;\n"), block);
        assert.ok(!block.includes("443") && !block.includes("ssl_preread"), block);
    });

    for (const tls of [{ secretName: "client-a-tls" }, { clusterIssuer: "letsencrypt" }]) {
        it(`with ${Object.keys(tls)[0]}, adds the layer-4 pass-through of port 443 for this host to the upstream's https port`, () => {
            const block = nginxServerBlock({ ...tenant, tls });
            const lines = block.trimEnd().split("\n");
            assert.deepStrictEqual(lines.slice(-3), [
                "# TLS for app.client-a.feng.local terminates at the cluster's ingress: pass port 443 through at layer 4, e.g.",
                "#   stream { map $ssl_preread_server_name $backend { app.client-a.feng.local k8s_https; }",
                "#            server { listen 443; ssl_preread on; proxy_pass $backend; } }",
            ]);
            assert.ok(block.startsWith(nginxServerBlock(tenant)), "the port-80 block is unchanged");
        });
    }
});
