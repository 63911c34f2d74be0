import http from "node:http";
import type { AddressInfo } from "node:net";
import express from "express";
import session, { type SessionData } from "express-session";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { AppError } from "../../core/app-error.ts";
import { captureLog } from "../../test/harness.ts";
import { errorHandler } from "../error-handler.ts";
import { sessions } from "./session.ts";

/** Sessions are read and written as usual, but refreshing one's expiry fails, as it does when Redis stalls mid-request. */
class StoreFailingToTouch extends session.MemoryStore {
  override touch(_sid: string, _session: SessionData, callback?: (error?: unknown) => void): void {
    callback?.(new Error("store unavailable"));
  }
}

/** express-session reports a failed save or touch on the next turn of the event loop, after the response ended. */
const afterTheResponse = () => new Promise((resolve) => setTimeout(resolve, 50));

interface Answer {
  status: number | undefined;
  body: string;
  socket: unknown;
  cookie: string | undefined;
}

describe("a session store failing as the response ends", () => {
  const log = captureLog();
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  let url: string;
  let server: http.Server;
  const printed: unknown[] = [];
  beforeAll(async () => {
    // Express prints what reaches its final handler only outside NODE_ENV=test: the app is built as in production.
    vi.stubEnv("NODE_ENV", "production");
    vi.spyOn(console, "error").mockImplementation((...args: unknown[]) => void printed.push(args));
    const app = express();
    vi.unstubAllEnvs();
    app.use(
      sessions({
        store: new StoreFailingToTouch(),
        secrets: ["a-secret-that-is-long-enough-for-the-tests-0123"],
        idleMs: 60_000,
        maxAgeMs: 120_000,
        secureCookie: false,
        logger: log.logger,
      }),
    );
    // A POST, as signing in is: a GET without the session cookie carries no session.
    app.post("/sign-in", (req, res) => {
      req.session.userId = "someone";
      res.json({ signedIn: true });
    });
    app.get("/missing", () => {
      throw AppError.notFound("thing");
    });
    app.use(errorHandler(log.logger));
    server = app.listen(0);
    await new Promise((resolve) => server.once("listening", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    vi.restoreAllMocks();
    agent.destroy();
    await new Promise((resolve) => server.close(resolve));
  });

  const send = (method: "GET" | "POST", path: string, cookie?: string) =>
    new Promise<Answer>((resolve, reject) => {
      http
        .request(`${url}${path}`, { method, agent, headers: cookie ? { cookie } : {} }, (response) => {
          let body = "";
          response.on("data", (chunk: Buffer) => (body += chunk.toString()));
          response.on("end", () =>
            resolve({
              status: response.statusCode,
              body,
              socket: response.socket,
              cookie: response.headers["set-cookie"]?.[0]?.split(";")[0],
            }),
          );
        })
        .on("error", reject)
        .end();
    });

  it("keeps the error answer whole and its connection open, and logs the failure as JSON, never as a raw stack", async () => {
    const signedIn = await send("POST", "/sign-in");
    const missing = await send("GET", "/missing", signedIn.cookie);
    await afterTheResponse();
    const again = await send("GET", "/missing", signedIn.cookie);
    await afterTheResponse();

    expect(missing.status).toBe(404);
    expect(JSON.parse(missing.body)).toMatchObject({ error: { code: "not_found" } });
    expect(again.status).toBe(404);
    expect(again.socket).toBe(signedIn.socket);
    expect(log.lines.filter((line) => line.msg === "session not saved after the response")).toHaveLength(2);
    expect(printed).toEqual([]);
  });
});

/** Counts the store's reads: an anonymous read must not reach the store at all. */
class CountingStore extends session.MemoryStore {
  reads = 0;
  override get(sid: string, callback: (error: unknown, session?: SessionData | null) => void): void {
    this.reads += 1;
    super.get(sid, callback);
  }
}

describe("a read without the session cookie", () => {
  const log = captureLog();
  const store = new CountingStore();
  let url: string;
  let server: http.Server;
  beforeAll(async () => {
    const app = express();
    app.use(
      sessions({
        store,
        secrets: ["a-secret-that-is-long-enough-for-the-tests-0123"],
        idleMs: 60_000,
        maxAgeMs: 120_000,
        secureCookie: false,
        logger: log.logger,
      }),
    );
    app.post("/sign-in", (req, res) => {
      req.session.userId = "someone";
      res.json({ signedIn: true });
    });
    app.get("/whoami", (req, res) => res.json({ userId: (req.session as SessionData | undefined)?.userId ?? null }));
    server = app.listen(0);
    await new Promise((resolve) => server.once("listening", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  it("skips the store and sets no cookie, while a read with the cookie still finds its session", async () => {
    const anonymous = await fetch(`${url}/whoami`, { headers: { cookie: "theme=dark; xsid=other" } });
    expect(await anonymous.json()).toEqual({ userId: null });
    expect(anonymous.headers.get("set-cookie")).toBeNull();
    expect(store.reads).toBe(0);

    const signIn = await fetch(`${url}/sign-in`, { method: "POST" });
    const cookie = signIn.headers.get("set-cookie")!.split(";")[0]!;
    const signedIn = await fetch(`${url}/whoami`, { headers: { cookie: `theme=dark; ${cookie}` } });
    expect(await signedIn.json()).toEqual({ userId: "someone" });
    expect(store.reads).toBe(1);
  });
});
