import type { LoginBody, RegisterBody } from "../../../shared/api/auth.ts";
import type { UserRow } from "../../../shared/schema/index.ts";
import { AppError } from "../../http/app-error.ts";
import type { AccountsRepository } from "./accounts.repo.ts";
import { decoyPasswordHash, hashPassword, verifyPassword } from "./passwords.ts";

export class AccountsService {
  constructor(private readonly repo: AccountsRepository) {}

  async register(input: RegisterBody): Promise<UserRow> {
    const passwordHash = await hashPassword(input.password);
    const user = await this.repo.insert({ email: input.email, name: input.name, passwordHash });
    if (!user) throw new AppError("conflict", "email: already registered", { details: [{ path: "email", message: "already registered" }] });
    return user;
  }

  /** The same answer, after the same work, for an unknown email and a wrong password. */
  async authenticate(input: LoginBody): Promise<UserRow> {
    const user = await this.repo.findByEmail(input.email);
    const valid = await verifyPassword(user?.passwordHash ?? (await decoyPasswordHash()), input.password);
    if (!user || !valid) throw new AppError("invalid_credentials", "wrong email or password");
    return user;
  }
}
