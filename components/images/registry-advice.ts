/**
 * The registry errors that carry their own fix (an untrusted CA, a registry without TLS): both
 * callers of the lookup, a tenant's tag check and the images stack, show that fix instead of the
 * generic reachability advice.
 */
import { RegistryTrustError } from "./registry-trust";
import { PlainHttpRegistryError } from "./registry-plain-http";

/** What failed and what to do, for `stack`; undefined for an error without advice of its own. */
export function registryAdvice(e: unknown, stack: string): { problem: string; fix: string } | undefined {
    if (e instanceof RegistryTrustError) return { problem: e.problem, fix: e.fix };
    if (e instanceof PlainHttpRegistryError) return { problem: e.problem, fix: e.fixFor(stack) };
    return undefined;
}
