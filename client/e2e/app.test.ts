import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { AxeBuilder } from "@axe-core/playwright";
import { count, eq } from "drizzle-orm";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { prepareZXingModule, readBarcodes } from "zxing-wasm/reader";
import type { TicketDto } from "../../shared/api/events.ts";
import { checkins, connectedAccounts, stripeEvents } from "../../shared/schema/index.ts";
import {
  addMembers,
  createCommunity,
  createEvent,
  insertDuesPayment,
  insertUsers,
  issueTickets,
  signedInUser,
  TEST_PASSWORD,
} from "../../server/test/factories.ts";
import { FakeStripe } from "../../server/test/fake-stripe.ts";
import { HttpClient, startTestServer, type TestServer } from "../../server/test/harness.ts";
import { stripeEnv } from "../../server/test/stripe-env.ts";
import { chromiumSkipReason, launchChromium, phoneContext, showQr, waitForServiceWorker } from "../../server/test/browser.ts";

const SCREENSHOTS = path.join(import.meta.dirname, "../../docs/screenshots");

// The decoder reads the app's QR codes back from screenshots, with its wasm from node_modules (never a CDN).
prepareZXingModule({
  overrides: {
    wasmBinary: fs.readFileSync(createRequire(import.meta.url).resolve("zxing-wasm/reader/zxing_reader.wasm")).buffer as ArrayBuffer,
  },
});

