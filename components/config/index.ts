// Stack configuration: the one table (keys.ts: environment, the groups and their members, DEFAULTS), the
// zod schema built from it (schema.ts), the reader into typed values (read.ts), the validators, the
// parser into the typed PlatformConfig the components receive, and the loader from the Pulumi runtime.
// Nothing else in the program reads config.
export * from "./constants";
export * from "./types";
export * from "./validators";
export {
    CONFIG_GROUPS,
    CONFIG_PATHS,
    DEFAULTS,
    GROUP_NAMES,
    defaultOf,
    isConfigPath,
    membersOf,
    specOf,
    splitPath,
    type AnyKeySpec,
    type ConfigPath,
    type ConfigType,
    type ConfigValues,
    type DefaultValue,
    type GroupName,
    type KeySpec,
    type MemberName,
    type PathValue,
    type Scope,
    type ValueOf,
} from "./keys";
export { FLAT_KEY_PATHS } from "./layout";
export { HIDDEN, schemaProblems } from "./schema";
export { ConfigError, readValues, type Raw, type Reading } from "./read";
export { maxNamePrefixLength, namesFor } from "./names";
export { checkDeployable, parseConfig, singleServiceAccount, type ParseOptions } from "./parse";
export { SERVICE_IMAGE_PATHS } from "./rules";
export { loadConfig } from "./load";
