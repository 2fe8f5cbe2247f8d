/**
 * One customer: its namespace, environment (ConfigMap + Secret), Harbor pull secret, its frontend
 * image (the backend image comes from the images stack) and the three charts, with ingress on the
 * customer's host. Everything the charts receive is computed
 * by pure functions from the config before the first resource is created.
 */
import * as path from "path";
import * as corev1 from "@pulumi/kubernetes/core/v1";
import { Chart } from "@pulumi/kubernetes/helm/v4";
import { NetworkPolicy } from "@pulumi/kubernetes/networking/v1";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { TenantConfig } from "../config";
import { BackendEnv, ENV_CONFIGMAP, ENV_SECRET, backendEnv, envChecksum } from "./app-env";
import { RedisConnection } from "../redis/credential";
import { CHARTS_DIR, ChartName, RELEASES, chartValues } from "./chart-values";
import { contentTag } from "../content-hash";
import { ImageRef } from "../images/backend-image";
import { TenantImages } from "./images";
import { nginxServerBlock } from "./nginx";
import { PYTHON_RUNTIME_CONFIGMAP, PythonRuntime } from "./python-runtime";
import { tenantQuota } from "./quota";
import { REDIS_CLIENT_LABEL } from "../redis/values";
import { TenantUrls, tenantUrls } from "./urls";

import { TENANT_LABEL } from "../names";

export { TENANT_LABEL };

export interface TenantArgs {
    /** The validated tenant configuration (components/config/model.ts). */
    config: TenantConfig;
    /** Absolute build context of the frontend: the staged copy, which carries its computed `envs/<buildFor>`. */
    sources: { frontend: string };
    /**
     * The backend image the charts deploy (components/images/backend-image.ts `backendImageRef`):
     * built and pushed by the images stack, never by a tenant; the program checks Harbor has it.
     */
    backendImage: ImageRef;
    /** The tenant's own Redis user on the shared Redis, read from the shared stack. */
    redis: RedisConnection & { namespace: string };
    /**
     * Our Python runtime (components/tenant/python-runtime.ts `readPythonRuntime()`), shipped as ConfigMap
     * `stock-python-runtime` and mounted on PYTHONPATH of every backend container. Required when
     * `config.app.redisKeyPrefix` is `shim`; ignored (nothing mounted) when it is `app`.
     */
    pythonRuntime?: PythonRuntime;
}

/** `.dockerconfigjson` for a registry, as `kubectl create secret docker-registry` writes it. */
export function dockerConfigJson(server: string, username: string, password: string): string {
    const auth = Buffer.from(`${username}:${password}`).toString("base64");
    return JSON.stringify({ auths: { [server]: { username, password, auth } } });
}

export class Tenant extends pulumi.ComponentResource {
    public readonly namespace: string;
    public readonly urls: TenantUrls;
    public readonly nginxServerBlock: string;
    public readonly images: TenantImages;
    /** The ConfigMap/Secret keys (never values) the backend reads. */
    public readonly envKeys: { config: string[]; secret: string[] };

