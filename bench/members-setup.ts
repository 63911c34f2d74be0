// The community the simulated members of `npm run capacity -- --measure` live in, made through the product's API as
// its owner, its members and Stripe make it: an open community on the premium plan, with news, an upcoming event, dues
// of 30.00 EUR a year paid to its Connect account, and members who signed up, joined and took a ticket. Only the door's
// ticket holders (thousands, scanned once each) go in with SQL, as in the check-in scenario (seedTickets).
import type { PayoutsDto } from "../shared/api/dues.ts";
import {
  call,
  createCommunity,
  createEvent,
  join,
  mapLimit,
  putOnPlan,
  register,
  seedTickets,
  SetupError,
  type SignedIn,
} from "./fixtures.ts";
import { personaOf, SCAN_INTERVAL_MS, type Persona, type SignedInMember } from "./members.ts";
import type { BenchStripe } from "./stripe.ts";

/** Sign-ups in flight at once: each is an argon2 hash on the product's side. */
const SIGN_UP_CONCURRENCY = 4;
/** How long Stripe's `account.updated` may take to reach the community's payouts (through the background worker). */
const PAYOUTS_READY_TIMEOUT_MS = 30_000;
const NEWS = 3;
const ROLES: Partial<Record<Persona, "staff" | "admin">> = { door: "staff", admin: "admin" };

export interface BenchCommunity {
  owner: SignedIn;
  id: string;
  slug: string;
  eventId: string;
}

export interface StripeWebhooks {
  stripe: BenchStripe;
  /** STRIPE_CONNECT_WEBHOOK_SECRET of the product: connected accounts' events are signed with it. */
  connectSecret: string;
}

export async function makeCommunity(baseUrl: string, databaseUrl: string, webhooks: StripeWebhooks): Promise<BenchCommunity> {
  const owner = await register(baseUrl, "Bench owner");
  const community = await createCommunity(baseUrl, owner, "open");
  // Thousands of members: beyond the free plan.
  await putOnPlan(databaseUrl, community.id, "premium");
  const event = await createEvent(baseUrl, owner, community.slug);
  for (let n = 1; n <= NEWS; n++) {
    await call(baseUrl, "POST", `/api/communities/${community.slug}/news`, {
      body: { title: `Bench news ${n}`, body: "The general assembly is coming: bring your ticket." },
      cookie: owner.cookie,
      expect: 201,
    });
  }
  await acceptDues(baseUrl, owner, community.slug, community.id, webhooks);
  return { owner, id: community.id, slug: community.slug, eventId: event.id };
}

/** The owner onboards, Stripe enables charges on the account (its `account.updated`, delivered), the admin sets dues. */
async function acceptDues(baseUrl: string, owner: SignedIn, slug: string, communityId: string, { stripe, connectSecret }: StripeWebhooks) {
  await call(baseUrl, "POST", `/api/communities/${slug}/payouts/onboarding`, { cookie: owner.cookie, expect: 200 });
  const account = [...stripe.fake.accounts.values()].find(
    (candidate) => (candidate.metadata as { community_id?: string } | undefined)?.community_id === communityId,
  );
  if (!account) throw new SetupError("onboarding created no account in the bench's Stripe");
  const event = stripe.fake.updateAccount(account.id, { charges_enabled: true, payouts_enabled: true, details_submitted: true });
  const delivered = await stripe.fake.deliver(`${baseUrl}/api/webhooks/stripe/connect`, event, connectSecret);
  if (delivered.status !== 200) throw new SetupError(`account.updated delivery answered ${delivered.status}: ${await delivered.text()}`);
  const deadline = Date.now() + PAYOUTS_READY_TIMEOUT_MS;
  const payouts = () => call<PayoutsDto>(baseUrl, "GET", `/api/communities/${slug}/payouts`, { cookie: owner.cookie, expect: 200 });
  while (!(await payouts()).body.chargesEnabled) {
    if (Date.now() > deadline) throw new SetupError(`account.updated not applied after ${PAYOUTS_READY_TIMEOUT_MS} ms`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  await call(baseUrl, "PUT", `/api/communities/${slug}/dues`, {
    body: { amountCents: 3000, currency: "eur", periodMonths: 12 },
    cookie: owner.cookie,
    expect: 200,
  });
}

/** Members `from` to `to - 1`: each signs up, joins, takes a ticket to the event, and gets the role of their persona. */
export async function signUpMembers(baseUrl: string, community: BenchCommunity, from: number, to: number): Promise<SignedInMember[]> {
  const indices = Array.from({ length: to - from }, (_, i) => from + i);
  return mapLimit(indices, SIGN_UP_CONCURRENCY, async (index) => {
    const member = await register(baseUrl, `Bench member ${index}`);
    await join(baseUrl, member, community.slug);
    await call(baseUrl, "POST", `/api/events/${community.eventId}/tickets`, { cookie: member.cookie, expect: 201 });
    const role = ROLES[personaOf(index)];
    if (role) {
      await call(baseUrl, "PATCH", `/api/communities/${community.slug}/members/${member.user.id}`, {
        body: { role },
        cookie: community.owner.cookie,
        expect: 200,
      });
    }
    return { index, cookie: member.cookie };
  });
}

/** Fresh codes for the door staff among `members` over `durationMs`: twice the scans they are expected to make, and some. */
export function codesNeeded(members: number, durationMs: number): number {
  const scanners = Array.from({ length: members }, (_, i) => personaOf(i)).filter((persona) => persona === "door").length;
  return Math.ceil((2 * scanners * durationMs) / SCAN_INTERVAL_MS) + 50;
}

/** Holders of unscanned tickets to the event, as a door-sized crowd; `nextCode` throws once they are all in. */
export async function seedDoor(
  databaseUrl: string,
  community: BenchCommunity,
  count: number,
  ticketSigningKey: string,
): Promise<() => string> {
  const codes = await seedTickets({ databaseUrl, communityId: community.id, eventId: community.eventId, count, ticketSigningKey });
  let next = 0;
  return () => {
    const code = codes[next++]?.code;
    if (code === undefined)
      throw new Error(`the bench ran out of ticket codes (${codes.length}): raise codesNeeded in bench/members-setup.ts`);
    return code;
  };
}
