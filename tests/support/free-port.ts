/**
 * A free TCP port on the loopback interface, chosen by the kernel (listen on port 0, read it, close).
 * Another process could take it between this call and its use; tests start their server right away,
 * and `startProcess` fails loudly (with the server's output) if the port was lost.
 */
import * as net from "net";

export function freePort(host = "127.0.0.1"): Promise<number> {
    return new Promise((resolve, reject) => {
        const server = net.createServer();
        server.unref();
        server.once("error", reject);
        server.listen({ host, port: 0, exclusive: true }, () => {
            const address = server.address();
            if (address === null || typeof address === "string") {
                server.close();
                reject(new Error(`cannot read the port of ${String(address)}`));
                return;
            }
            server.close(() => resolve(address.port));
        });
    });
}
