export { cleanupJob } from "./maintenance.jobs.ts";
