import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

/** Where `npm run dev:client` sends /api: the API started by `npm run dev`. */
const API_URL = process.env.API_URL ?? "http://localhost:5000";

export default defineConfig({
  root: import.meta.dirname,
  plugins: [react()],
  build: {
    outDir: "../dist/client",
    emptyOutDir: true,
    // The server reads it to print the size of what each page loads first (npm run build).
    manifest: true,
    sourcemap: true,
    // The build prints each page's gzipped JavaScript against a budget of its own (server/build-client.ts).
    chunkSizeWarningLimit: 1024,
  },
  server: {
    proxy: {
      "/api": {
        target: API_URL,
        // The API refuses state-changing requests from other origins: the proxied ones come from the API's own.
        configure: (proxy) => proxy.on("proxyReq", (request) => request.setHeader("origin", API_URL)),
      },
    },
  },
});
