/** The rules of the stacks that talk to Harbor (images, tenant) across their Harbor keys. */
import { PROJECT } from "./shapes";
import { KeyName, KeyValue } from "./keys";
import { Checked } from "./parse-keys";

/**
 * The warning of `stock:harborPlainHttp: true`, at every run: the key is a choice, not a mistake
 * (the e2e job's kind registry has no TLS), but what it costs must stay visible in every log.
 */
export function plainHttpWarning(server: string, username: string, stack: string, file: string): string {
    const prefix = `${PROJECT}:`;
    return `${prefix}harborPlainHttp is true for ${file}: ${server} is asked over plain HTTP, without TLS, so the robot ${username}'s credentials cross the network unencrypted and whoever answers on that address or listens on the way can read them and push as that robot. Only for a registry on a network you trust; once ${server} serves TLS: pulumi config set ${prefix}harborPlainHttp false -s ${stack}`;
}

export function harborRules(get: <K extends KeyName>(k: K) => KeyValue<K>, stack: string, file: string, checked: Checked): void {
    if (get("harborPlainHttp")) checked.warnings.push(plainHttpWarning(get("harborServer"), get("harborUsername"), stack, file));
}
