export * from "./sessions.ts";
export * from "./users.ts";
export * from "./auth.ts";
export * from "./emails.ts";
export * from "./plans.ts";
export * from "./communities.ts";
export * from "./events.ts";
export * from "./payments.ts";
