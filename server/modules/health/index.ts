export { HEALTH_MOUNT_PATH, PROBE_PATHS, healthRoutes } from "./health.routes.ts";
