import { createHash, randomBytes } from "node:crypto";
import type { ChangePasswordBody, LoginBody, PasswordResetConfirmBody, RegisterBody } from "../../../shared/api/auth.ts";
import type { UserRow } from "../../../shared/schema/index.ts";
import { AppError } from "../../core/app-error.ts";
import type { Database } from "../../infra/db/client.ts";
import type { Cache } from "../../infra/cache.ts";
import type { AccountsRepository, SessionUser } from "./accounts.repo.ts";
import type { EmailOutbox } from "../emails/index.ts";
import type { PasswordResetsRepository } from "./password-resets.repo.ts";
import { decoyPasswordHash, hashPassword, verifyPassword } from "./passwords.ts";
import { attemptKeys, type ResetRequestThrottle, type SignInThrottle } from "./throttles.ts";

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
    private readonly db: Database,
    private readonly users: AccountsRepository,
    private readonly resets: PasswordResetsRepository,
    private readonly throttle: SignInThrottle,
    private readonly resetRequests: ResetRequestThrottle,
    private readonly outbox: EmailOutbox,
    private readonly cache: Cache,
    appUrl: string,
  ) {
    this.appUrl = appUrl.replace(/\/+$/, "");
  }

  /**
   * The user a session belongs to, with the session version their sessions must carry: read on every request, so from
   * the cache. A password change or reset forgets the entry once committed; the rate allowance, which moves with the
   * plans of the user's communities, is left to the cache's short TTL (a minute) rather than tracked.
   */
  findSessionUser(userId: string): Promise<SessionUser | undefined> {
    return this.cache.get("sessionUser", userId, () => this.users.findSessionUser(this.db, userId));
  }

  /** The account and its welcome email commit together; a second registration of the address is a 409 and queues nothing. */
  async register(input: RegisterBody): Promise<UserRow> {
    const passwordHash = await hashPassword(input.password);
    const user = await this.db.transaction(async (tx) => {
      const inserted = await this.users.insert(tx, { email: input.email, name: input.name, passwordHash });
      if (inserted) {
        await this.outbox.queue(tx, { to: inserted.email, template: "welcome", payload: { name: inserted.name }, dedupeKey: inserted.id });
      }
      return inserted;
    });
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
    const user = await this.users.findByEmail(this.db, input.email);
    const valid = await verifyPassword(user?.passwordHash ?? (await decoyPasswordHash()), input.password);
    if (!user || !valid) {
      await this.throttle.failed(keys);
      throw new AppError("invalid_credentials", "wrong email or password");
    }
    await this.throttle.succeeded(keys);
    return user;
  }

  /**
   * Queues an email with a single-use link for the account of this email, if
   * there is one. The same work either way (the request is counted against the
   * address and the client, a token is drawn and hashed, the email is rendered,
   * one statement runs), so neither the answer nor its timing tells whether the
   * account exists. The token is never logged and stored hashed; the email
   * carrying it is kept in the outbox like every email.
   */
  async requestPasswordReset(email: string, client: ClientInfo): Promise<void> {
    await this.resetRequests.admit(email, client.ip);
    const token = randomBytes(RESET_TOKEN_BYTES).toString("base64url");
    const tokenHash = hashResetToken(token);
    await this.outbox.queueFor(
      this.db,
      { template: "password_reset", payload: { link: `${this.appUrl}/reset-password?token=${token}` }, dedupeKey: tokenHash },
      this.resets.createIfAccountExists({ email, tokenHash, ttlS: RESET_TOKEN_TTL_S }),
    );
  }

  /**
   * Sets the new password and ends every session of the account (and its other
   * pending resets); unknown, used and expired tokens get the same 400.
   */
  async confirmPasswordReset(input: PasswordResetConfirmBody): Promise<void> {
    const tokenHash = hashResetToken(input.token);
    // A cheap look first, so that a made-up token costs no password hashing.
    if (!(await this.resets.isUsable(this.db, tokenHash))) throw invalidToken();
    const passwordHash = await hashPassword(input.password);
    const account = await this.db.transaction(async (tx) => {
      const reset = await this.resets.take(tx, tokenHash);
      if (!reset) return undefined;
      const user = await this.users.setPassword(tx, reset.userId, passwordHash);
      await this.resets.voidPending(tx, reset.userId, reset.id);
      return user && { ...user, id: reset.userId };
    });
    if (!account) throw invalidToken();
    await this.cache.delete("sessionUser", account.id);
    // Whoever reads the mailbox has proven enough: failures counted against the account no longer block it.
    await this.throttle.forgetAccount(account.email);
  }

  /**
   * Checks the current password (throttled like a sign-in: a stolen session must
   * not become a way to guess it), sets the new one and bumps the session
   * version. Returns what the caller's own session must carry to stay signed in.
   */
  async changePassword(userId: string, input: ChangePasswordBody, client: ClientInfo): Promise<{ id: string; sessionVersion: number }> {
    const user = await this.users.findById(this.db, userId);
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
    const passwordHash = await hashPassword(input.newPassword);
    const changed = await this.db.transaction(async (tx) => {
      // Only over the hash just verified: of two concurrent changes (or a change and a reset) one wins, and the other
      // finds its current password stale, as it would have one after the other.
      const updated = await this.users.setPassword(tx, user.id, passwordHash, user.passwordHash);
      if (updated) await this.resets.voidPending(tx, user.id);
      return updated;
    });
    if (!changed) {
      throw new AppError("invalid_credentials", "currentPassword: no longer the current password", {
        details: [{ path: "currentPassword", message: "no longer the current password" }],
      });
    }
    await this.cache.delete("sessionUser", user.id);
    return { id: user.id, sessionVersion: changed.sessionVersion };
  }
}

function invalidToken(): AppError {
  return new AppError("validation_failed", "token: invalid or expired", { details: [{ path: "token", message: "invalid or expired" }] });
}
