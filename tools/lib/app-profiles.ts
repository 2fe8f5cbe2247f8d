/**
 * The app profiles `tenant add --profile` writes: the stack keys an app needs set away from the
 * project defaults. The defaults in Pulumi.yaml are the real app's (github.com/fengxia41103/stock,
 * unmodified), so its profile sets nothing; the reference app in app/ opts into its hardened
 * endpoints, as Pulumi.client-a.yaml and Pulumi.client-b.yaml do (a test keeps them in step).
 * The values are checked by the program's config model with the rest of the stack file.
 */
import { KeyName } from "../../components/config";

export interface AppProfileKey {
    value: string;
    /** The comment written above the key: why this app needs it. */
    comment: string;
}

export interface AppProfile {
    /** One line for the usage and the error listing the profiles. */
    summary: string;
    keys: Partial<Record<KeyName, AppProfileKey>>;
}

/** The profile `tenant add` uses without --profile. */
export const DEFAULT_APP_PROFILE = "real";

export const APP_PROFILES: Record<string, AppProfile> = {
    real: {
        summary: "the real stock app (github.com/fengxia41103/stock) as its author ships it: the project defaults, no key written",
        keys: {},
    },
    reference: {
        summary:
            "the reference app in app/ (app/backend, app/frontend): its health endpoints, Celery heartbeat, own key prefix and npm secret",
        keys: {
            npmTokenMode: {
                value: "secret",
                comment:
                    ' app profile "reference" (tenant add --profile reference; the project defaults are the\n real app\'s, README "Bring your own app"): app/frontend\'s Dockerfile mounts the npm token\n as a BuildKit secret (RUN --mount=type=secret,id=npm_token)',
            },
            apiStartupProbe: {
                value: "http:/healthz",
                comment: " liveness and startup on /healthz, which touches neither the database nor Redis",
            },
            apiLivenessProbe: { value: "http:/healthz", comment: "" },
            apiReadinessProbe: { value: "http:/readyz", comment: " answers 503 while the database is down" },
            celeryLiveness: { value: "heartbeat", comment: " the reference app's heartbeat bootstep touches CELERY_HEARTBEAT_FILE" },
            redisKeyPrefixMode: { value: "app", comment: " the reference app reads DJANGO_REDIS_KEY_PREFIX itself: no shim on PYTHONPATH" },
        },
    },
};

/** `name`'s profile, or undefined; see {@link unknownProfileMessage}. */
export function appProfile(name: string): AppProfile | undefined {
    return Object.prototype.hasOwnProperty.call(APP_PROFILES, name) ? APP_PROFILES[name] : undefined;
}

/** The error for a --profile that is none of {@link APP_PROFILES}, listing them. */
export function unknownProfileMessage(name: string): string {
    const known = Object.entries(APP_PROFILES).map(([n, p]) => `  ${n}${n === DEFAULT_APP_PROFILE ? " (default)" : ""}: ${p.summary}`);
    return `unknown --profile '${name}'; the known app profiles are:\n${known.join("\n")}`;
}
