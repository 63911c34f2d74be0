import type { UserDto } from "../../../shared/api/auth.ts";
import type { UserRow } from "../../../shared/schema/index.ts";

export function presentUser(row: UserRow): UserDto {
  return { id: row.id, email: row.email, name: row.name };
}
