import { defineConfig } from "drizzle-kit";

// Used only by `npm run db:generate` to write migrations from the schema in shared/.
export default defineConfig({
  dialect: "postgresql",
  schema: "./shared/schema/index.ts",
  out: "./server/infra/db/migrations",
  strict: true,
});
