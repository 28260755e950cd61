export * from "./errors";
export * from "./enums";
export * from "./tasks";
export * from "./api";
export * from "./config";
export * from "./box-socket";
export * from "./manifest";
export * from "./apps";
export const HEARTH_VERSION = "0.1.0";
