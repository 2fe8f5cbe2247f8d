/** What the checks know of a resource, and where a workload keeps its pods and containers. */

// Resource properties are whatever the program (or a chart) declared: untyped on purpose.

export type Props = Record<string, any>;

/** What the checks need to know of a resource (a subset of ResourceValidationArgs / PolicyResource). */
export interface ResourceView {
    type: string;
    name: string;
    urn?: string;
    props: Props;
}

export interface Finding {
    message: string;
    /** The resource at fault (stack policies); resource policies report against the resource validated. */
    urn?: string;
}

const t = (group: string, version: string, kind: string) => `kubernetes:${group ? `${group}/` : "core/"}${version}:${kind}`;

export const TYPES = {
    namespace: t("", "v1", "Namespace"),
    service: t("", "v1", "Service"),
    configMap: t("", "v1", "ConfigMap"),
    secret: t("", "v1", "Secret"),
    pod: t("", "v1", "Pod"),
    replicationController: t("", "v1", "ReplicationController"),
    deployment: t("apps", "v1", "Deployment"),
    statefulSet: t("apps", "v1", "StatefulSet"),
    daemonSet: t("apps", "v1", "DaemonSet"),
    replicaSet: t("apps", "v1", "ReplicaSet"),
    job: t("batch", "v1", "Job"),
    cronJob: t("batch", "v1", "CronJob"),
    networkPolicy: t("networking.k8s.io", "v1", "NetworkPolicy"),
    /** An image the stack builds and pushes (`@pulumi/docker-build`). */
    dockerImage: "docker-build:index:Image",
} as const;

/** Where each workload type keeps its pod spec. */
export const POD_SPEC_PATHS: Readonly<Record<string, readonly string[]>> = {
    [TYPES.deployment]: ["spec", "template", "spec"],
    [TYPES.statefulSet]: ["spec", "template", "spec"],
    [TYPES.daemonSet]: ["spec", "template", "spec"],
    [TYPES.replicaSet]: ["spec", "template", "spec"],
    [TYPES.replicationController]: ["spec", "template", "spec"],
    [TYPES.job]: ["spec", "template", "spec"],
    [TYPES.cronJob]: ["spec", "jobTemplate", "spec", "template", "spec"],
    [TYPES.pod]: ["spec"],
};

export function isWorkload(type: string): boolean {
    return type in POD_SPEC_PATHS;
}

/** `Kind` of a `kubernetes:<group>/<version>:<Kind>` type (`Image` of `docker-build:index:Image`). */
export function kindOf(type: string): string {
    return type.slice(type.lastIndexOf(":") + 1);
}

/** The namespace a namespaced object lands in: its own, or `default` (the provider's default). */
export function namespaceOf(props: Props): string {
    const ns = props?.metadata?.namespace;
    return typeof ns === "string" && ns !== "" ? ns : "default";
}

/** `Deployment client-a/stock-backend-api` (metadata.name when set, else the Pulumi name). */
export function describe(r: ResourceView, withNamespace = true): string {
    const name = typeof r.props?.metadata?.name === "string" ? r.props.metadata.name : r.name;
    return withNamespace ? `${kindOf(r.type)} ${namespaceOf(r.props)}/${name}` : `${kindOf(r.type)} ${name}`;
}

export interface ContainerView {
    /** `container "api"` or `init container "wait"`. */
    label: string;

    spec: Record<string, any>;
}

/** The pod spec of a workload, or undefined for other types. */
export function podSpecOf(r: ResourceView): Props | undefined {
    const path = POD_SPEC_PATHS[r.type];
    if (!path) return undefined;
    let cur: unknown = r.props;
    for (const key of path) {
        if (cur === null || typeof cur !== "object") return undefined;
        cur = (cur as Props)[key];
    }
    return cur !== null && typeof cur === "object" ? cur : undefined;
}

export function containersOf(podSpec: Props): ContainerView[] {
    const list = (key: string, what: string): ContainerView[] =>
        (Array.isArray(podSpec[key]) ? podSpec[key] : []).map((c: Props, i: number) => ({
            label: `${what} "${typeof c?.name === "string" ? c.name : `#${i}`}"`,
            spec: c ?? {},
        }));
    return [...list("initContainers", "init container"), ...list("containers", "container")];
}

export function podSpecPath(type: string): string {
    return (POD_SPEC_PATHS[type] ?? ["spec"]).join(".");
}

/** Set to something: not null or undefined, not a blank string, not an empty list. */
export function present(v: unknown): boolean {
    if (v === undefined || v === null) return false;
    if (typeof v === "string") return v.trim() !== "";
    if (Array.isArray(v)) return v.length > 0;
    return true;
}

/** The references an image build pushes (`tags` of a docker-build Image). */
export function pushedTags(props: Props): string[] {
    const tags = props.tags;
    return Array.isArray(tags) ? tags.filter((t): t is string => typeof t === "string") : [];
}
