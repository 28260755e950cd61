export * from "./client";
export * from "./migrator";
export * from "./locks";
export * from "./secrets";
export * from "./repos/auth";
export * from "./repos/events";
export * from "./repos/settings";
export * from "./repos/tasks";
