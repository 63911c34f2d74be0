import { createHash, randomBytes } from "node:crypto";
import type { ChangePasswordBody, LoginBody, PasswordResetConfirmBody, RegisterBody } from "../../../shared/api/auth.ts";
import type { UserRow } from "../../../shared/schema/index.ts";
import { AppError } from "../../core/app-error.ts";
import type { AccountsRepository } from "./accounts.repo.ts";
import type { CredentialsRepository, ResetEmail } from "./credentials.repo.ts";
import { decoyPasswordHash, hashPassword, verifyPassword } from "./passwords.ts";
import { attemptKeys, type SignInThrottle } from "./sign-in-throttle.ts";

/** A reset link works once, within the hour. */
export const RESET_TOKEN_TTL_S = 60 * 60;
const RESET_TOKEN_BYTES = 32;

/** Where the request comes from, as far as throttling is concerned. */
export interface ClientInfo {
  ip: string | undefined;
}

/** Tokens are stored as SHA-256 hex: a leaked table resets no password. A fast hash suffices for 256 random bits. */
export function hashResetToken(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

export class AccountsService {
  private readonly appUrl: string;

  constructor(
    private readonly repo: AccountsRepository,
    private readonly credentials: CredentialsRepository,
    private readonly throttle: SignInThrottle,
    appUrl: string,
  ) {
    this.appUrl = appUrl.replace(/\/+$/, "");
  }

  async register(input: RegisterBody): Promise<UserRow> {
    const passwordHash = await hashPassword(input.password);
    const user = await this.repo.insert({ email: input.email, name: input.name, passwordHash });
    if (!user) throw new AppError("conflict", "email: already registered", { details: [{ path: "email", message: "already registered" }] });
    return user;
  }

  /**
   * The same answer, after the same work, for an unknown email and a wrong
   * password; throttled per account and per address (sign-in-throttle.ts).
   */
  async authenticate(input: LoginBody, client: ClientInfo): Promise<UserRow> {
    const keys = attemptKeys(input.email, client.ip);
    await this.throttle.admit(keys);
    const user = await this.repo.findByEmail(input.email);
    const valid = await verifyPassword(user?.passwordHash ?? (await decoyPasswordHash()), input.password);
    if (!user || !valid) {
      await this.throttle.failed(keys);
      throw new AppError("invalid_credentials", "wrong email or password");
    }
    await this.throttle.succeeded(keys);
    return user;
  }

  /**
   * Captures an email with a single-use link for the account of this email, if
   * there is one. The same work either way (a token is drawn and hashed, one
   * statement runs), so neither the answer nor its timing tells whether the
   * account exists. The token exists only in the email: never logged, stored hashed.
   */
  async requestPasswordReset(email: string): Promise<void> {
    const token = randomBytes(RESET_TOKEN_BYTES).toString("base64url");
    await this.credentials.createIfAccountExists({
      email,
      tokenHash: hashResetToken(token),
      ttlS: RESET_TOKEN_TTL_S,
      message: resetEmail(`${this.appUrl}/reset-password?token=${token}`),
    });
  }

  /** Sets the new password and ends every session of the account; unknown, used and expired tokens get the same 400. */
  async confirmPasswordReset(input: PasswordResetConfirmBody): Promise<void> {
    const tokenHash = hashResetToken(input.token);
    // A cheap look first, so that a made-up token costs no password hashing.
    if (!(await this.credentials.isUsable(tokenHash))) throw invalidToken();
    const account = await this.credentials.consume(tokenHash, await hashPassword(input.password));
    if (!account) throw invalidToken();
    // Whoever reads the mailbox has proven enough: failures counted against the account no longer block it.
    await this.throttle.forgetAccount(account.email);
  }

  /**
   * Checks the current password (throttled like a sign-in: a stolen session must
   * not become a way to guess it), sets the new one and bumps the session
   * version. Returns what the caller's own session must carry to stay signed in.
   */
  async changePassword(userId: string, input: ChangePasswordBody, client: ClientInfo): Promise<{ id: string; sessionVersion: number }> {
    const user = await this.repo.findById(userId);
    if (!user) throw new AppError("unauthenticated", "sign in first");
    const keys = attemptKeys(user.email, client.ip);
    await this.throttle.admit(keys);
    if (!(await verifyPassword(user.passwordHash, input.currentPassword))) {
      await this.throttle.failed(keys);
      throw new AppError("invalid_credentials", "currentPassword: wrong password", {
        details: [{ path: "currentPassword", message: "wrong password" }],
      });
    }
    await this.throttle.succeeded(keys);
    const sessionVersion = await this.credentials.changePassword(user.id, await hashPassword(input.newPassword));
    if (sessionVersion === undefined) throw new AppError("unauthenticated", "sign in first");
    return { id: user.id, sessionVersion };
  }
}

function invalidToken(): AppError {
  return new AppError("validation_failed", "token: invalid or expired", { details: [{ path: "token", message: "invalid or expired" }] });
}

function resetEmail(link: string): ResetEmail {
  return {
    template: "password_reset",
    subject: "Reset your password",
    bodyText: [
      "Someone, hopefully you, asked to reset the password of your account.",
      "",
      "Choose a new password within the hour with this link (it works once):",
      link,
      "",
      "If you did not ask for it, ignore this email: your password stays as it is.",
    ].join("\n"),
  };
}
