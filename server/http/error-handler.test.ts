import http from "node:http";
import type { AddressInfo } from "node:net";
import express from "express";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { captureLog } from "../test/harness.ts";
import { errorHandler } from "./error-handler.ts";

describe("an error after the response was sent", () => {
  const log = captureLog();
  let url: string;
  let server: http.Server;
  beforeAll(async () => {
    const app = express();
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
