import type { Database } from "../../infra/db/client.ts";
import { CredentialsRepository } from "./credentials.repo.ts";
import { LoginFailuresRepository } from "./login-failures.repo.ts";
import { SIGN_IN_POLICY } from "./sign-in-throttle.ts";

/**
 * Deletes sign-in rows that can no longer matter: failure counters past their
 * window, reset tokens a day past their expiry. For the hourly maintenance job
 * (this file imports no HTTP code, so the background worker can load it).
 */
export async function deleteExpiredSignInRows(db: Database): Promise<{ loginFailures: number; passwordResets: number }> {
  return {
    loginFailures: await new LoginFailuresRepository(db, SIGN_IN_POLICY).deleteExpired(),
    passwordResets: await new CredentialsRepository(db).deleteExpired(),
  };
}
