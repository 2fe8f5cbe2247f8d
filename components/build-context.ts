/**
 * What makes a directory a build context of the app, checked before any resource: a directory
 * with its Dockerfile at the top; for the frontend, a Dockerfile that takes `BUILD_FOR` (the program
 * builds it with `BUILD_FOR=<buildFor>` to pick `envs/<buildFor>`) and an `envs/` the program can
 * stage its computed dotenv into. Reads, never writes.
 */
import * as fs from "fs";
import * as path from "path";

/** Why the check failed, said after "stock:<key> in <file> is <dir>, ", and what fixes it when another source is not the fix. */
export interface ContextProblem {
    why: string;
    fix?: string;
}

const DOCKERFILE = "Dockerfile";
/** `ARG BUILD_FOR` or `ARG BUILD_FOR=<default>`, in any stage. */
const BUILD_FOR_ARG = /^\s*ARG\s+BUILD_FOR(\s*=.*)?\s*$/im;

const isDirectory = (p: string) => fs.existsSync(p) && fs.statSync(p).isDirectory();
const isFile = (p: string) => fs.existsSync(p) && fs.statSync(p).isFile();

/** Why `dir` is not a build context, if it is not one. */
export function buildContextProblem(dir: string): ContextProblem | undefined {
    if (!fs.existsSync(dir)) return { why: "which does not exist" };
    if (!isDirectory(dir)) return { why: "which is not a directory" };
    if (!isFile(path.join(dir, DOCKERFILE))) return { why: "which has no Dockerfile at its top: it is not a build context" };
    return undefined;
}

/** Why `dir`, a build context, is not a frontend the program can build for `buildFor`, if it is not. */
export function frontendContextProblem(dir: string, buildFor: string): ContextProblem | undefined {
    if (!BUILD_FOR_ARG.test(fs.readFileSync(path.join(dir, DOCKERFILE), "utf8")))
        return {
            why: `whose Dockerfile declares no ARG BUILD_FOR: the program builds the frontend with BUILD_FOR=${buildFor} to pick its dotenv envs/${buildFor}, so this is not the frontend (the backend's directory?)`,
        };
    const envs = path.join(dir, "envs");
    if (fs.existsSync(envs) && !isDirectory(envs))
        return {
            why: "whose envs is not a directory: the frontend's dotenv files are envs/<BUILD_FOR>, and the program writes this build's there",
            fix: `move ${envs} aside (the program computes the dotenv; nothing needs to be there)`,
        };
    const own = path.join(envs, buildFor);
    if (fs.existsSync(own) && !isFile(own))
        return {
            why: `whose envs/${buildFor} (stock:buildFor) is not a file: it is this build's dotenv`,
            fix: `move ${own} aside (the program computes the dotenv), or give this stack another stock:buildFor`,
        };
    return undefined;
}
