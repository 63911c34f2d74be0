import { z } from "zod";
import { displayName, opaque } from "./text.ts";

/** Contracts of /api/auth, shared by the server (validation) and the client (types). */

export const email = z.string().trim().toLowerCase().max(254, "at most 254 characters").pipe(z.email("Invalid email"));

export const PASSWORD_MIN_LENGTH = 8;
export const PASSWORD_MAX_LENGTH = 256;

export const newPassword = opaque(PASSWORD_MAX_LENGTH).refine(
  (value) => value.length >= PASSWORD_MIN_LENGTH,
  `at least ${PASSWORD_MIN_LENGTH} characters`,
);

export const registerBody = z.object({
  email,
  password: newPassword,
  name: displayName(100),
});
export type RegisterBody = z.infer<typeof registerBody>;

export const loginBody = z.object({
  email,
  // Not checked against the rules of new passwords, but bounded: hashing an enormous input is a denial of service.
  password: opaque(PASSWORD_MAX_LENGTH),
});
export type LoginBody = z.infer<typeof loginBody>;

export interface UserDto {
  id: string;
  email: string;
  name: string;
}

export interface UserResponse {
  user: UserDto;
}

/** Bounded like a password: a reset token is 43 characters (32 bytes, base64url); anything else is simply unknown. */
const resetToken = opaque(PASSWORD_MAX_LENGTH);

export const passwordResetBody = z.object({ email });
export type PasswordResetBody = z.infer<typeof passwordResetBody>;

export const passwordResetConfirmBody = z.object({ token: resetToken, password: newPassword });
export type PasswordResetConfirmBody = z.infer<typeof passwordResetConfirmBody>;

export const changePasswordBody = z.object({
  currentPassword: loginBody.shape.password,
  newPassword,
});
export type ChangePasswordBody = z.infer<typeof changePasswordBody>;
