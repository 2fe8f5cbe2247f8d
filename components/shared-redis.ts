/**
 * The Redis every tenant's Celery uses as its broker: namespace `redis`, one Bitnami release, the
 * `default` user's password and one ACL user per tenant, each with a generated password.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { RedisSettings } from "./config";
import { tenantRedisAccess } from "./redis-acl";
import {
    REDIS_ACL_SECRET, REDIS_AUTH_SECRET, REDIS_AUTH_SECRET_KEY, REDIS_PORT, redisChartValues, redisMasterHost,
} from "./redis-values";

export interface SharedRedisArgs {
    /** Chart, version, image, architecture, persistence and resources (`stock:redis`). */
    settings: RedisSettings;
    /** Tenants that get an ACL user of their own (`stock:tenants`). */
    tenants: string[];
}

/** What a tenant stack reads from the shared stack: its own user, never the `default` one. */
export interface TenantRedisCredential {
    username: string;
    password: string;
    keyPrefix: string;
}

export class SharedRedis extends pulumi.ComponentResource {
    public readonly namespace: string;
    /** In-cluster host of the Redis master. */
    public readonly host: string;
    public readonly port: number;
    /** One secret credential per tenant, keyed by tenant name. */
    public readonly credentials: Record<string, pulumi.Output<TenantRedisCredential>>;

    constructor(name: string, args: SharedRedisArgs, opts?: pulumi.ComponentResourceOptions) {
        super("stock:index:SharedRedis", name, {}, opts);
        const { settings, tenants } = args;
        const values = redisChartValues(settings, tenants);
        this.namespace = settings.namespace;
        this.host = redisMasterHost(settings);
        this.port = REDIS_PORT;

        const namespace = new k8s.core.v1.Namespace(`${name}-namespace`, {
            metadata: {
                name: settings.namespace,
                labels: {
                    "app.kubernetes.io/managed-by": "pulumi",
                    "app.kubernetes.io/part-of": "stock",
                    // The Bitnami image runs as non-root with a read-only root fs: restricted fits.
                    "pod-security.kubernetes.io/enforce": "restricted",
                    "pod-security.kubernetes.io/warn": "restricted",
                },
            },
        }, { parent: this });

        const password = (id: string) => new random.RandomPassword(`${name}-${id}-password`, { length: 32, special: false }, { parent: this });
        const defaultPassword = password("default");
        const tenantPasswords = Object.fromEntries(tenants.map((t) => [t, password(t)]));

        const authSecret = new k8s.core.v1.Secret(`${name}-auth`, {
            metadata: { name: REDIS_AUTH_SECRET, namespace: settings.namespace },
            type: "Opaque",
            stringData: { [REDIS_AUTH_SECRET_KEY]: defaultPassword.result },
        }, { parent: this, dependsOn: [namespace] });

        const aclSecret = new k8s.core.v1.Secret(`${name}-acl-users`, {
            metadata: { name: REDIS_ACL_SECRET, namespace: settings.namespace },
            type: "Opaque",
            stringData: Object.fromEntries(tenants.map((t) => [tenantRedisAccess(t).username, tenantPasswords[t].result])),
        }, { parent: this, dependsOn: [namespace] });

        new k8s.helm.v4.Chart(`${name}-release`, {
            chart: settings.chart,
            version: settings.chartVersion,
            name: settings.releaseName,
            namespace: settings.namespace,
            values,
        }, { parent: this, dependsOn: [namespace, authSecret, aclSecret] });

        this.credentials = Object.fromEntries(tenants.map((t) => {
            const access = tenantRedisAccess(t);
            return [t, pulumi.secret(tenantPasswords[t].result.apply((pw) => ({ username: access.username, password: pw, keyPrefix: access.keyPrefix })))];
        }));
        this.registerOutputs({ host: this.host, port: this.port, namespace: this.namespace, credentials: this.credentials });
    }
}
