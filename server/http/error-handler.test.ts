import http from "node:http";
import type { AddressInfo } from "node:net";
import zlib from "node:zlib";
import express from "express";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { captureLog, startTestServer, type TestServer } from "../test/harness.ts";
import { signedInUser } from "../test/factories.ts";
import { errorHandler } from "./error-handler.ts";

describe("a path segment with malformed percent-encoding", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.close());

  it("answers 400 validation_failed in the error shape, signed in or not", async () => {
    const { client } = await signedInUser(server);
    for (const path of ["/api/communities/%zz", "/api/communities/%E0%A4%A/members", "/api/events/%zz"]) {
      for (const response of [await fetch(`${server.url}${path}`), await client.get(path)]) {
        expect(response.status, path).toBe(400);
        expect(await response.json()).toMatchObject({ error: { code: "validation_failed", message: "path: malformed percent-encoding" } });
      }
    }
  });
});

describe("a JSON body under a Content-Encoding", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.close());

  it("is read when its bytes match the encoding, and answered 400 in words when they do not", async () => {
    const { client } = await signedInUser(server);
    const body = JSON.stringify({ name: "Zipped club", slug: `zip-${Date.now()}`, joinPolicy: "open" });
    const post = (encoding: string, bytes: Buffer) =>
      fetch(`${server.url}/api/communities`, {
        method: "POST",
        headers: { cookie: client.cookie ?? "", "content-type": "application/json", "content-encoding": encoding },
        body: bytes,
      });
    expect((await post("gzip", zlib.gzipSync(body))).status).toBe(201);
    for (const encoding of ["gzip", "deflate", "br"]) {
      const response = await post(encoding, Buffer.from(body));
      expect(response.status, encoding).toBe(400);
      expect(await response.json()).toMatchObject({
        error: { code: "validation_failed", message: "body: could not be decompressed as its Content-Encoding says" },
      });
    }
  });
});

describe("errors raised by libraries", () => {
  const log = captureLog();
  let url: string;
  let server: http.Server;
  beforeAll(async () => {
    const app = express();
    // What http-errors (Express, body-parser, serve-static) throws: a status, and `expose` for messages safe to show.
    app.get("/client-error/:status", (req) => {
      throw Object.assign(new Error(`library says ${req.params.status}`), { status: Number(req.params.status), expose: true });
    });
    app.get("/hidden/:status", (req) => {
      throw Object.assign(new Error("internal detail"), { statusCode: Number(req.params.status) });
    });
    app.get("/late", (_req, res, next) => {
      res.json({ answered: true });
      next(new Error("failed after the answer"));
    });
    app.use(errorHandler(log.logger));
    server = app.listen(0);
    await new Promise((resolve) => server.once("listening", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  it("answers a client error with its own status and the contract's code, never 500", async () => {
    const cases = [
      [400, 400, "validation_failed"],
      [401, 401, "unauthenticated"],
      [403, 403, "forbidden"],
      [404, 404, "not_found"],
      [409, 409, "conflict"],
      [413, 413, "payload_too_large"],
      [415, 415, "unsupported_media_type"],
      [429, 429, "rate_limited"],
      [405, 400, "validation_failed"],
      [416, 400, "validation_failed"],
    ] as const;
    for (const [thrown, status, code] of cases) {
      const response = await fetch(`${url}/client-error/${thrown}`);
      expect(response.status, String(thrown)).toBe(status);
      expect(await response.json()).toMatchObject({ error: { code, message: `library says ${thrown}` } });
    }
  });

  it("shows a message not marked safe only as the status's name", async () => {
    const response = await fetch(`${url}/hidden/404`);
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ error: { code: "not_found", message: "Not Found" } });
  });

  it("logs an error raised after the response was sent as JSON, and leaves the complete response and its connection alone", async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const get = () =>
      new Promise<{ body: string; socket: unknown }>((resolve, reject) => {
        http
          .get(`${url}/late`, { agent }, (response) => {
            let body = "";
            response.on("data", (chunk: Buffer) => (body += chunk.toString()));
            response.on("end", () => resolve({ body, socket: response.socket }));
          })
          .on("error", reject);
      });
    const first = await get();
    await new Promise((resolve) => setTimeout(resolve, 50));
    const second = await get();
    agent.destroy();
    expect(JSON.parse(first.body)).toEqual({ answered: true });
    expect(second.socket).toBe(first.socket);
    expect(log.lines.filter((line) => line.msg === "error after the response was sent")).toHaveLength(2);
  });
});
