import { randomBytes } from "node:crypto";
import http from "node:http";
import type { AddressInfo, Socket } from "node:net";
import Stripe from "stripe";

/**
 * A stateful Stripe API double that the official SDK talks to (form-encoded requests, JSON answers in the shapes of the
 * SDK's pinned API version, Stripe's error shape). Every state change records an event, retrievable and listable as
 * Stripe's own (`events.list`, newest first, `created[gte]`, `starting_after`, `has_more`), and deliverable, signed, to
 * a webhook endpoint. Tests drive what Stripe would do on its own (a checkout completed, a renewal, a failed payment,
 * an account verified) and script faults (429, 500, a hang) for the next requests.
 */

type Json = Record<string, unknown>;
type Params = Record<string, unknown>;

export interface StripeObject extends Json {
  id: string;
  object: string;
}

export interface FakeEvent extends StripeObject {
  type: string;
  created: number;
  account?: string;
  data: { object: StripeObject; previous_attributes?: Json };
}

export interface Fault {
  /** 429 (rate limited), 500, or "hang": the request is never answered. */
  kind: 429 | 500 | "hang";
  /** How many matching requests get it. */
  times: number;
  /** Only requests whose path contains this. */
  path?: string;
  /** The `Stripe-Should-Retry` header sent with it (Stripe sends `true` on lock timeouts). */
  shouldRetry?: boolean;
}

export interface RecordedRequest {
  method: string;
  path: string;
  account: string | undefined;
  idempotencyKey: string | undefined;
}

export class FakeStripeError extends Error {
  constructor(
    readonly status: number,
    readonly body: Json,
  ) {
    super(String((body.error as Json).message));
  }
}

const DAY_S = 86_400;
const PERIOD_S = 30 * DAY_S;

const missing = (kind: string, id: string) =>
  new FakeStripeError(404, {
    error: { type: "invalid_request_error", code: "resource_missing", message: `No such ${kind}: '${id}'`, param: "id" },
  });

const invalid = (message: string, param?: string) =>
  new FakeStripeError(400, { error: { type: "invalid_request_error", message, ...(param ? { param } : {}) } });

/** `a[b][0][c]=1` → `{ a: { b: [{ c: "1" }] } }`, as Stripe reads its form bodies and query strings. */
export function parseStripeForm(text: string): Params {
  const root: Params = {};
  for (const [key, value] of new URLSearchParams(text)) {
    const path = (key.match(/^[^[]+|\[[^\]]*\]/g) ?? [key]).map((part) => part.replace(/^\[|\]$/g, ""));
    let node: Record<string, unknown> | unknown[] = root;
    path.forEach((part, index) => {
      const last = index === path.length - 1;
      const nextIsIndex = !last && /^\d*$/.test(path[index + 1] as string);
      const slot = Array.isArray(node) ? (part === "" ? node.length : Number(part)) : part;
      const container = node as Record<string | number, unknown>;
      if (last) container[slot] = value;
      else container[slot] ??= nextIsIndex ? [] : {};
      if (!last) node = container[slot] as Record<string, unknown> | unknown[];
    });
  }
  return root;
}

const id = (prefix: string) => `${prefix}_${randomBytes(12).toString("hex")}`;
const stringParam = (params: Params, name: string) => (typeof params[name] === "string" ? params[name] : undefined);
const metadataOf = (value: unknown): Record<string, string> =>
  typeof value === "object" && value !== null ? (value as Record<string, string>) : {};

export interface AccountState {
  charges_enabled?: boolean;
  payouts_enabled?: boolean;
  details_submitted?: boolean;
  currently_due?: string[];
}

export class FakeStripe {
  readonly customers = new Map<string, StripeObject>();
  readonly sessions = new Map<string, StripeObject>();
  readonly subscriptions = new Map<string, StripeObject>();
  readonly accounts = new Map<string, StripeObject>();
  readonly paymentIntents = new Map<string, StripeObject>();
  /** Oldest first. */
  readonly events: FakeEvent[] = [];
  readonly requests: RecordedRequest[] = [];
  readonly #faults: Fault[] = [];
  readonly #idempotent = new Map<string, { status: number; body: string }>();
  readonly #hanging = new Set<Socket>();
  /** Seconds added to the wall clock: tests move time forward without waiting. */
  #clockOffsetS = 0;
  readonly #signer = new Stripe("sk_test_signer");

