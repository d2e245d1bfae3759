// Stack configuration: the one key table (keys.ts), its validators, the parser into the typed
// PlatformConfig the components receive, and the loader from the Pulumi runtime. Nothing else in the
// program reads config.
export * from "./constants";
export * from "./types";
export * from "./validators";
export { CONFIG_KEYS, KEY_NAMES, defaultOf, specOf, type ConfigKey, type ConfigType, type KeySpec, type Scope } from "./keys";
export { ConfigError, nearestKey, readValues, type Raw } from "./read";
export { maxNamePrefixLength, namesFor } from "./names";
export { checkDeployable, parseConfig, singleServiceAccount, type ParseOptions } from "./parse";
export { loadConfig } from "./load";
