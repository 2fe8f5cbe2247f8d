/**
 * A public host belongs to one tenant: two stacks that claim the same `stock:host` or
 * `stock:apiHost` would route one customer's traffic to the other's ingress (ingress-nginx merges
 * rules of the same host). The program sees only its own stack's config, so it reads the host keys
 * of the project's other stack files, which are the fleet this repository deploys.
 */
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { PROJECT, TenantConfig, stackFile } from "./config";

export interface HostClaim {
    stack: string;
    key: "host" | "apiHost";
    host: string;
}

/** The `stock:host` / `stock:apiHost` values set in every `Pulumi.<stack>.yaml` under `root`. */
export function hostClaims(root: string): HostClaim[] {
    const claims: HostClaim[] = [];
    for (const file of fs.readdirSync(root).sort()) {
        const stack = /^Pulumi\.(.+)\.ya?ml$/.exec(file)?.[1];
        if (!stack) continue;
        const parsed = YAML.parse(fs.readFileSync(path.join(root, file), "utf8")) as { config?: Record<string, unknown> } | null;
        const config = parsed?.config ?? {};
        for (const key of ["host", "apiHost"] as const) {
            const value = config[`${PROJECT}:${key}`];
            if (typeof value === "string" && value) claims.push({ stack, key, host: value });
        }
    }
    return claims;
}

/** Problems for each host of this tenant that another stack also claims. */
export function hostConflicts(tenant: Pick<TenantConfig, "stack" | "host" | "apiHost">, claims: HostClaim[]): string[] {
    const own: HostClaim[] = [{ stack: tenant.stack, key: "host", host: tenant.host }];
    if (tenant.apiHost) own.push({ stack: tenant.stack, key: "apiHost", host: tenant.apiHost });
    return own.flatMap((mine) =>
        claims
            .filter((other) => other.stack !== tenant.stack && other.host === mine.host)
            .map(
                (other) =>
                    `${PROJECT}:${mine.key} in ${stackFile(tenant.stack)} is ${mine.host}, which ${PROJECT}:${other.key} in ${stackFile(other.stack)} already claims: one host cannot serve two tenants. Fix: pulumi config set ${PROJECT}:${mine.key} <a host of this customer's own> -s ${tenant.stack}`,
            ),
    );
}
