import { ROLES, type Role } from "../../../../shared/api/communities.ts";

/** Whether `role` is `least` or above: what the page offers follows the API's rules (owner > admin > staff > member). */
export function atLeast(role: Role, least: Role): boolean {
  return ROLES.indexOf(role) <= ROLES.indexOf(least);
}