describe.skipIf(chromiumSkipReason !== "")("the web app in Chromium", () => {
  let server: TestServer;
  let browser: Browser;
  let stripe: FakeStripe;
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    // Payments configured (Stripe is the test double), so that an operator can replay a webhook.
    stripe = await FakeStripe.start();
    server = await startTestServer(stripeEnv(stripe));
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await stripe?.close();
  });

  async function newPage(): Promise<Page> {
    const context = await phoneContext(browser, server.url);
    contexts.push(context);
    const page = await context.newPage();
    return page;
  }

  async function signIn(page: Page, user: { email: string }, next = "/"): Promise<void> {
    await page.goto(`/sign-in?next=${encodeURIComponent(next)}`);
    await page.getByLabel("Email").fill(user.email);
    await page.locator("input[autocomplete=current-password]").fill(TEST_PASSWORD);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL((url) => url.pathname === next.split("?")[0]);
  }

  /** No serious or critical violation of WCAG A/AA on the page as it is. */
  async function expectAccessible(page: Page): Promise<void> {
    const results = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]).analyze();
    const serious = results.violations.filter((violation) => violation.impact === "serious" || violation.impact === "critical");
    expect(serious.map((violation) => `${violation.id}: ${violation.nodes.map((node) => node.target.join(" ")).join(", ")}`)).toEqual([]);
  }

  async function screenshot(page: Page, name: string): Promise<void> {
    fs.mkdirSync(SCREENSHOTS, { recursive: true });
    await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });
  }

  async function communityWithEvent(title = "Season opening") {
    const owner = await signedInUser(server, "Olivia Owner");
    const community = await createCommunity(owner.client, { name: "Riverside Rowing Club", joinPolicy: "open" });
    const event = await createEvent(owner, community, { title });
    return { owner, community, event };
  }

  it("a newcomer signs up, joins a community, takes a ticket and sees its QR code", async () => {
    const { community, event } = await communityWithEvent();
    const page = await newPage();
    await page.goto("/");
    await expectAccessible(page);
    await screenshot(page, "welcome");
    await page.getByRole("link", { name: "Create an account" }).first().click();
    const email = `newcomer-${Date.now()}@example.test`;
    await page.getByLabel("Name").fill("Nina Newcomer");
    await page.getByLabel("Email").fill(email);
    await page.locator("input[autocomplete=new-password]").fill(TEST_PASSWORD);
    await expectAccessible(page);
    await page.getByRole("button", { name: "Create my account" }).click();
    await expect.poll(() => page.getByRole("heading", { name: "My communities" }).isVisible()).toBe(true);

    await page.goto(`/communities/${community.slug}`);
    await page.getByRole("button", { name: "Join this community" }).click();
    await page.getByRole("tab", { name: "Events" }).click();
    await screenshot(page, "community-events");
    await expectAccessible(page);
    await page.getByRole("link", { name: event.title }).click();
    await page.getByRole("button", { name: "Take a ticket" }).click();
    await page.getByRole("link", { name: "Show my ticket" }).click();
    const qr = page.getByRole("img", { name: "QR code of your ticket" });
    await expect.poll(() => qr.locator("svg").count()).toBe(1);
    await expectAccessible(page);
    await screenshot(page, "ticket");

    // The code on screen is the ticket's, read back by a decoder from the pixels.
    const [decoded] = await readBarcodes(new Uint8Array(await qr.screenshot()), { formats: ["QRCode"] });
    const mine = (await (await page.request.get("/api/tickets")).json()) as { items: Array<{ code: string; eventId: string }> };
    expect(decoded?.text).toBe(mine.items.find((ticket) => ticket.eventId === event.id)?.code);
    await page.goto("/tickets");
    await expect.poll(() => page.getByRole("link", { name: event.title }).count()).toBe(1);
    await expectAccessible(page);
  });

  it("an admin plans an event from the community's page", async () => {
    const { owner, community } = await communityWithEvent();
    const page = await newPage();
    await signIn(page, owner, `/communities/${community.slug}/events`);
    await page.getByLabel("Title").fill("Regatta night");
    await page.getByLabel("Starts").fill("2031-06-21T19:30");
    await page.getByLabel("Seats").fill("80");
    await page.getByRole("button", { name: "Create the event" }).click();
    await expect.poll(() => page.getByRole("link", { name: "Regatta night" }).isVisible()).toBe(true);
    await expect.poll(() => page.getByText("80 seats left").isVisible()).toBe(true);
    await expectAccessible(page);
    await screenshot(page, "admin-events");
    await page.getByRole("tab", { name: "Members" }).click();
    await expect.poll(() => page.getByRole("combobox", { name: "Role" }).count()).toBe(1);
    await expectAccessible(page);
    await screenshot(page, "admin-members");
  });

  /** A community whose staff member scans the tickets of `holders` members at one event. */
  async function door(holders: number) {
    const { owner, community, event } = await communityWithEvent("Door night");
    const staff = await signedInUser(server, "Stan Staff");
    await addMembers(server, community, [staff], "staff");
    const guests = await insertUsers(
      server,
      Array.from({ length: holders }, (_, index) => `Guest ${index + 1}`),
    );
    await addMembers(server, community, guests);
    const tickets = await issueTickets(server, event.id, guests);
    return { owner, staff, community, event, guests, tickets };
  }

  async function checkinRows(eventId: string): Promise<number> {
    const [row] = await server.container.db.select({ n: count() }).from(checkins).where(eq(checkins.eventId, eventId));
    return row?.n ?? -1;
  }

  const result = (page: Page) => page.locator("[data-result]");

  it("door staff scan by camera: green, then orange on a repeat, red on a forged code, and the count follows", async () => {
    const { staff, event, tickets } = await door(2);
    const [first, second] = tickets as [TicketDto, TicketDto, ...TicketDto[]];
    const page = await newPage();
    await signIn(page, staff, `/events/${event.id}`);
    await expect.poll(() => page.getByTestId("checkin-stats").textContent()).toBe("0 checked in / 2 issued");
    await expectAccessible(page);
    await screenshot(page, "event-staff");
    await page.getByRole("link", { name: "Scan tickets" }).click();
    await page.waitForURL(`**/events/${event.id}/scan`);

    await showQr(page, first.code);
    await expect.poll(() => result(page).getAttribute("data-result"), { timeout: 10_000 }).toBe("checked_in");
    await expect.poll(() => result(page).textContent()).toContain("Guest 1");
    await showQr(page, second.code);
    await expect.poll(() => result(page).textContent(), { timeout: 10_000 }).toContain("Guest 2");
    // The same code held in front of the camera is read once: shown again after a pause, it is a second scan.
    await showQr(page, null);
    await page.waitForTimeout(4_500);
    await showQr(page, first.code);
    await expect.poll(() => result(page).getAttribute("data-result"), { timeout: 10_000 }).toBe("already_checked_in");
    await expect.poll(() => result(page).textContent()).toContain("Already checked in");
    const forged = first.code.slice(0, 30) + (first.code[30] === "A" ? "B" : "A") + first.code.slice(31);
    await showQr(page, forged);
    await expect.poll(() => result(page).getAttribute("data-result"), { timeout: 10_000 }).toBe("invalid");
    await expect.poll(() => result(page).textContent()).toContain("Not a ticket of this platform");
    await expect.poll(() => page.getByTestId("scanner-stats").textContent()).toContain("2 checked in / 2 issued");
    expect(await checkinRows(event.id)).toBe(2);
    await expectAccessible(page);
    await screenshot(page, "scanner");
  });

  it("offline, five scans wait in the queue; back online, all five are checked in, each once", async () => {
    const { staff, event, tickets } = await door(5);
    const page = await newPage();
    await signIn(page, staff, `/events/${event.id}/scan`);
    // The decoder is loaded while the network is there (opening the scanner at the door, before it goes).
    await expect.poll(() => page.getByTestId("camera-status").getAttribute("data-ready"), { timeout: 15_000 }).toBe("true");
    await expect.poll(() => page.getByTestId("connection").textContent()).toBe("Online");
    await page.context().setOffline(true);
    for (const ticket of tickets) {
      await showQr(page, ticket.code);
      await expect
        .poll(() => page.getByTestId("scanner-stats").textContent(), { timeout: 10_000 })
        .toContain(`${tickets.indexOf(ticket) + 1} waiting to be sent`);
      expect(await result(page).getAttribute("data-result")).toBe("pending");
    }
    await expect.poll(() => page.getByTestId("connection").textContent()).toContain("Offline");
    expect(await checkinRows(event.id)).toBe(0);
    await screenshot(page, "scanner-offline");

    await page.context().setOffline(false);
    await expect.poll(() => checkinRows(event.id), { timeout: 15_000 }).toBe(5);
    await expect.poll(() => page.getByTestId("connection").textContent(), { timeout: 15_000 }).toBe("Online");
    await expect.poll(() => page.getByTestId("scanner-stats").textContent(), { timeout: 15_000 }).toBe("5 checked in / 5 issued");
    // Sending again (the timer, a reload) checks nothing in twice: the queue is empty and nonces replay.
    await page.reload();
    await page.waitForTimeout(1_000);
    expect(await checkinRows(event.id)).toBe(5);
  });

  it("opens offline once visited (the service worker keeps the app), and a scan made then is sent when the network returns", async () => {
    const { staff, event, tickets } = await door(1);
    const page = await newPage();
    await signIn(page, staff, `/events/${event.id}/scan`);
    await expect.poll(() => page.getByTestId("camera-status").getAttribute("data-ready"), { timeout: 15_000 }).toBe("true");
    // The service worker has stored the app's files and controls the page.
    await waitForServiceWorker(page);

    await page.context().setOffline(true);
    await page.reload();
    await expect.poll(() => page.getByRole("heading", { name: "Scanner" }).count(), { timeout: 15_000 }).toBe(1);
    await expect.poll(() => page.getByTestId("camera-status").getAttribute("data-ready"), { timeout: 15_000 }).toBe("true");
    await showQr(page, (tickets[0] as TicketDto).code);
    await expect.poll(() => result(page).getAttribute("data-result"), { timeout: 10_000 }).toBe("pending");
    expect(await checkinRows(event.id)).toBe(0);

    await page.context().setOffline(false);
    await expect.poll(() => checkinRows(event.id), { timeout: 15_000 }).toBe(1);
  });

  it("a member checks in by scanning the door code shown at the entrance", async () => {
    const { owner, community, event } = await communityWithEvent("Open doors");
    const member = await signedInUser(server, "Mona Member");
    await addMembers(server, community, [member]);
    expect((await member.client.post(`/api/events/${event.id}/tickets`)).status).toBe(201);
    const display = await newPage();
    await signIn(display, owner, `/events/${event.id}/door`);
    const doorQr = display.getByRole("img", { name: "The event's door code" });
    await expect.poll(() => doorQr.locator("svg").count()).toBe(1);
    await screenshot(display, "door-display");
    await expectAccessible(display);
    const [shown] = await readBarcodes(new Uint8Array(await doorQr.screenshot()), { formats: ["QRCode"] });
    expect(shown?.text).toMatch(/^D1/);

    const page = await newPage();
    await signIn(page, member, `/events/${event.id}`);
    await page.getByRole("link", { name: "Check in with the door code" }).click();
    await showQr(page, shown?.text ?? "");
    await expect.poll(() => result(page).getAttribute("data-result"), { timeout: 10_000 }).toBe("checked_in");
    await expect.poll(() => result(page).textContent()).toContain("Mona Member");
    expect(await checkinRows(event.id)).toBe(1);
    await expectAccessible(page);
  });

  it("an owner sets up payouts and dues through Stripe's pages, and a member goes to Checkout to pay them", async () => {
    const { owner, community } = await communityWithEvent("Dues night");
    const member = await signedInUser(server, "Paula Payer");
    await addMembers(server, community, [member]);
    const page = await newPage();
    await signIn(page, owner, `/communities/${community.slug}/payouts`);
    await page.getByRole("button", { name: "Set up payouts with Stripe" }).click();
    await page.waitForURL((url) => url.href.startsWith(`${stripe.url}/onboarding/acct_`));
    // What Stripe's account.updated records once the account takes charges.
    await server.container.db
      .update(connectedAccounts)
      .set({ chargesEnabled: true })
      .where(eq(connectedAccounts.communityId, community.id));

    await page.goto(`/communities/${community.slug}/dues`);
    await page.getByLabel("Amount (empty: no dues)").fill("30");
    await page.getByRole("button", { name: "Save" }).click();
    await expect.poll(() => page.getByText("Dues: €30.00 for 12 months.").count()).toBe(1);
    await expectAccessible(page);
    await page.goto(`/communities/${community.slug}/payments`);
    await expect.poll(() => page.getByText("No payment yet.").count()).toBe(1);
    await page.goto(`/communities/${community.slug}/billing`);
    await expect.poll(() => page.getByRole("button", { name: "Choose Pro" }).count()).toBe(1);
    await expectAccessible(page);
    await screenshot(page, "plans");

    const payer = await newPage();
    await signIn(payer, member, `/communities/${community.slug}/dues`);
    await expect.poll(() => payer.getByTestId("dues-status").textContent()).toBe("Not paid");
    await payer.getByRole("button", { name: "Pay my dues" }).click();
    await payer.waitForURL((url) => url.href.startsWith(`${stripe.url}/pay/`));
    await payer.goto(`/communities/${community.slug}/dues?checkout=done`);
    await expect.poll(() => payer.getByRole("status").filter({ hasText: "Thank you" }).count()).toBe(1);
    // The payment as Stripe's webhook records it: the member's receipt.
    await insertDuesPayment(server, {
      communityId: community.id,
      userId: member.id,
      amountCents: 3000,
      paidUntil: new Date("2031-06-30T00:00:00Z"),
    });
    await payer.reload();
    await expect.poll(() => payer.getByRole("region", { name: "My receipts" }).getByRole("listitem").count()).toBe(1);
    await expectAccessible(payer);
  });

  it("an operator sees the signals and replays a failed webhook", async () => {
    const id = `evt_failed_${Date.now()}`;
    await server.container.db.insert(stripeEvents).values({
      id,
      type: "invoice.paid",
      created: Math.floor(Date.now() / 1000),
      payload: { id, type: "invoice.paid", data: { object: { id: "in_1" } } },
      status: "failed",
      attempts: 5,
      lastError: "no such customer",
    });
    const page = await newPage();
    await page.goto("/ops");
    await expect.poll(() => page.getByTestId("health-status").textContent(), { timeout: 10_000 }).toMatch(/healthy|degraded/);
    await expect.poll(() => page.locator("[data-signal]").count()).toBeGreaterThan(0);
    await expect.poll(() => page.getByRole("heading", { name: "Background jobs" }).count()).toBe(1);
    await expect.poll(() => page.getByText(id).count()).toBe(1);
    await expectAccessible(page);
    await screenshot(page, "operators");
    await page.getByRole("button", { name: "Replay" }).first().click();
    await expect
      .poll(async () => (await server.container.db.select().from(stripeEvents).where(eq(stripeEvents.id, id)))[0]?.status)
      .toBe("pending");
  });

  it("answers unknown API paths with the JSON 404 and every other path with the app", async () => {
    const client = new HttpClient(server.url);
    const api = await client.get("/api/no-such-thing");
    expect(api.status).toBe(404);
    expect(await api.json()).toMatchObject({ error: { code: "not_found" } });
    const page = await client.get("/communities/anything/events");
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toContain("text/html");
    expect(page.headers.get("cache-control")).toBe("no-cache");
    const html = await page.text();
    const asset = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    expect(asset).toBeDefined();
    const script = await client.get(asset as string);
    expect(script.status).toBe(200);
    expect(script.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    expect((await client.get("/assets/missing-0123.js")).status).toBe(404);
  });
});
