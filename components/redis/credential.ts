/**
 * The one Redis credential type: what the shared stack gives each tenant (its `redisCredential-<tenant>`
 * output) and what a tenant stack connects with. The ACL side ({@link TenantRedisAccess} in ./acl) and
 * the connection a tenant's pods use are built from it.
 */

/** A tenant's own Redis user, never the `default` one. */
export interface RedisCredential {
    /** The ACL user: the tenant name. */
    username: string;
    password: string;
    /** The only keys and channels the user may touch, e.g. `client-a:`. */
    keyPrefix: string;
}

/** Where the shared Redis listens, as the shared stack exports it. */
export interface RedisEndpoint {
    /** In-cluster host of the Redis master. */
    host: string;
    port: number;
}

/** How a tenant reaches its own slice of the shared Redis (from the shared stack's outputs). */
export type RedisConnection = RedisCredential & RedisEndpoint;
