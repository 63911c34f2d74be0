import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HttpClient, startTestServer, type TestServer } from "../../test/harness.ts";
import { signedInUser, TEST_PASSWORD } from "../../test/factories.ts";

const NEW_PASSWORD = "another correct horse battery";

describe("a session issued before the user's last password change", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.close());

  it("is refused, and the browser holding it can sign in again with the new password in its very next request", async () => {
    const { client: first, ...user } = await signedInUser(server);
    const second = new HttpClient(server.url);
    expect((await second.post("/api/auth/login", { email: user.email, password: TEST_PASSWORD })).status).toBe(200);
    const stale = second.cookie;
    expect((await first.post("/api/auth/password", { currentPassword: TEST_PASSWORD, newPassword: NEW_PASSWORD })).status).toBe(204);

    const again = await second.post("/api/auth/login", { email: user.email, password: NEW_PASSWORD });
    expect(again.status).toBe(200);
    expect(second.cookie).not.toBe(stale);
    expect((await second.get("/api/auth/me")).status).toBe(200);

    const holder = new HttpClient(server.url);
    holder.cookie = stale;
    expect((await holder.get("/api/auth/me")).status).toBe(401);
  });
});
