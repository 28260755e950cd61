export * from "./errors";
export * from "./enums";
export * from "./tasks";
export * from "./api";
export * from "./config";
export const HEARTH_VERSION = "0.1.0";
