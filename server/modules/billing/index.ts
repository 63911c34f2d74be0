import type { Router } from "express";
import type { Container } from "../../container.ts";
import type { CommunityAccess } from "../communities/index.ts";
import { BillingRepository } from "./billing.repo.ts";
import { billingRoutes } from "./billing.routes.ts";
import { BillingService } from "./billing.service.ts";
import { paymentsSettings } from "./stripe-settings.ts";

export { paymentsSettings, requireStripe, type PaymentsSettings } from "./stripe-settings.ts";

/** The community's SaaS subscription: /communities/:slug/subscription/... */
export function billingModule(container: Container, access: CommunityAccess): Router {
  const settings = paymentsSettings(container.config.appUrl, container.config.stripe);
  return billingRoutes(new BillingService(container.db, new BillingRepository(), access, container.stripe, settings));
}