  private constructor(
    readonly server: http.Server,
    readonly url: string,
  ) {}

  static async start(): Promise<FakeStripe> {
    const server = http.createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    const fake = new FakeStripe(server, `http://127.0.0.1:${port}`);
    server.on("request", (req, res) => void fake.#handle(req, res));
    return fake;
  }

  async close(): Promise<void> {
    for (const socket of this.#hanging) socket.destroy();
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }

  now(): number {
    return Math.floor(Date.now() / 1000) + this.#clockOffsetS;
  }

  advanceClock(seconds: number): void {
    this.#clockOffsetS += seconds;
  }

  fail(fault: Fault): void {
    this.#faults.push({ ...fault });
  }

  // —— What Stripe does on its own, driven by the test ——

  /** The customer paid: a subscription (mode subscription) or a payment intent (mode payment) now exists. */
  completeCheckout(sessionId: string): StripeObject {
    const session = this.#get(this.sessions, "checkout.session", sessionId);
    if (session.status !== "open") throw invalid(`checkout session ${sessionId} is not open`);
    const account = session.account as string | undefined;
    session.customer ??= this.#createCustomer({ email: session.customer_email }).id;
    if (session.mode === "subscription") {
      const subscription = this.#createSubscription(
        session.customer as string,
        session.price as string,
        metadataOf((session.subscription_data as Json | undefined)?.metadata),
      );
      session.subscription = subscription.id;
      this.record("customer.subscription.created", subscription);
    } else {
      const intent: StripeObject = {
        id: id("pi"),
        object: "payment_intent",
        amount: session.amount_total,
        currency: session.currency,
        status: "succeeded",
        created: this.now(),
      };
      this.paymentIntents.set(intent.id, intent);
      session.payment_intent = intent.id;
    }
    Object.assign(session, { status: "complete", payment_status: "paid" });
    this.record("checkout.session.completed", session, account);
    return session;
  }

  /** A new period paid for. */
  renew(subscriptionId: string): FakeEvent {
    const subscription = this.#get(this.subscriptions, "subscription", subscriptionId);
    const item = this.#itemOf(subscription);
    const previous = { status: subscription.status };
    item.current_period_start = item.current_period_end;
    item.current_period_end = (item.current_period_end as number) + PERIOD_S;
    subscription.status = "active";
    return this.record("customer.subscription.updated", subscription, undefined, previous);
  }

  /** The renewal's payment failed: an `invoice.payment_failed`, and the subscription goes `past_due`. */
  failPayment(subscriptionId: string): FakeEvent {
    const subscription = this.#get(this.subscriptions, "subscription", subscriptionId);
    const invoice: StripeObject = {
      id: id("in"),
      object: "invoice",
      customer: subscription.customer,
      status: "open",
      attempt_count: 1,
      amount_due: 1_900,
      currency: "eur",
      created: this.now(),
      parent: {
        type: "subscription_details",
        quote_details: null,
        subscription_details: { subscription: subscription.id, metadata: subscription.metadata },
      },
    };
    this.record("invoice.payment_failed", invoice);
    const previous = { status: subscription.status };
    subscription.status = "past_due";
    return this.record("customer.subscription.updated", subscription, undefined, previous);
  }

  setCancelAtPeriodEnd(subscriptionId: string, cancel: boolean): FakeEvent {
    return this.updateSubscription(subscriptionId, { cancel_at_period_end: cancel ? "true" : "false" });
  }

  /** The subscription ended (canceled now, or its last period over). */
  endSubscription(subscriptionId: string): FakeEvent {
    const subscription = this.#get(this.subscriptions, "subscription", subscriptionId);
    Object.assign(subscription, { status: "canceled", canceled_at: this.now(), ended_at: this.now() });
    return this.record("customer.subscription.deleted", subscription);
  }

  /** Stripe verified (or asked for more from) a connected account: an `account.updated` Connect event. */
  updateAccount(accountId: string, state: AccountState): FakeEvent {
    const account = this.#get(this.accounts, "account", accountId);
    const { currently_due, ...flags } = state;
    Object.assign(account, flags);
    if (currently_due) (account.requirements as Json).currently_due = currently_due;
    return this.record("account.updated", account, accountId);
  }

  /** Records the event of a state change (each driver above returns the last event it recorded), with a snapshot of the object as it is now. */
  record(type: string, object: StripeObject, account?: string, previous?: Json): FakeEvent {
    const event: FakeEvent = {
      id: id("evt"),
      object: "event",
      api_version: Stripe.API_VERSION,
      created: this.now(),
      livemode: false,
      pending_webhooks: 1,
      request: { id: null, idempotency_key: null },
      type,
      data: { object: structuredClone(object), ...(previous ? { previous_attributes: previous } : {}) },
      ...(account ? { account } : {}),
    };
    this.events.push(event);
    return event;
  }

  // —— Webhook delivery ——

  signature(payload: string, secret: string, timestamp?: number): string {
    return this.#signer.webhooks.generateTestHeaderString({ payload, secret, ...(timestamp ? { timestamp } : {}) });
  }

  /** Posts the event to a webhook endpoint as Stripe does: the JSON body, signed with `secret`. */
  async deliver(endpoint: string, event: FakeEvent, secret: string): Promise<Response> {
    const payload = JSON.stringify(event);
    return fetch(endpoint, {
      method: "POST",
      headers: { "content-type": "application/json; charset=utf-8", "stripe-signature": this.signature(payload, secret) },
      body: payload,
    });
  }

  // —— The HTTP API ——

  async #handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const url = new URL(req.url ?? "/", this.url);
    const method = req.method ?? "GET";
    const account = req.headers["stripe-account"] as string | undefined;
    const idempotencyKey = method === "POST" ? (req.headers["idempotency-key"] as string | undefined) : undefined;
    this.requests.push({ method, path: url.pathname, account, idempotencyKey });
    if (this.#applyFault(url.pathname, req, res)) return;
    const replay = idempotencyKey ? this.#idempotent.get(idempotencyKey) : undefined;
    if (replay) {
      res.writeHead(replay.status, { "content-type": "application/json", "idempotent-replayed": "true" }).end(replay.body);
      return;
    }
    const params = parseStripeForm(method === "GET" || method === "DELETE" ? url.search.slice(1) : Buffer.concat(chunks).toString());
    let status = 200;
    let body: string;
    try {
      body = JSON.stringify(this.#route(method, url.pathname, params, account));
    } catch (error) {
      if (!(error instanceof FakeStripeError)) throw error;
      status = error.status;
      body = JSON.stringify(error.body);
    }
    if (idempotencyKey) this.#idempotent.set(idempotencyKey, { status, body });
    res.writeHead(status, { "content-type": "application/json", "request-id": id("req") }).end(body);
  }

  #applyFault(path: string, req: http.IncomingMessage, res: http.ServerResponse): boolean {
    const fault = this.#faults.find((candidate) => candidate.times > 0 && (!candidate.path || path.includes(candidate.path)));
    if (!fault) return false;
    fault.times -= 1;
    if (fault.kind === "hang") {
      this.#hanging.add(req.socket);
      return true;
    }
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (fault.shouldRetry !== undefined) headers["stripe-should-retry"] = String(fault.shouldRetry);
    if (fault.kind === 429) headers["retry-after"] = "1";
    const error =
      fault.kind === 429
        ? { type: "invalid_request_error", code: "rate_limit", message: "Too many requests hit the API too quickly." }
        : { type: "api_error", message: "An unknown error occurred." };
    res.writeHead(fault.kind, headers).end(JSON.stringify({ error }));
    return true;
  }

  /** Method and path pattern → what answers; `:id` is the last path segment. */
  readonly #routes: Array<[string, RegExp, (params: Params, account: string | undefined, objectId: string) => unknown]> = [
    ["POST", /^\/v1\/customers$/, (params) => this.#createCustomer(params)],
    ["GET", /^\/v1\/customers\/([^/]+)$/, (_, __, objectId) => this.#get(this.customers, "customer", objectId)],
    ["POST", /^\/v1\/checkout\/sessions$/, (params, account) => this.#createSession(params, account)],
    ["GET", /^\/v1\/checkout\/sessions\/([^/]+)$/, (_, __, objectId) => this.#get(this.sessions, "checkout.session", objectId)],
    ["GET", /^\/v1\/subscriptions\/([^/]+)$/, (_, __, objectId) => this.#get(this.subscriptions, "subscription", objectId)],
    ["POST", /^\/v1\/subscriptions\/([^/]+)$/, (params, _, objectId) => this.updateSubscription(objectId, params).data.object],
    ["DELETE", /^\/v1\/subscriptions\/([^/]+)$/, (_, __, objectId) => this.endSubscription(objectId).data.object],
    ["POST", /^\/v1\/billing_portal\/sessions$/, (params) => this.#createPortalSession(params)],
    ["POST", /^\/v1\/accounts$/, (params) => this.#createAccount(params)],
    ["GET", /^\/v1\/accounts\/([^/]+)$/, (_, __, objectId) => this.#get(this.accounts, "account", objectId)],
    ["GET", /^\/v1\/account$/, (_, account) => this.#get(this.accounts, "account", account ?? "")],
    ["POST", /^\/v1\/account_links$/, (params) => this.#createAccountLink(params)],
    ["GET", /^\/v1\/events\/([^/]+)$/, (_, account, objectId) => this.#getEvent(objectId, account)],
    ["GET", /^\/v1\/events$/, (params, account) => this.#listEvents(params, account)],
  ];

  #route(method: string, path: string, params: Params, account: string | undefined): unknown {
    for (const [routeMethod, pattern, answer] of this.#routes) {
      const match = method === routeMethod ? pattern.exec(path) : null;
      if (match) return answer(params, account, decodeURIComponent(match[1] ?? ""));
    }
    throw invalid(`Unrecognized request URL (${method}: ${path}).`);
  }

  #get(map: Map<string, StripeObject>, kind: string, objectId: string): StripeObject {
    const found = map.get(objectId);
    if (!found) throw missing(kind, objectId);
    return found;
  }

  #createCustomer(params: Params): StripeObject {
    const customer: StripeObject = {
      id: id("cus"),
      object: "customer",
      email: stringParam(params, "email") ?? null,
      name: stringParam(params, "name") ?? null,
      metadata: metadataOf(params.metadata),
      created: this.now(),
    };
    this.customers.set(customer.id, customer);
    return customer;
  }

  #createSession(params: Params, account: string | undefined): StripeObject {
    const mode = stringParam(params, "mode");
    if (mode !== "subscription" && mode !== "payment") throw invalid("Missing required param: mode.", "mode");
    const lineItems = (params.line_items as Json[] | undefined) ?? [];
    const firstItem = lineItems[0] ?? {};
    const priceData = firstItem.price_data as Json | undefined;
    if (!firstItem.price && !priceData) throw invalid("Missing required param: line_items.", "line_items");
    const quantity = Number(firstItem.quantity ?? 1);
    const sessionId = id("cs_test");
    const session: StripeObject = {
      id: sessionId,
      object: "checkout.session",
      mode,
      status: "open",
      payment_status: "unpaid",
      url: `${this.url}/pay/${sessionId}`,
      customer: stringParam(params, "customer") ?? null,
      customer_email: stringParam(params, "customer_email") ?? null,
      client_reference_id: stringParam(params, "client_reference_id") ?? null,
      metadata: metadataOf(params.metadata),
      subscription: null,
      payment_intent: null,
      success_url: stringParam(params, "success_url") ?? null,
      cancel_url: stringParam(params, "cancel_url") ?? null,
      currency: (priceData?.currency as string | undefined) ?? "eur",
      amount_total: priceData ? Number(priceData.unit_amount) * quantity : null,
      created: this.now(),
      expires_at: this.now() + DAY_S,
      // Kept for completion; Stripe keeps line items behind their own endpoint.
      price: firstItem.price ?? null,
      subscription_data: params.subscription_data ?? null,
      payment_intent_data: params.payment_intent_data ?? null,
      ...(account ? { account } : {}),
    };
    this.sessions.set(session.id, session);
    return session;
  }

  #createSubscription(customer: string, price: string, metadata: Record<string, string>): StripeObject {
    const now = this.now();
    const subscriptionId = id("sub");
    const subscription: StripeObject = {
      id: subscriptionId,
      object: "subscription",
      customer,
      status: "active",
      cancel_at_period_end: false,
      canceled_at: null,
      ended_at: null,
      created: now,
      start_date: now,
      metadata,
      items: {
        object: "list",
        has_more: false,
        url: `/v1/subscription_items?subscription=${subscriptionId}`,
        data: [
          {
            id: id("si"),
            object: "subscription_item",
            price: { id: price, object: "price", currency: "eur", unit_amount: 1_900 },
            quantity: 1,
            current_period_start: now,
            current_period_end: now + PERIOD_S,
          },
        ],
      },
    };
    this.subscriptions.set(subscriptionId, subscription);
    return subscription;
  }

  #itemOf(subscription: StripeObject): Json {
    return ((subscription.items as Json).data as Json[])[0] as Json;
  }

  updateSubscription(subscriptionId: string, params: Params): FakeEvent {
    const subscription = this.#get(this.subscriptions, "subscription", subscriptionId);
    const previous: Json = {};
    if (params.cancel_at_period_end !== undefined) {
      previous.cancel_at_period_end = subscription.cancel_at_period_end;
      subscription.cancel_at_period_end = params.cancel_at_period_end === "true";
    }
    const newPrice = ((params.items as Json[] | undefined)?.[0] as Json | undefined)?.price;
    if (typeof newPrice === "string") ((this.#itemOf(subscription).price as Json).id as unknown) = newPrice;
    if (params.metadata) subscription.metadata = { ...metadataOf(subscription.metadata), ...metadataOf(params.metadata) };
    return this.record("customer.subscription.updated", subscription, undefined, previous);
  }

  #createPortalSession(params: Params): StripeObject {
    const customer = stringParam(params, "customer");
    if (!customer) throw invalid("Missing required param: customer.", "customer");
    this.#get(this.customers, "customer", customer);
    const sessionId = id("bps");
    return {
      id: sessionId,
      object: "billing_portal.session",
      customer,
      return_url: stringParam(params, "return_url") ?? null,
      url: `${this.url}/portal/${sessionId}`,
      created: this.now(),
    };
  }

  #createAccount(params: Params): StripeObject {
    const account: StripeObject = {
      id: id("acct"),
      object: "account",
      type: stringParam(params, "type") ?? "express",
      country: stringParam(params, "country") ?? "FR",
      email: stringParam(params, "email") ?? null,
      charges_enabled: false,
      payouts_enabled: false,
      details_submitted: false,
      requirements: { currently_due: ["external_account", "tos_acceptance.date"], eventually_due: [], past_due: [] },
      metadata: metadataOf(params.metadata),
      created: this.now(),
    };
    this.accounts.set(account.id, account);
    return account;
  }

  #createAccountLink(params: Params): StripeObject {
    const account = stringParam(params, "account");
    if (!account) throw invalid("Missing required param: account.", "account");
    this.#get(this.accounts, "account", account);
    return {
      id: id("acctlink"),
      object: "account_link",
      created: this.now(),
      expires_at: this.now() + 300,
      url: `${this.url}/onboarding/${account}`,
    };
  }

  #eventsOf(account: string | undefined): FakeEvent[] {
    return this.events.filter((event) => event.account === account);
  }

  #getEvent(eventId: string, account: string | undefined): FakeEvent {
    const event = this.#eventsOf(account).find((candidate) => candidate.id === eventId);
    if (!event) throw missing("event", eventId);
    return event;
  }

  /** Newest first; with `Stripe-Account`, that account's events, else the platform's own. */
  #listEvents(params: Params, account: string | undefined): unknown {
    const created = (typeof params.created === "object" ? params.created : {}) as Record<string, string>;
    const gte = created.gte === undefined ? -Infinity : Number(created.gte);
    const limit = Math.min(100, Math.max(1, Number(params.limit ?? 10)));
    let newestFirst = this.#eventsOf(account)
      .filter((event) => event.created >= gte)
      .reverse();
    const after = stringParam(params, "starting_after");
    if (after) {
      const index = newestFirst.findIndex((event) => event.id === after);
      if (index < 0) throw missing("event", after);
      newestFirst = newestFirst.slice(index + 1);
    }
    return { object: "list", url: "/v1/events", data: newestFirst.slice(0, limit), has_more: newestFirst.length > limit };
  }
}
