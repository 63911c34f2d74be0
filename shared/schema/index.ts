export * from "./sessions.ts";
