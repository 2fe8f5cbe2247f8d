/**
 * Where a tenant is reached: the frontend at `/` of `stock:host`, the API under `/api` of the same
 * host or of `stock:apiHost` (see docs/charts.md).
 */
import { TenantConfig } from "../config";

export interface TenantUrls {
    /** Scheme and host of the frontend: the one origin the API's CORS allows when the hosts differ. */
    origin: string;
    /** Scheme and host of the API, baked into the frontend as REACT_APP_HOST_URL. Equal to `origin` without apiHost. */
    apiOrigin: string;
    /** The API's own host, or the frontend's when the API shares it. */
    apiHost: string;
    /** True when the API has a host of its own (cross-origin calls, CORS). */
    separateApiHost: boolean;
    frontend: string;
    api: string;
}

export const API_PATH = "/api";

export function tenantUrls(tenant: Pick<TenantConfig, "host" | "apiHost" | "tls">): TenantUrls {
    const scheme = tenant.tls ? "https" : "http";
    const origin = `${scheme}://${tenant.host}`;
    const apiHost = tenant.apiHost ?? tenant.host;
    const apiOrigin = `${scheme}://${apiHost}`;
    return {
        origin,
        apiOrigin,
        apiHost,
        separateApiHost: apiHost !== tenant.host,
        frontend: `${origin}/`,
        api: `${apiOrigin}${API_PATH}/v1/`,
    };
}
