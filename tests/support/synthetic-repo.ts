/**
 * A throwaway copy of this repository's stack layout with N generated tenants: the real
 * Pulumi.yaml, the images stack (building the default backend source), a shared stack listing
 * them, and one stack file per tenant, as `tenant add` would write it. For the fleet tools' tests and the bench; nothing here is a real customer.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";
import { REPO_ROOT } from "../../tools/lib/stack-files";

export interface SyntheticTenant {
    name: string;
    wave?: number;
    /** Extra `stock:*` keys for the stack file. */
    config?: Record<string, unknown>;
}

/** `t-0001`, `t-0002`, ...: names that sort the way they are numbered. */
export function tenantName(i: number): string {
    return `t-${String(i).padStart(4, "0")}`;
}

export function writeTenantStack(root: string, t: SyntheticTenant): void {
    const config: Record<string, unknown> = {
        "stock:tenant": t.name,
        "stock:host": `app.${t.name}.example.com`,
        "stock:buildFor": t.name,
        "stock:dbName": `stock_${t.name.replace(/-/g, "_")}`,
        "stock:dbUser": `stock_${t.name.replace(/-/g, "_")}`,
        // No project default names the app a stack builds: every stack file does (the reference
        // app's paths, as client-a's; the fleet tools read them, nothing here builds them).
        "stock:backendSource": "app/backend",
        "stock:frontendSource": "app/frontend",
        ...(t.wave === undefined ? {} : { "stock:rolloutWave": t.wave }),
        ...t.config,
    };
    fs.writeFileSync(path.join(root, `Pulumi.${t.name}.yaml`), YAML.stringify({ config }));
}

/** Writes the repo into a new temporary folder and returns its path; `remove` it when done. */
export function syntheticRepo(tenants: SyntheticTenant[], shared: Record<string, unknown> = {}): { root: string; remove(): void } {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "stock-fleet-"));
    fs.copyFileSync(path.join(REPO_ROOT, "Pulumi.yaml"), path.join(root, "Pulumi.yaml"));
    fs.writeFileSync(
        path.join(root, "Pulumi.images.yaml"),
        YAML.stringify({ config: { "stock:role": "images", "stock:backendSources": ["app/backend"] } }),
    );
    fs.writeFileSync(
        path.join(root, "Pulumi.shared.yaml"),
        YAML.stringify({ config: { "stock:role": "shared", "stock:tenants": tenants.map((t) => t.name), ...shared } }),
    );
    for (const t of tenants) writeTenantStack(root, t);
    return { root, remove: () => fs.rmSync(root, { recursive: true, force: true }) };
}
