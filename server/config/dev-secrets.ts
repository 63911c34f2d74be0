import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import type { AppEnv } from "./env.ts";

/**
 * Outside production, secrets that are not set are generated once and kept in
 * `.data/dev-secrets.json`, beside the embedded database: every worker then signs
 * with the same keys, and sessions and ticket codes survive a restart.
 * Production must set them (env.ts refuses to start without).
 */
const SECRET_NAMES = ["SESSION_SECRET", "TICKET_SIGNING_KEY"] as const;
type SecretName = (typeof SECRET_NAMES)[number];

export async function missingDevSecrets(config: AppEnv, dataDir: string): Promise<Partial<Record<SecretName, string>>> {
  const missing = SECRET_NAMES.filter(
    (name) => (name === "SESSION_SECRET" ? config.session.secrets : config.ticketSigningKeys).length === 0,
  );
  if (config.production || missing.length === 0) return {};
  const file = path.join(dataDir, "dev-secrets.json");
  const stored = await readSecrets(file);
  const secrets = Object.fromEntries(SECRET_NAMES.map((name) => [name, stored[name] ?? randomBytes(32).toString("base64url")]));
  if (SECRET_NAMES.some((name) => !stored[name])) {
    await fs.mkdir(dataDir, { recursive: true });
    await fs.writeFile(file, `${JSON.stringify(secrets, null, 2)}\n`, { mode: 0o600 });
  }
  return Object.fromEntries(missing.map((name) => [name, secrets[name] as string]));
}

async function readSecrets(file: string): Promise<Partial<Record<SecretName, string>>> {
  const text = await fs.readFile(file, "utf8").catch(() => "{}");
  try {
    return JSON.parse(text) as Partial<Record<SecretName, string>>;
  } catch {
    return {};
  }
}
