import type { Router } from "express";
import type { Container } from "../../container.ts";
import { paymentsSettings } from "../billing/index.ts";
import type { CommunityAccess } from "../communities/index.ts";
import { DuesRepository } from "./dues.repo.ts";
import { duesRoutes, onboardingRefreshPath } from "./dues.routes.ts";
import { DuesService } from "./dues.service.ts";

export type { DuesService, RecordedPayment } from "./dues.service.ts";

export interface DuesModule {
  routes: Router;
  /** Records paid dues sessions, for the Stripe event handlers. */
  service: DuesService;
}

/** Membership dues and the community's payouts account: /communities/:slug/dues, /payouts, /payments */
export function duesModule(container: Container, access: CommunityAccess): DuesModule {
  const { config } = container;
  const refreshUrl = (slug: string) => new URL(onboardingRefreshPath(slug), config.appUrl).toString();
  const service = new DuesService(
    container.db,
    new DuesRepository(),
    access,
    container.stripe,
    paymentsSettings(config.appUrl, config.stripe),
    refreshUrl,
  );
  return { routes: duesRoutes(service), service };
}
