/**
 * The external nginx load balancer of the seed, loaded with exactly the `server {}` blocks the
 * tenant stacks output (`nginxServerBlock`). The one change: each `listen 80;` becomes a loopback port,
 * since the tests cannot own port 80. The upstream each block proxies to is defined once, pointing
 * at the next hop (the ingress controller); a host without a block gets a 404 that says so.
 */

/** The upstream names the blocks proxy to (`proxy_pass http://<name>;`). */
export function upstreamNames(blocks: string[]): string[] {
    return [...new Set(blocks.flatMap((b) => [...b.matchAll(/proxy_pass\s+https?:\/\/([^\s;/]+)/g)].map((m) => m[1])))];
}

/**
 * The http {} body of the load balancer on 127.0.0.1:`port`. `upstreams` maps each upstream name
 * to the host:port it stands for here.
 */
export function loadBalancerHttp(blocks: string[], upstreams: Record<string, string>, port: number): string {
    const out: string[] = [];
    for (const name of upstreamNames(blocks)) {
        if (!upstreams[name]) throw new Error(`the server blocks proxy to upstream ${name}, which the test does not define`);
        out.push(`upstream ${name} {`, `    server ${upstreams[name]};`, "}");
    }
    out.push(
        "server {",
        `    listen 127.0.0.1:${port} default_server;`,
        "    server_name _;",
        '    return 404 "load balancer: no server block for host $host\\n";',
        "}",
    );
    for (const block of blocks) {
        const servers = block.match(/^\s*server\s*\{/gm) ?? [];
        const listens = block.match(/^\s*listen\s+80;\s*$/gm) ?? [];
        if (servers.length === 0 || listens.length !== servers.length) {
            throw new Error(
                `expected one "listen 80;" per server {} in the stack's nginxServerBlock, found ${listens.length} in ${servers.length}:\n${block}`,
            );
        }
        out.push(block.replace(/^(\s*)listen\s+80;\s*$/gm, `$1listen 127.0.0.1:${port};`));
    }
    return out.join("\n") + "\n";
}
