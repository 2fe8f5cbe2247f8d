/** Where a tenant is reached: one host, the frontend at `/`, the API under `/api` (see docs/charts.md). */
import { TenantConfig } from "./config";

export interface TenantUrls {
    /** Scheme and host, baked into the frontend as REACT_APP_HOST_URL. */
    origin: string;
    frontend: string;
    api: string;
}

export const API_PATH = "/api";

export function tenantUrls(tenant: Pick<TenantConfig, "host" | "tls">): TenantUrls {
    const origin = `${tenant.tls ? "https" : "http"}://${tenant.host}`;
    return { origin, frontend: `${origin}/`, api: `${origin}${API_PATH}/v1/` };
}
