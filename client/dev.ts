import { spawn } from "node:child_process";
import path from "node:path";
import { createServer } from "vite";

/**
 * `npm run dev`: the API from the TypeScript sources (the primary, its workers, the embedded Postgres when no
 * DATABASE_URL) and the web app on Vite's dev server with hot reload, which sends /api to the API. Ctrl-C stops both.
 */
const api = spawn(process.execPath, ["--import", "tsx", path.join(import.meta.dirname, "../server/entry/primary.ts")], {
  stdio: "inherit",
});
const vite = await createServer({ configFile: path.join(import.meta.dirname, "vite.config.ts"), server: { port: 5173 } });
await vite.listen();
vite.printUrls();

api.on("exit", (code) => {
  void vite.close().then(() => process.exit(code ?? 1));
});
// Ctrl-C reaches the primary as well (one process group): it drains its workers and stops; its exit ends this process.
process.on("SIGINT", () => void vite.close());
process.on("SIGTERM", () => api.kill("SIGTERM"));
