import type { Role } from "../../../shared/api/communities.ts";
import { AppError } from "../../core/app-error.ts";

/**
 * Who may do what inside a community: the one place roles are checked.
 * Roles rank owner > admin > staff > member; each action names the least role allowed.
 */
const RANK: Record<Role, number> = { owner: 4, admin: 3, staff: 2, member: 1 };

export const ACTIONS = {
  read: "member",
  leave: "member",
  scanTickets: "staff",
  viewTicketsOfOthers: "staff",
  seeMemberEmails: "admin",
  writeNews: "admin",
  manageEvents: "admin",
  manageMembers: "admin",
  updateCommunity: "admin",
  seePayments: "admin",
  manageDues: "admin",
  manageBilling: "owner",
  managePayouts: "owner",
  grantOwner: "owner",
  manageOwners: "owner",
} as const satisfies Record<string, Role>;

export type Action = keyof typeof ACTIONS;

export function can(role: Role, action: Action): boolean {
  return RANK[role] >= RANK[ACTIONS[action]];
}

/** Throws 403 forbidden, naming what was refused; callers have already shown the caller is a member (else 404). */
export function authorize(role: Role, action: Action): void {
  if (!can(role, action)) throw new AppError("forbidden", `your role (${role}) may not ${describe(action)}`);
}

/** Whether `actor` may give `target` role to someone whose current role is `current` (undefined: not yet a member). */
export function authorizeRoleChange(actor: Role, current: Role | undefined, target: Role): void {
  authorize(actor, "manageMembers");
  if (target === "owner" || current === "owner") authorize(actor, "manageOwners");
}

function describe(action: Action): string {
  return action.replace(/[A-Z]/g, (letter) => ` ${letter.toLowerCase()}`);
}
