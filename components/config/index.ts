/**
 * The one typed configuration model of stock-deploy: key table, value shapes, validation and the
 * validated model. Pure: no Pulumi resources, no I/O.
 */
export {
    FRONTEND_API_URL_VARIABLE,
    PROJECT,
    PYTHON_RUNTIME_MOUNT,
    ProbeSpec,
    RESERVED_NAMESPACES,
    isCidr,
    isDnsLabel,
    isDnsName,
    parseProbe,
    parseTenantEntry,
} from "./shapes";
export * from "./keys";
export * from "./model";
export * from "./errors";
export { parseStackConfig } from "./parse";
export { editDistance } from "./parse-keys";
