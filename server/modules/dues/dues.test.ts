import { and, eq } from "drizzle-orm";
import type Stripe from "stripe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { MemberDto } from "../../../shared/api/communities.ts";
import type { DuesDto, PaymentDto, PayoutsDto } from "../../../shared/api/dues.ts";
import type { Page } from "../../../shared/api/pagination.ts";
import { connectedAccounts, emails, memberships, payments } from "../../../shared/schema/index.ts";
import { jobContext } from "../../jobs/context.ts";
import { FakeStripe } from "../../test/fake-stripe.ts";
import { startTestServer, type TestServer } from "../../test/harness.ts";
import { insertCommunity, insertDuesPayment, signedInUsers, type TestCommunity, type TestUser } from "../../test/factories.ts";
import { DuesPayments } from "./index.ts";
import { duesReminderJob } from "./dues.jobs.ts";

const DAY_MS = 86_400_000;

describe("membership dues through the community's Connect account", () => {
  let stripe: FakeStripe;
  let server: TestServer;
  const duesPayments = new DuesPayments();
  let owner: TestUser;
  let admin: TestUser;
  let member: TestUser;
  beforeAll(async () => {
    stripe = await FakeStripe.start();
    server = await startTestServer({ STRIPE_SECRET_KEY: "sk_test_dues", STRIPE_API_URL: stripe.url, STRIPE_APPLICATION_FEE_PERCENT: "5" });
    [owner, admin, member] = (await signedInUsers(server, ["Olga Owner", "Ada Admin", "Mia Member"])) as [TestUser, TestUser, TestUser];
  });
  afterAll(async () => {
    await server.close();
    await stripe.close();
  });

  const newCommunity = () =>
    insertCommunity(server, [
      { user: owner, role: "owner" },
      { user: admin, role: "admin" },
      { user: member, role: "member" },
    ]);
  const onboard = (community: TestCommunity) => owner.client.post(`/api/communities/${community.slug}/payouts/onboarding`);
  const accountOf = async (community: TestCommunity) =>
    (await server.container.db.select().from(connectedAccounts).where(eq(connectedAccounts.communityId, community.id)))[0];
  /** What `account.updated` records once Stripe lets the account take charges. */
  const acceptCharges = (community: TestCommunity) =>
    server.container.db.update(connectedAccounts).set({ chargesEnabled: true }).where(eq(connectedAccounts.communityId, community.id));
  const setDues = (user: TestUser, community: TestCommunity, body: unknown) =>
    user.client.request("PUT", `/api/communities/${community.slug}/dues`, body);

  /** A community whose owner onboarded, which takes charges and asks 30.00 EUR a year. */
  async function readyCommunity(): Promise<TestCommunity> {
    const community = await newCommunity();
    await onboard(community);
    await acceptCharges(community);
    expect((await setDues(admin, community, { amountCents: 3000, currency: "eur", periodMonths: 12 })).status).toBe(200);
    return community;
  }

  async function paidSession(community: TestCommunity): Promise<Stripe.Checkout.Session> {
    const { url } = (await (await member.client.post(`/api/communities/${community.slug}/dues/checkout`)).json()) as { url: string };
    const session = [...stripe.sessions.values()].find((candidate) => candidate.url === url);
    stripe.completeCheckout(session!.id);
    return server.container.stripe!.checkout.sessions.retrieve(session!.id);
  }

  it("onboards the owner through a fresh account link each time, on one Express account per community", async () => {
    const community = await newCommunity();
    const links = await Promise.all(Array.from({ length: 4 }, async () => (await onboard(community)).json() as Promise<{ url: string }>));
    const account = await accountOf(community);
    expect(account?.stripeAccountId).toMatch(/^acct_/);
    expect(links.map((link) => link.url)).toEqual(Array(4).fill(`${stripe.url}/onboarding/${account!.stripeAccountId}`));
    const created = [...stripe.accounts.values()].filter(
      (candidate) => (candidate.metadata as { community_id?: string }).community_id === community.id,
    );
    expect(created).toHaveLength(1);

    const refresh = await fetch(`${server.url}/api/communities/${community.slug}/payouts/onboarding/refresh`, {
      headers: { cookie: owner.client.cookie ?? "" },
      redirect: "manual",
    });
    expect(refresh.status).toBe(303);
    expect(refresh.headers.get("location")).toBe(`${stripe.url}/onboarding/${account!.stripeAccountId}`);
    expect((await admin.client.post(`/api/communities/${community.slug}/payouts/onboarding`)).status).toBe(403);
  });

  it("shows admins what the account can do and what Stripe still needs; members get 403", async () => {
    const community = await newCommunity();
    const payouts = () => admin.client.get(`/api/communities/${community.slug}/payouts`);
    expect(await (await payouts()).json()).toEqual({
      connected: false,
      chargesEnabled: false,
      payoutsEnabled: false,
      detailsSubmitted: false,
      requirementsDue: [],
    } satisfies PayoutsDto);
    await onboard(community);
    await server.container.db
      .update(connectedAccounts)
      .set({ chargesEnabled: true, requirementsDue: ["external_account"] })
      .where(eq(connectedAccounts.communityId, community.id));
    expect(await (await payouts()).json()).toMatchObject({ connected: true, chargesEnabled: true, requirementsDue: ["external_account"] });
    expect((await member.client.get(`/api/communities/${community.slug}/payouts`)).status).toBe(403);
  });

  it("lets admins set the dues, validated, and tells members whether they can pay", async () => {
    const community = await newCommunity();
    const read = async () => (await (await member.client.get(`/api/communities/${community.slug}/dues`)).json()) as DuesDto;
    expect(await read()).toEqual({ amountCents: null, currency: "eur", periodMonths: 12, payable: false, paidUntil: null });
    expect((await setDues(member, community, { amountCents: 1000, currency: "eur", periodMonths: 12 })).status).toBe(403);
    for (const body of [
      { amountCents: 99, currency: "eur", periodMonths: 12 },
      { amountCents: 1000.5, currency: "eur", periodMonths: 12 },
      { amountCents: 1000, currency: "EURO", periodMonths: 12 },
      { amountCents: 1000, currency: "eur", periodMonths: 0 },
      { currency: "eur", periodMonths: 12 },
    ]) {
      expect((await setDues(admin, community, body)).status, JSON.stringify(body)).toBe(400);
    }
    expect((await setDues(admin, community, { amountCents: 2500, currency: "chf", periodMonths: 6 })).status).toBe(200);
    expect(await read()).toMatchObject({ amountCents: 2500, currency: "chf", periodMonths: 6, payable: false });
    await onboard(community);
    await acceptCharges(community);
    expect(await read()).toMatchObject({ payable: true });
  });

  it("sends a member to Checkout as a destination charge with the platform's fee, once dues are set and payouts ready", async () => {
    const community = await newCommunity();
    const checkout = () => member.client.post(`/api/communities/${community.slug}/dues/checkout`);
    expect(await (await checkout()).json()).toMatchObject({ error: { code: "conflict", reason: "no_dues" } });
    await setDues(admin, community, { amountCents: 3000, currency: "eur", periodMonths: 12 });
    expect(await (await checkout()).json()).toMatchObject({ error: { code: "conflict", reason: "payouts_not_ready" } });
    await onboard(community);
    await acceptCharges(community);
    const response = await checkout();
    expect(response.status).toBe(200);
    const { url } = (await response.json()) as { url: string };
    const session = [...stripe.sessions.values()].find((candidate) => candidate.url === url);
    const account = (await accountOf(community))!.stripeAccountId;
    expect(session).toMatchObject({
      mode: "payment",
      customer_email: member.email,
      amount_total: 3000,
      currency: "eur",
      metadata: { kind: "dues", community_id: community.id, user_id: member.id, period_months: "12", application_fee_cents: "150" },
      payment_intent_data: { application_fee_amount: "150", transfer_data: { destination: account } },
    });
    expect((session?.payment_intent_data as { on_behalf_of?: string }).on_behalf_of).toBeUndefined();
  });

  it("records a paid session once, however many times and however concurrently its event is applied, extending the dues by the period", async () => {
    const community = await readyCommunity();
    const session = await paidSession(community);
    const before = Date.now();
    const results = await Promise.all(
      Array.from({ length: 5 }, () => server.container.db.transaction((tx) => duesPayments.record(tx, session))),
    );
    expect(results.filter((result) => result !== undefined)).toHaveLength(1);
    const rows = await server.container.db.select().from(payments).where(eq(payments.stripeCheckoutSessionId, session.id));
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ userId: member.id, amountCents: 3000, applicationFeeCents: 150, currency: "eur" });
    const [membership] = await server.container.db
      .select({ paidUntil: memberships.duesPaidUntil })
      .from(memberships)
      .where(and(eq(memberships.communityId, community.id), eq(memberships.userId, member.id)));
    const paidUntil = membership!.paidUntil!.getTime();
    expect(paidUntil).toBeGreaterThan(before + 364 * DAY_MS);
    expect(paidUntil).toBeLessThan(Date.now() + 367 * DAY_MS);
    expect(rows[0]?.paidUntil?.getTime()).toBe(paidUntil);
    const members = (await (await admin.client.get(`/api/communities/${community.slug}/members`)).json()) as Page<MemberDto>;
    expect(members.items.find((item) => item.userId === member.id)?.duesPaidUntil).toBe(new Date(paidUntil).toISOString());

    // A second period paid before the first ends starts where the first ends.
    await server.container.db.transaction((tx) => duesPayments.record(tx, session));
    const next = await paidSession(community);
    const recorded = await server.container.db.transaction((tx) => duesPayments.record(tx, next));
    expect(recorded?.paidUntil?.getTime()).toBeGreaterThan(paidUntil + 364 * DAY_MS);
  });

  it("reminds, once, each member whose dues run out within the week, and nobody else", async () => {
    const community = await readyCommunity();
    const [soon, later, lapsed] = (await signedInUsers(server, ["Sue Soon", "Larry Later", "Lapsed Lou"])) as [
      TestUser,
      TestUser,
      TestUser,
    ];
    const paidUntil = { [soon.id]: 3, [later.id]: 20, [lapsed.id]: -2 };
    await server.container.db.insert(memberships).values(
      [soon, later, lapsed].map((user) => ({
        communityId: community.id,
        userId: user.id,
        memberName: user.name,
        duesPaidUntil: new Date(Date.now() + paidUntil[user.id]! * DAY_MS),
      })),
    );
    const remindersTo = async (user: TestUser) =>
      server.container.db
        .select()
        .from(emails)
        .where(and(eq(emails.toAddress, user.email), eq(emails.template, "dues_reminder")));
    for (let day = 0; day < 2; day += 1) await duesReminderJob.handle({}, jobContext(server.container));
    const [reminder] = await remindersTo(soon);
    expect(await remindersTo(soon)).toHaveLength(1);
    expect(reminder?.payload).toMatchObject({ amountMinor: 3000, currency: "eur", communityName: expect.any(String) });
    expect(reminder?.bodyText).toContain(`/communities/${community.slug}/dues`);
    expect(await remindersTo(later)).toEqual([]);
    expect(await remindersTo(lapsed)).toEqual([]);
  });

  it("lists payments to admins, newest first, page by page; members get 403", async () => {
    const community = await readyCommunity();
    for (let index = 0; index < 3; index += 1) {
      const session = await paidSession(community);
      await server.container.db.transaction((tx) => duesPayments.record(tx, session));
    }
    const first = (await (await admin.client.get(`/api/communities/${community.slug}/payments?limit=2`)).json()) as Page<PaymentDto>;
    expect(first.items).toHaveLength(2);
    expect(first.items[0]).toMatchObject({ userId: member.id, kind: "dues", amountCents: 3000, currency: "eur" });
    const second = (await (
      await admin.client.get(`/api/communities/${community.slug}/payments?limit=2&cursor=${first.nextCursor}`)
    ).json()) as Page<PaymentDto>;
    expect(second.items).toHaveLength(1);
    expect(second.nextCursor).toBeNull();
    expect(new Set([...first.items, ...second.items].map((item) => item.id)).size).toBe(3);
    expect((await member.client.get(`/api/communities/${community.slug}/payments`)).status).toBe(403);
  });

  it("shows each member their own payments, their receipts, newest first, page by page; nobody else's", async () => {
    const community = await readyCommunity();
    for (let index = 0; index < 3; index += 1) {
      const session = await paidSession(community);
      await server.container.db.transaction((tx) => duesPayments.record(tx, session));
    }
    // Someone else's payment in the same community, which the member must not see.
    await insertDuesPayment(server, { communityId: community.id, userId: admin.id, amountCents: 3000 });
    const mine = (path: string) => member.client.get(`/api/communities/${community.slug}/dues/payments${path}`);
    const first = (await (await mine("?limit=2")).json()) as Page<PaymentDto>;
    const second = (await (await mine(`?limit=2&cursor=${first.nextCursor}`)).json()) as Page<PaymentDto>;
    const all = [...first.items, ...second.items];
    expect(all).toHaveLength(3);
    expect(second.nextCursor).toBeNull();
    expect(all.every((payment) => payment.userId === member.id && payment.kind === "dues")).toBe(true);
    expect(all.map((payment) => payment.createdAt)).toEqual([...all.map((payment) => payment.createdAt)].sort().reverse());
    const adminsOwn = (await (await admin.client.get(`/api/communities/${community.slug}/dues/payments`)).json()) as Page<PaymentDto>;
    expect(adminsOwn.items.map((payment) => payment.userId)).toEqual([admin.id]);
  });
});
