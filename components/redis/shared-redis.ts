/**
 * The Redis every tenant's Celery uses as its broker: namespace `redis`, one Bitnami release, the
 * `default` user (the chart's own) and one ACL user per tenant, limited to its key prefix.
 */
import { RedisCredential } from "./credential";
import * as corev1 from "@pulumi/kubernetes/core/v1";
import { Chart } from "@pulumi/kubernetes/helm/v4";
import * as pulumi from "@pulumi/pulumi";
import { SharedConfig } from "../config";
import { tenantRedisAccess } from "./acl";
import { redisPasswords } from "./passwords";
import {
    REDIS_ACL_FILE,
    REDIS_ACL_SECRET,
    REDIS_AUTH_SECRET,
    REDIS_AUTH_SECRET_KEY,
    REDIS_PORT,
    redisAclFile,
    redisChartValues,
    redisMasterHost,
    shortDigest,
} from "./values";

export interface SharedRedisArgs {
    /** The validated shared-stack config: Redis settings, tenants, password seed and generations. */
    config: SharedConfig;
}

export class SharedRedis extends pulumi.ComponentResource {
    public readonly namespace: string;
    /** In-cluster host of the Redis master. */
    public readonly host: string;
    public readonly port: number;
    /** One secret credential per tenant, keyed by tenant name. */
    public readonly credentials: Record<string, pulumi.Output<RedisCredential>>;

    constructor(name: string, args: SharedRedisArgs, opts?: pulumi.ComponentResourceOptions) {
        // Everything that can fail is computed before the component registers.
        const { redis: settings, tenants } = args.config;
        const passwords = redisPasswords(args.config);
        const aclFile = redisAclFile(tenants, passwords);
        const values = redisChartValues(settings, shortDigest(passwords.defaultPassword));
        super("stock:index:SharedRedis", name, {}, opts);
        this.namespace = settings.namespace;
        this.host = redisMasterHost(settings);
        this.port = REDIS_PORT;

        const namespace = new corev1.Namespace(
            `${name}-namespace`,
            {
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
            },
            { parent: this },
        );
        const inNamespace = { parent: this, dependsOn: [namespace] };

        const authSecret = new corev1.Secret(
            `${name}-auth`,
            {
                metadata: { name: REDIS_AUTH_SECRET, namespace: settings.namespace },
                type: "Opaque",
                stringData: { [REDIS_AUTH_SECRET_KEY]: pulumi.secret(passwords.defaultPassword) },
            },
            inNamespace,
        );

        const aclSecret = new corev1.Secret(
            `${name}-acl`,
            {
                metadata: { name: REDIS_ACL_SECRET, namespace: settings.namespace },
                type: "Opaque",
                stringData: { [REDIS_ACL_FILE]: pulumi.secret(aclFile) },
            },
            inNamespace,
        );

        new Chart(
            `${name}-release`,
            {
                chart: settings.chart,
                version: settings.chartVersion,
                name: settings.releaseName,
                namespace: settings.namespace,
                values,
            },
            { parent: this, dependsOn: [namespace, authSecret, aclSecret] },
        );

        this.credentials = Object.fromEntries(
            tenants.map((t) => {
                const access = tenantRedisAccess(t);
                return [t, pulumi.secret({ username: access.username, password: passwords.tenants[t], keyPrefix: access.keyPrefix })];
            }),
        );
        this.registerOutputs({ host: this.host, port: this.port, namespace: this.namespace, credentials: this.credentials });
    }
}
