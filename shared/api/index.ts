export * from "./auth.ts";
export * from "./communities.ts";
export * from "./events.ts";
export * from "./pagination.ts";
export * from "./payments.ts";