    constructor(name: string, args: TenantArgs, opts?: pulumi.ComponentResourceOptions) {
        // Everything that can fail is computed before the component registers.
        const { config, sources, redis } = args;
        const runtime = config.app.redisKeyPrefix === "shim" ? args.pythonRuntime : undefined;
        if (config.app.redisKeyPrefix === "shim" && !runtime?.files.length) {
            throw new Error(
                `Tenant ${name}: stock:redisKeyPrefixMode is shim, so args.pythonRuntime (the files of runtime/python/) is required`,
            );
        }
        const env: BackendEnv = backendEnv(config, redis);
        // The staged context holds only this build's dotenv file, so another tenant's never changes this tag.
        const frontendTag = contentTag(sources.frontend, { BUILD_FOR: config.buildFor });
        const quota = tenantQuota(config);
        super("stock:index:Tenant", name, {}, opts);
        this.namespace = config.tenant;
        this.urls = tenantUrls(config);
        this.nginxServerBlock = nginxServerBlock(config);
        this.envKeys = { config: Object.keys(env.config).sort(), secret: [...Object.keys(env.secret), "DJANGO_SECRET_KEY"].sort() };
        const child = { parent: this };

        const namespace = new corev1.Namespace(
            `${name}-namespace`,
            {
                metadata: {
                    name: config.tenant,
                    labels: {
                        [TENANT_LABEL]: config.tenant,
                        [REDIS_CLIENT_LABEL]: "true",
                        "app.kubernetes.io/managed-by": "pulumi",
                        "app.kubernetes.io/part-of": "stock",
                        "pod-security.kubernetes.io/enforce": config.podSecurity,
                        "pod-security.kubernetes.io/enforce-version": "latest",
                        "pod-security.kubernetes.io/warn": "restricted",
                        "pod-security.kubernetes.io/audit": "restricted",
                    },
                },
            },
            child,
        );
        const inNamespace = { ...child, dependsOn: [namespace] };
        const metadata = (resourceName: string) => ({
            name: resourceName,
            namespace: config.tenant,
            labels: { [TENANT_LABEL]: config.tenant },
        });

        // Nothing reaches or leaves a tenant's pods unless a chart's NetworkPolicy allows it.
        const defaultDeny = new NetworkPolicy(
            `${name}-default-deny`,
            {
                metadata: metadata("default-deny"),
                spec: { podSelector: {}, policyTypes: ["Ingress", "Egress"] },
            },
            inNamespace,
        );

        const configMap = new corev1.ConfigMap(`${name}-env`, { metadata: metadata(ENV_CONFIGMAP), data: env.config }, inNamespace);
        // The shim that puts an unmodified app's Redis keys under the tenant's prefix (docs/app-contract.md).
        const runtimeConfigMap = runtime
            ? new corev1.ConfigMap(
                  `${name}-python-runtime`,
                  {
                      metadata: metadata(PYTHON_RUNTIME_CONFIGMAP),
                      data: Object.fromEntries(runtime.files.map((f) => [f.key, f.content])),
                  },
                  inNamespace,
              )
            : undefined;

        // Generated once and kept in state; not part of the checksum, which must be known at preview.
        const djangoSecretKey = new random.RandomPassword(`${name}-django-secret-key`, { length: 50, special: false }, child);
        const secret = new corev1.Secret(
            `${name}-secret`,
            {
                metadata: metadata(ENV_SECRET),
                type: "Opaque",
                stringData: {
                    ...Object.fromEntries(Object.entries(env.secret).map(([k, v]) => [k, pulumi.secret(v)])),
                    DJANGO_SECRET_KEY: djangoSecretKey.result,
                },
            },
            inNamespace,
        );

        // Pods only pull: a pull-only robot keeps a leaked pull secret from overwriting images.
        const puller =
            config.harbor.pullUsername && config.secrets.harborPullPassword
                ? { username: config.harbor.pullUsername, password: config.secrets.harborPullPassword }
                : { username: config.harbor.username, password: config.secrets.harborPassword };
        if (!config.harbor.pullUsername) {
            void pulumi.log.warn(
                `${config.tenant}'s image-pull Secret uses the push robot ${config.harbor.username}; set stock:harborPullUsername and stock:harborPullPassword to a pull-only robot (SECURITY.md, Harbor robot)`,
                this,
            );
        }
        const pullSecret = new corev1.Secret(
            `${name}-pull-secret`,
            {
                metadata: metadata(config.pullSecretName),
                type: "kubernetes.io/dockerconfigjson",
                stringData: {
                    ".dockerconfigjson": pulumi.secret(dockerConfigJson(config.harbor.server, puller.username, puller.password)),
                },
            },
            inNamespace,
        );

        this.images = new TenantImages(
            `${name}-images`,
            {
                server: config.harbor.server,
                project: config.harbor.project,
                username: config.harbor.username,
                password: pulumi.secret(config.secrets.harborPassword),
                platform: config.images.platform,
                cache: config.buildCache,
                frontend: {
                    context: sources.frontend,
                    repository: config.images.frontend.repository,
                    tag: frontendTag,
                    cacheTag: `buildcache-${config.tenant}`,
                    buildFor: config.buildFor,
                    npmToken: pulumi.secret(config.secrets.npmToken),
                    npmTokenMode: config.npmTokenMode,
                },
            },
            child,
        );

        const values = chartValues({
            tenant: config,
            images: { backend: args.backendImage, frontend: this.images.frontendRef },
            envChecksum: envChecksum(env),
            redis: { namespace: redis.namespace, port: redis.port, keyPrefix: redis.keyPrefix },
            pythonRuntime: runtime ? { configMap: PYTHON_RUNTIME_CONFIGMAP, checksum: runtime.checksum } : undefined,
        });
        const chart = (chartName: ChartName, dependsOn: pulumi.Resource[]) =>
            new Chart(
                `${name}-${chartName}`,
                {
                    // Relative to where Pulumi runs, so the same on every machine (no diff between CI runners).
                    chart: path.relative(process.cwd(), path.join(CHARTS_DIR, chartName)),
                    name: RELEASES[chartName],
                    namespace: config.tenant,
                    values: values[chartName],
                },
                { ...child, dependsOn },
            );
        // No pod starts before the namespace denies by default.
        // The namespace's budget, sized from this config (components/tenant/quota.ts): a bad replicas value
        // is refused at admission here instead of starving the node pool all tenants share.
        const budget = [
            new corev1.ResourceQuota(`${name}-quota`, { metadata: metadata("tenant-quota"), spec: { hard: quota.hard } }, inNamespace),
            new corev1.LimitRange(
                `${name}-limits`,
                { metadata: metadata("tenant-limits"), spec: { limits: [{ type: "Container", ...quota.limitRange }] } },
                inNamespace,
            ),
        ];
        const runtimeInputs = [
            namespace,
            defaultDeny,
            ...budget,
            configMap,
            secret,
            pullSecret,
            this.images,
            ...(runtimeConfigMap ? [runtimeConfigMap] : []),
        ];
        // The API chart runs the migration Job for this image; workers start after it.
        const api = chart("backend-api", runtimeInputs);
        chart("celery", [...runtimeInputs, api]);
        chart("frontend", [namespace, defaultDeny, ...budget, pullSecret, this.images]);

        this.registerOutputs({ namespace: this.namespace, urls: this.urls, nginxServerBlock: this.nginxServerBlock });
    }
}
