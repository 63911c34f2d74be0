import type Stripe from "stripe";
import type { CommunityRow } from "../../../shared/schema/index.ts";
import type { Actor } from "../../core/actor.ts";
import { AppError } from "../../core/app-error.ts";
import type { Database } from "../../infra/db/client.ts";
import { authorize, type CommunityAccess } from "../communities/index.ts";
import type { BillingRepository } from "./billing.repo.ts";
import { requireStripe, type PaymentsSettings } from "./stripe-settings.ts";

/** Statuses under which a community already has a subscription: another checkout would make it pay twice. */
const SUBSCRIBED = new Set(["active", "trialing", "past_due", "unpaid", "incomplete"]);

/**
 * The community's SaaS subscription, on the owner's side: Checkout to subscribe, the Billing customer portal to change
 * the card, the plan, or cancel. What the subscription becomes is learned from Stripe's webhooks, never from here.
 */
export class BillingService {
  constructor(
    private readonly db: Database,
    private readonly repo: BillingRepository,
    private readonly access: CommunityAccess,
    private readonly stripe: Stripe | undefined,
    private readonly settings: PaymentsSettings,
  ) {}

  /** A Checkout session (mode subscription) for a paid plan; its `client_reference_id` is the community. */
  async checkout(actor: Actor, slug: string, planId: string): Promise<string> {
    const community = await this.ownedCommunity(actor, slug);
    const stripe = requireStripe(this.stripe);
    const price = this.settings.prices[planId];
    if (!price) throw new AppError("unavailable", `planId: no Stripe price is configured for the ${planId} plan on this server`);
    const current = await this.repo.find(this.db, community.id);
    if (current?.status && SUBSCRIBED.has(current.status)) {
      throw new AppError("conflict", "this community already has a subscription: change or cancel it in the billing portal", {
        extra: { reason: "subscribed" },
      });
    }
    const customer = current?.stripeCustomerId ?? (await this.createCustomer(stripe, community));
    const session = await stripe.checkout.sessions.create({
      mode: "subscription",
      customer,
      client_reference_id: community.id,
      line_items: [{ price, quantity: 1 }],
      metadata: { community_id: community.id, plan_id: planId },
      subscription_data: { metadata: { community_id: community.id, plan_id: planId } },
      success_url: this.settings.pageUrl(community.slug, "billing?checkout=done"),
      cancel_url: this.settings.pageUrl(community.slug, "billing?checkout=cancelled"),
    });
    if (!session.url) throw new Error("Stripe answered a checkout session without a url");
    return session.url;
  }

  /** The Billing customer portal, for a community that has been through a checkout. */
  async portal(actor: Actor, slug: string): Promise<string> {
    const community = await this.ownedCommunity(actor, slug);
    const stripe = requireStripe(this.stripe);
    const customer = (await this.repo.find(this.db, community.id))?.stripeCustomerId;
    if (!customer) {
      throw new AppError("conflict", "this community has no subscription yet: start one with a checkout", {
        extra: { reason: "no_subscription" },
      });
    }
    const session = await stripe.billingPortal.sessions.create({ customer, return_url: this.settings.pageUrl(community.slug, "billing") });
    return session.url;
  }

  /** Outsiders get 404 and members 403 before anything says whether payments are configured. */
  private async ownedCommunity(actor: Actor, slug: string): Promise<CommunityRow> {
    const { community, role } = await this.access.memberOf(this.db, { slug }, actor.id);
    authorize(role, "manageBilling");
    return community;
  }

  /**
   * One customer per community, even when two checkouts start at once: the idempotency key, derived from the
   * community, makes Stripe answer both with the same customer (for 24 hours; after that the row has it).
   */
  private async createCustomer(stripe: Stripe, community: CommunityRow): Promise<string> {
    const customer = await stripe.customers.create(
      { metadata: { community_id: community.id } },
      { idempotencyKey: `community-customer-${community.id}` },
    );
    return this.repo.keepCustomer(this.db, community.id, customer.id);
  }
}
