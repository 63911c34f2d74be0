import express, { type Express } from "express";
import helmet from "helmet";
import type { Container } from "./container.ts";
import { CLIENT_DIR } from "./paths.ts";
import { requestLog } from "./http/middleware/request-log.ts";
import { loadShedding } from "./http/middleware/load-shedding.ts";
import { sessions } from "./http/middleware/session.ts";
import { errorHandler, notFoundHandler } from "./http/error-handler.ts";
import { HEALTH_MOUNT_PATH, healthRoutes } from "./modules/health/index.ts";
import { accountsModule } from "./modules/accounts/index.ts";
import { communitiesModule, communityAccess } from "./modules/communities/index.ts";
import { eventsModule } from "./modules/events/index.ts";
import { ticketsModule } from "./modules/tickets/index.ts";
import { checkinsModule } from "./modules/checkins/index.ts";
import { emailsModule } from "./modules/emails/index.ts";
import { plansModule } from "./modules/plans/index.ts";
import { billingModule } from "./modules/billing/index.ts";
import { duesModule } from "./modules/dues/index.ts";
import { paymentsModule } from "./modules/payments/index.ts";
import { metricsModule } from "./modules/metrics/index.ts";
import { csrfProtection } from "./http/middleware/csrf.ts";
import { authenticate } from "./http/middleware/auth.ts";
import { opsOnly } from "./http/middleware/ops-token.ts";
import { rateLimit } from "./http/middleware/rate-limit.ts";
import { JSON_BODY_LIMIT } from "./http/validate.ts";
import { clientApp } from "./http/client-app.ts";

/**
 * Helmet's defaults, plus what the web app needs: WebAssembly compiled from our own origin (the QR decoder of the
 * scanner). Nothing is loaded from another origin.
 */
const CONTENT_SECURITY = { scriptSrc: ["'self'", "'wasm-unsafe-eval'"] };

/**
 * The Express application, without listening (tests and the web worker both use
 * it). Order matters: request id and latency line first, load shedding, probes, Stripe's webhooks and operators'
 * endpoints before sessions (neither may depend on Redis or a cookie), sessions and the signed-in user, the
 * cross-site check, the feature routers (each route reads its own JSON body,
 * after its own access check), then 404 and the one error handler.
 */
export function createApp(container: Container): Express {
  const { config, logger } = container;
  const app = express();
  app.set("trust proxy", config.trustProxy);
  app.set("x-powered-by", false);
  app.set("query parser", "simple");
  app.set(JSON_BODY_LIMIT, config.plan.bodyLimitBytes);

  app.use(requestLog(logger));
  // Before anything that costs: a refused request touches no Redis, no database, not even helmet.
  app.use(loadShedding(container.load));
  app.use(helmet({ contentSecurityPolicy: { directives: CONTENT_SECURITY } }));
  app.use(HEALTH_MOUNT_PATH, healthRoutes(container.health, config.opsToken));
  const metrics = metricsModule(container);
  app.use("/api/metrics", opsOnly(config.opsToken, config.production), metrics.routes);
  const emails = emailsModule(container);
  // SendGrid's and Stripe's deliveries: authenticated by their signatures, no session, no cross-site check.
  app.use("/api/webhooks/sendgrid", emails.webhookRoutes);
  const payments = paymentsModule(container);
  app.use("/api/webhooks", payments.webhooks);
  // Operators' endpoints: a bearer token, no session, no cross-site check (no browser sends it).
  const ops = express.Router();
  ops.use(opsOnly(config.opsToken, config.production));
  ops.use(emails.opsRoutes);
  ops.use(payments.ops);
  ops.use(metrics.opsRoutes);
  ops.use(notFoundHandler);
  app.use("/api/ops", ops);

  const api = express.Router();
  api.use(
    sessions({
      store: container.sessionStore,
      secrets: config.session.secrets,
      idleMs: config.session.idleMs,
      maxAgeMs: config.session.maxAgeMs,
      secureCookie: config.session.secureCookie,
      logger,
    }),
  );
  const accounts = accountsModule(container);
  api.use(authenticate(accounts.sessionUsers));
  // After the user is known (their plan sets their allowance); what is mounted before /api is never counted.
  api.use(rateLimit(container.rateLimits));
  api.use(csrfProtection(config.trustedOrigins));
  const plans = plansModule(container.db, container.cache);
  const access = communityAccess(container);
  const events = eventsModule(container, access, plans.service);
  const tickets = ticketsModule(container, events.access);
  api.use(accounts.routes);
  api.use(plans.routes);
  api.use(communitiesModule(container, plans.service, { membershipEnded: tickets.membershipEnded }));
  api.use(billingModule(container, access));
  api.use(duesModule(container, access));
  api.use(events.routes);
  api.use(tickets.routes);
  api.use(checkinsModule(container, events.access));
  api.use(notFoundHandler);
  app.use("/api", api);

  app.use(clientApp(CLIENT_DIR));
  app.use(errorHandler(logger));
  return app;
}
