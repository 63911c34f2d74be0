import fs from "node:fs";
import path from "node:path";
import express, { type RequestHandler, type Router } from "express";

/** Vite's output: assets under /assets carry a hash of their content in their name. */
const ASSETS = "/assets/";
const IMMUTABLE = "public, max-age=31536000, immutable";
/** index.html, the service worker and the web manifest: always checked, so that a deploy reaches every browser. */
const REVALIDATE = "no-cache";

/**
 * The built web app (`npm run build`, in dist/client): hashed assets cached for
 * a year, everything else revalidated, and every other path of the app (a
 * page's address, reloaded or shared) answered with index.html, where the
 * client's router takes over. /api never reaches here: its unknown paths keep
 * their JSON 404.
 */
export function clientApp(dir: string): Router {
  const router = express.Router();
  const index = path.join(dir, "index.html");
  if (!fs.existsSync(index)) {
    router.use(appNotBuilt);
    return router;
  }
  router.use(
    express.static(dir, {
      index: false,
      setHeaders: (res, file) =>
        res.setHeader("Cache-Control", file.startsWith(path.join(dir, "assets") + path.sep) ? IMMUTABLE : REVALIDATE),
    }),
  );
  router.use((req, res, next) => {
    if (!isPageAddress(req.method, req.path)) return next();
    res.setHeader("Cache-Control", REVALIDATE);
    res.sendFile(index);
  });
  return router;
}

/** A GET of a path that names no file: a page of the app. A missing asset is a 404, never a page in its place. */
function isPageAddress(method: string, pathname: string): boolean {
  if (method !== "GET" && method !== "HEAD") return false;
  return !pathname.startsWith(ASSETS) && path.extname(pathname) === "";
}

const appNotBuilt: RequestHandler = (req, res, next) => {
  if (!isPageAddress(req.method, req.path)) return next();
  res
    .status(503)
    .type("text/plain")
    .send(
      "The web app is not built: `npm run build` builds it (`npm start` does it first), `npm run dev` serves it with hot reload on port 5173.\n",
    );
};
