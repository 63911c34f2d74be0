import { hash, verify } from "@node-rs/argon2";

/**
 * argon2id with the library's defaults (19 MiB, 2 passes: OWASP's minimum).
 * The work runs on libuv's thread pool, not on the event loop.
 */
export function hashPassword(password: string): Promise<string> {
  return hash(password);
}

export function verifyPassword(passwordHash: string, password: string): Promise<boolean> {
  return verify(passwordHash, password).catch(() => false);
}

/**
 * Verified against when the email is unknown, so that a wrong email takes as
 * long as a wrong password and response times do not reveal who has an account.
 */
let decoyHash: Promise<string> | undefined;
export function decoyPasswordHash(): Promise<string> {
  decoyHash ??= hash("decoy-password-for-unknown-accounts");
  return decoyHash;
}
