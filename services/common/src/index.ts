// What product-service and order-service share. Importing this loads neither the MongoDB driver nor
// the telemetry distro (see mongoStorage.ts and telemetry.ts).
export * from "./api";
export * from "./credentials";
export * from "./http";
export * from "./logger";
export * from "./mongoStorage";
export * from "./resource";
export * from "./service";
export * from "./storage";
export * from "./telemetry";
export * from "./validate";
