import type Stripe from "stripe";
import type { DuesSettingsBody } from "../../../shared/api/dues.ts";
import type { Page, PageQuery } from "../../../shared/api/pagination.ts";
import type { CommunityRow, ConnectedAccountRow, PaymentRow } from "../../../shared/schema/index.ts";
import type { Actor } from "../../core/actor.ts";
import { AppError } from "../../core/app-error.ts";
import { decodeCursor, toPage } from "../../core/pagination.ts";
import type { Database } from "../../infra/db/client.ts";
import { timestampIdCursor } from "../../infra/db/keyset.ts";
import { requireStripe, type PaymentsSettings } from "../billing/index.ts";
import { authorize, type Action, type CommunityAccess } from "../communities/index.ts";
import type { DuesRepository } from "./dues.repo.ts";

const PAYMENTS_CURSOR = timestampIdCursor("payments");
/** A list of its own: a position in the community's payments is no position in a member's. */
const MY_PAYMENTS_CURSOR = timestampIdCursor("my-payments");

export interface DuesView {
  community: CommunityRow;
  account: ConnectedAccountRow | undefined;
  paidUntil: Date | null;
}

/**
 * Membership dues, paid by members through Checkout as destination charges to the community's Stripe Connect Express
 * account (the platform keeps an application fee), and that account's onboarding.
 */
export class DuesService {
  constructor(
    private readonly db: Database,
    private readonly repo: DuesRepository,
    private readonly access: CommunityAccess,
    private readonly stripe: Stripe | undefined,
    private readonly settings: PaymentsSettings,
    private readonly refreshUrl: (slug: string) => string,
  ) {}

  /**
   * A fresh onboarding link to the community's Express account (created on first use). Links are single-use and
   * expire within minutes: one is made on each request, never stored; Stripe sends an expired one back to `refreshUrl`.
   */
  async onboardingLink(actor: Actor, slug: string): Promise<string> {
    const community = await this.communityFor(actor, slug, "managePayouts");
    const stripe = requireStripe(this.stripe);
    const account = (await this.repo.findAccount(this.db, community.id))?.stripeAccountId ?? (await this.createAccount(stripe, community));
    const link = await stripe.accountLinks.create({
      account,
      type: "account_onboarding",
      refresh_url: this.refreshUrl(community.slug),
      return_url: this.settings.pageUrl(community.slug, "payouts?onboarding=done"),
    });
    return link.url;
  }

  async payouts(actor: Actor, slug: string): Promise<ConnectedAccountRow | undefined> {
    const community = await this.communityFor(actor, slug, "seePayments");
    return this.repo.findAccount(this.db, community.id);
  }

  async dues(actor: Actor, slug: string): Promise<DuesView> {
    const community = await this.communityFor(actor, slug, "read");
    const [account, paidUntil] = await Promise.all([
      this.repo.findAccount(this.db, community.id),
      this.repo.paidUntil(this.db, community.id, actor.id),
    ]);
    return { community, account, paidUntil };
  }

  async setDues(actor: Actor, slug: string, settings: DuesSettingsBody): Promise<DuesView> {
    const community = await this.communityFor(actor, slug, "manageDues");
    await this.repo.setDues(this.db, community.id, settings);
    return this.dues(actor, slug);
  }

  /** A Checkout session (mode payment) of one period of dues, paid to the community's account. */
  async checkout(actor: Actor & { email: string }, slug: string): Promise<string> {
    const community = await this.communityFor(actor, slug, "read");
    const stripe = requireStripe(this.stripe);
    const amount = community.duesAmountCents;
    if (amount === null) throw new AppError("conflict", "this community asks no dues", { extra: { reason: "no_dues" } });
    const account = await this.repo.findAccount(this.db, community.id);
    if (!account?.chargesEnabled) {
      throw new AppError("conflict", "this community cannot take payments yet: its owner has to finish setting up payouts", {
        extra: { reason: "payouts_not_ready" },
      });
    }
    const fee = Math.round((amount * this.settings.applicationFeePercent) / 100);
    const metadata = {
      kind: "dues",
      community_id: community.id,
      user_id: actor.id,
      period_months: String(community.duesPeriodMonths),
      application_fee_cents: String(fee),
    };
    const session = await stripe.checkout.sessions.create({
      mode: "payment",
      customer_email: actor.email,
      client_reference_id: community.id,
      line_items: [
        {
          quantity: 1,
          price_data: {
            currency: community.duesCurrency,
            unit_amount: amount,
            product_data: { name: `Membership dues, ${community.name} (${community.duesPeriodMonths} months)` },
          },
        },
      ],
      metadata,
      payment_intent_data: {
        application_fee_amount: fee,
        transfer_data: { destination: account.stripeAccountId },
        ...(this.settings.duesOnBehalfOf ? { on_behalf_of: account.stripeAccountId } : {}),
        metadata,
      },
      success_url: this.settings.pageUrl(community.slug, "dues?checkout=done"),
      cancel_url: this.settings.pageUrl(community.slug, "dues?checkout=cancelled"),
    });
    if (!session.url) throw new Error("Stripe answered a checkout session without a url");
    return session.url;
  }

  /** The community's payments, for its admins. */
  async payments(actor: Actor, slug: string, query: PageQuery): Promise<Page<PaymentRow>> {
    const community = await this.communityFor(actor, slug, "seePayments");
    return this.paymentsPage(community.id, query, PAYMENTS_CURSOR);
  }

  /** The caller's own payments in the community: their receipts. */
  async myPayments(actor: Actor, slug: string, query: PageQuery): Promise<Page<PaymentRow>> {
    const community = await this.communityFor(actor, slug, "read");
    return this.paymentsPage(community.id, query, MY_PAYMENTS_CURSOR, actor.id);
  }

  private async paymentsPage(
    communityId: string,
    query: PageQuery,
    cursor: typeof PAYMENTS_CURSOR,
    userId?: string,
  ): Promise<Page<PaymentRow>> {
    const rows = await this.repo.paymentsPage(this.db, communityId, query.limit, decodeCursor(cursor, query.cursor), userId);
    return toPage(
      rows.map((row) => ({ ...row.payment, createdAtKey: row.createdAtKey })),
      query.limit,
      cursor,
      (row) => [row.createdAtKey, row.id] as const,
    );
  }

  private async communityFor(actor: Actor, slug: string, action: Action): Promise<CommunityRow> {
    const { community, role } = await this.access.memberOf(this.db, { slug }, actor.id);
    authorize(role, action);
    return community;
  }

  /** One Express account per community, even under concurrent requests (an idempotency key derived from it). */
  private async createAccount(stripe: Stripe, community: CommunityRow): Promise<string> {
    const account = await stripe.accounts.create(
      { type: "express", metadata: { community_id: community.id } },
      { idempotencyKey: `community-account-${community.id}` },
    );
    return this.repo.keepAccount(this.db, community.id, account.id);
  }
}
