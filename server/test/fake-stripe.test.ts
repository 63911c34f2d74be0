import Stripe from "stripe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createStripe } from "../infra/stripe.ts";
import { FakeStripe, parseStripeForm } from "./fake-stripe.ts";

describe("the Stripe test double, through the official SDK", () => {
  let fake: FakeStripe;
  let stripe: Stripe;
  beforeAll(async () => {
    fake = await FakeStripe.start();
    stripe = createStripe({ secretKey: "sk_test_double", apiUrl: fake.url });
  });
  afterAll(() => fake.close());

  it("reads nested form fields as Stripe does", () => {
    expect(parseStripeForm("line_items[0][price]=p&line_items[0][quantity]=2&expand[]=a&expand[]=b&created[gte]=5")).toEqual({
      line_items: [{ price: "p", quantity: "2" }],
      expand: ["a", "b"],
      created: { gte: "5" },
    });
  });

  it("completes a subscription checkout into a subscription the SDK reads in its pinned shapes, with its events", async () => {
    const customer = await stripe.customers.create({ email: "club@example.test" });
    const session = await stripe.checkout.sessions.create({
      mode: "subscription",
      customer: customer.id,
      client_reference_id: "community-1",
      line_items: [{ price: "price_pro", quantity: 1 }],
      subscription_data: { metadata: { community_id: "community-1" } },
    });
    fake.completeCheckout(session.id);
    const completed = await stripe.checkout.sessions.retrieve(session.id);
    expect(completed.status).toBe("complete");
    const subscription = await stripe.subscriptions.retrieve(completed.subscription as string);
    expect(subscription.items.data[0]?.price.id).toBe("price_pro");
    expect(subscription.items.data[0]?.current_period_end).toBeGreaterThan(fake.now());
    expect(subscription.metadata).toEqual({ community_id: "community-1" });

    fake.failPayment(subscription.id);
    expect((await stripe.subscriptions.retrieve(subscription.id)).status).toBe("past_due");
    const canceled = await stripe.subscriptions.cancel(subscription.id);
    expect(canceled.status).toBe("canceled");
    const types = fake.events.slice(-5).map((event) => event.type);
    expect(types).toEqual([
      "customer.subscription.created",
      "checkout.session.completed",
      "invoice.payment_failed",
      "customer.subscription.updated",
      "customer.subscription.deleted",
    ]);
  });

  it("lists events newest first, page by page, from a creation time, as events.list auto-paging reads them", async () => {
    const account = await stripe.accounts.create({ type: "express" });
    fake.advanceClock(100);
    const since = fake.now();
    const recorded = Array.from({ length: 25 }, (_, index) => fake.updateAccount(account.id, { charges_enabled: index % 2 === 0 }));
    const listed: string[] = [];
    for await (const event of stripe.events.list({ created: { gte: since }, limit: 10 }, { stripeAccount: account.id })) {
      listed.push(event.id);
    }
    expect(listed).toEqual(recorded.map(() => expect.any(String)));
    expect(listed).toEqual(
      fake.events
        .filter((event) => event.account === account.id)
        .map((event) => event.id)
        .reverse(),
    );
    // The platform's own list holds no Connect event.
    const platform = await stripe.events.list({ created: { gte: since } });
    expect(platform.data).toEqual([]);
    await expect(stripe.accounts.retrieve(account.id)).resolves.toMatchObject({ charges_enabled: true });
  });

  it("answers a repeated Idempotency-Key with the first answer, and an unknown object in Stripe's error shape", async () => {
    const first = await stripe.customers.create({ email: "a@example.test" }, { idempotencyKey: "same-key" });
    const second = await stripe.customers.create({ email: "b@example.test" }, { idempotencyKey: "same-key" });
    expect(second.id).toBe(first.id);
    await expect(stripe.subscriptions.retrieve("sub_missing")).rejects.toMatchObject({
      type: "StripeInvalidRequestError",
      statusCode: 404,
      code: "resource_missing",
    });
  });

  it("scripts faults: a 500 the SDK retries through, a 429 it does not retry unless told to", async () => {
    const account = await stripe.accounts.create({ type: "express" });
    const path = `/v1/accounts/${account.id}`;
    const calls = () => fake.requests.filter((request) => request.path === path).length;
    fake.fail({ kind: 500, times: 1, path });
    await expect(stripe.accounts.retrieve(account.id)).resolves.toMatchObject({ id: account.id });
    expect(calls()).toBe(2);
    fake.fail({ kind: 429, times: 1, path });
    await expect(stripe.accounts.retrieve(account.id)).rejects.toMatchObject({ statusCode: 429, code: "rate_limit" });
    fake.fail({ kind: 429, times: 1, path, shouldRetry: true });
    await expect(stripe.accounts.retrieve(account.id)).resolves.toMatchObject({ id: account.id });
    expect(calls()).toBe(5);
  });

  it("scripts a hang: the request is never answered, and the client's own timeout ends it", async () => {
    const impatient = new Stripe("sk_test_double", {
      host: "127.0.0.1",
      port: Number(new URL(fake.url).port),
      protocol: "http",
      timeout: 300,
      maxNetworkRetries: 0,
    });
    fake.fail({ kind: "hang", times: 1, path: "/v1/customers" });
    await expect(impatient.customers.create({})).rejects.toMatchObject({ type: "StripeConnectionError" });
    await expect(impatient.customers.create({})).resolves.toMatchObject({ object: "customer" });
  });

  it("signs deliveries as Stripe does: the SDK verifies them with the right secret only", () => {
    const event = fake.events.at(-1);
    const payload = JSON.stringify(event);
    const header = fake.signature(payload, "whsec_right");
    expect(stripe.webhooks.constructEvent(payload, header, "whsec_right", 300).id).toBe(event?.id);
    expect(() => stripe.webhooks.constructEvent(payload, header, "whsec_wrong", 300)).toThrow(
      Stripe.errors.StripeSignatureVerificationError,
    );
  });
});
