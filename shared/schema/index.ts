export * from "./sessions.ts";
export * from "./users.ts";
export * from "./auth.ts";
export * from "./emails.ts";
export * from "./communities.ts";
export * from "./events.ts";
