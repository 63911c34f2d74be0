import { randomBytes } from "node:crypto";
import { and, desc, eq } from "drizzle-orm";
import { emails } from "../../../shared/schema/index.ts";
import { HttpClient, type TestServer } from "../../test/harness.ts";
import { signedInUser, TEST_PASSWORD, uniqueEmail } from "../../test/factories.ts";

export const PASSWORD = TEST_PASSWORD;
export const newEmail = () => uniqueEmail();

/** A private address nobody else in the run uses: its `ip:` throttle key is this test's own. */
export function uniqueIp(): string {
  const [a, b, c] = randomBytes(3);
  return `10.${a}.${b}.${c}`;
}

/**
 * A browser-like client seen at its own address (`X-Forwarded-For`, honoured by
 * servers started with TRUST_PROXY=true), so that failures counted against the
 * address stay within the test that makes them.
 */
export class ClientAt extends HttpClient {
  constructor(
    baseUrl: string,
    readonly ip: string = uniqueIp(),
  ) {
    super(baseUrl);
  }

  override request(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Response> {
    return super.request(method, path, body, { "x-forwarded-for": this.ip, ...headers });
  }
}

/** A user signed in from an address of its own (PASSWORD is theirs). */
export async function registered(server: TestServer): Promise<{ client: ClientAt; email: string }> {
  const client = new ClientAt(server.url);
  const { email } = await signedInUser(server, "Ada", client);
  return { client, email };
}

export async function login(server: TestServer, email: string, password: string, ip?: string): Promise<Response> {
  return new ClientAt(server.url, ip).post("/api/auth/login", { email, password });
}

/** The captured reset emails of an address, newest first. */
export async function resetEmails(server: TestServer, email: string) {
  return server.container.db
    .select()
    .from(emails)
    .where(and(eq(emails.toAddress, email), eq(emails.template, "password_reset")))
    .orderBy(desc(emails.createdAt));
}

/** Asks for a reset and reads the token out of the link in the captured email. */
export async function requestResetToken(server: TestServer, email: string): Promise<string> {
  const before = (await resetEmails(server, email)).length;
  const response = await new ClientAt(server.url).post("/api/auth/password-reset", { email });
  if (response.status !== 202) throw new Error(`password-reset: HTTP ${response.status}`);
  const sent = await resetEmails(server, email);
  if (sent.length !== before + 1) throw new Error("no reset email captured");
  const token = /\/reset-password\?token=([A-Za-z0-9_-]+)/.exec(sent[0]?.bodyText ?? "")?.[1];
  if (!token) throw new Error("no reset link in the email");
  return token;
}
