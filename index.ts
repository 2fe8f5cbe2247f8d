// Entry point of the Pulumi program: `pulumi up -s shared`, then `pulumi up -s <tenant>`.
// The stack outputs are the keys of the object `deploy()` resolves to (see README.md).
import { deploy } from "./components/program";

export = deploy();
