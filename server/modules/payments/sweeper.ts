import type { Logger } from "pino";
import type Stripe from "stripe";
import type { Database, Transaction } from "../../infra/db/client.ts";
import { BillingRepository } from "../billing/billing.repo.ts";
import { DuesRepository } from "../dues/dues.repo.ts";
import type { StripeHandlers } from "./stripe-handlers.ts";

export interface SweepResult {
  subscriptions: number;
  accounts: number;
  /** Objects whose state could not be fetched or applied (logged; the next night tries again). */
  failed: number;
}

/**
 * Reconciliation reads Stripe's events, which Stripe keeps 30 days: a drift older than that (an event lost while the
 * inbox was down for longer, a row restored from a backup) is repaired by comparing every subscription and connected
 * account known here with Stripe's current state, applied as their events would apply it (idempotent: an object that
 * has not drifted writes nothing).
 */
export class Sweeper {
  readonly #subscriptions = new BillingRepository();
  readonly #accounts = new DuesRepository();

  constructor(
    private readonly db: Database,
    private readonly stripe: Stripe,
    private readonly handlers: StripeHandlers,
    private readonly logger: Logger,
  ) {}

  async sweep(): Promise<SweepResult> {
    const subscriptions = await this.#sweepAll(
      "subscription",
      await this.#subscriptions.subscriptionIds(this.db),
      (id) => this.stripe.subscriptions.retrieve(id),
      (tx, state) => this.handlers.applySubscription(tx, state),
    );
    const accounts = await this.#sweepAll(
      "account",
      await this.#accounts.accountIds(this.db),
      (id) => this.stripe.accounts.retrieve(id),
      (tx, state) => this.handlers.applyAccount(tx, state),
    );
    return { subscriptions: subscriptions.repaired, accounts: accounts.repaired, failed: subscriptions.failed + accounts.failed };
  }

  async #sweepAll<State>(
    kind: string,
    ids: string[],
    fetch: (id: string) => Promise<State>,
    apply: (tx: Transaction, state: State) => Promise<void>,
  ): Promise<{ repaired: number; failed: number }> {
    let repaired = 0;
    for (const id of ids) if (await this.#repair(kind, id, () => fetch(id), apply)) repaired += 1;
    return { repaired, failed: ids.length - repaired };
  }

  /** One object: a failure is logged and the sweep goes on with the others. */
  async #repair<State>(
    kind: string,
    id: string,
    fetch: () => Promise<State>,
    apply: (tx: Transaction, state: State) => Promise<void>,
  ): Promise<boolean> {
    try {
      const state = await fetch();
      await this.db.transaction((tx) => apply(tx, state));
      return true;
    } catch (error) {
      this.logger.warn({ err: error, kind, objectId: id }, "stripe object not swept");
      return false;
    }
  }
}
