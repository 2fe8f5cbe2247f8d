/**
 * A tenant's tag check (components/images/tag-check.ts over the real registry lookup) in a process
 * of its own, so that the test decides its NODE_EXTRA_CA_CERTS (Node reads it only at start-up).
 *
 *     node -r ts-node/register/transpile-only tests/support/tag-check-child.ts '<json TagCheckRequest without preview>' <tag>...
 *
 * Prints one JSON line per tag: `{"tag", "digest"}` or `{"tag", "error", "name"}`.
 */
import { registryTagDigest } from "../../components/images/registry";
import { TagCheckRequest, checkImageInRegistry } from "../../components/images/tag-check";

async function main(): Promise<void> {
    const [requestJson, ...tags] = process.argv.slice(2);
    const request = JSON.parse(requestJson) as TagCheckRequest;
    for (const tag of tags) {
        try {
            const result = await checkImageInRegistry({ ...request, image: { ...request.image, tag }, preview: false }, registryTagDigest);
            console.log(JSON.stringify({ tag, digest: result.digest }));
        } catch (e) {
            console.log(JSON.stringify({ tag, error: (e as Error).message, name: (e as Error).name }));
        }
    }
}

void main();
