import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";
import { VitePWA } from "vite-plugin-pwa";

/** Where Vite's dev server (`npm run dev`) sends /api: the API it starts beside it. */
const API_URL = process.env.API_URL ?? "http://localhost:5000";

export default defineConfig({
  root: import.meta.dirname,
  plugins: [
    react(),
    // Installable, and opens without network once visited: the service worker keeps the app's files (the scanner's
    // decoder included) and answers every page address with index.html; /api always goes to the network.
    VitePWA({
      registerType: "autoUpdate",
      injectRegister: "script-defer",
      includeAssets: ["icon.svg"],
      manifest: {
        name: "Community platform",
        short_name: "Community",
        description: "Your communities, their news and events, your tickets and the door scanner.",
        lang: "en",
        start_url: "/",
        display: "standalone",
        background_color: "#ffffff",
        theme_color: "#1864ab",
        icons: [{ src: "/icon.svg", sizes: "any", type: "image/svg+xml", purpose: "any" }],
      },
      workbox: {
        // A new version takes over at once, and the first visit's page is controlled without a reload: the door may lose
        // the network right after opening the scanner.
        skipWaiting: true,
        clientsClaim: true,
        globPatterns: ["**/*.{js,css,html,svg,wasm}"],
        navigateFallback: "/index.html",
        navigateFallbackDenylist: [/^\/api\//],
        // The decoder's WebAssembly is about 1 MB.
        maximumFileSizeToCacheInBytes: 4 * 1024 * 1024,
      },
    }),
  ],
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
