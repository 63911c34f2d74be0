CREATE TYPE "public"."stripe_event_status" AS ENUM('pending', 'processing', 'processed', 'ignored', 'failed');--> statement-breakpoint
CREATE TABLE "plans" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"rank" integer NOT NULL,
	"price_monthly_cents" integer NOT NULL,
	"currency" text NOT NULL,
	"members_limit" integer,
	"events_per_month_limit" integer,
	"requests_per_minute" integer NOT NULL
);
--> statement-breakpoint
-- The plans. Prices and limits change by a new migration; their Stripe price ids come from the configuration.
INSERT INTO "plans" ("id", "name", "rank", "price_monthly_cents", "currency", "members_limit", "events_per_month_limit", "requests_per_minute") VALUES
	('free', 'Free', 0, 0, 'eur', 50, 4, 120),
	('pro', 'Pro', 1, 1900, 'eur', 500, 30, 600),
	('premium', 'Premium', 2, 4900, 'eur', NULL, NULL, 1800);--> statement-breakpoint
CREATE TABLE "connected_accounts" (
	"community_id" uuid PRIMARY KEY NOT NULL,
	"stripe_account_id" text NOT NULL,
	"charges_enabled" boolean DEFAULT false NOT NULL,
	"payouts_enabled" boolean DEFAULT false NOT NULL,
	"details_submitted" boolean DEFAULT false NOT NULL,
	"requirements_due" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "payments" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"community_id" uuid NOT NULL,
	"user_id" uuid,
	"kind" text DEFAULT 'dues' NOT NULL,
	"stripe_checkout_session_id" text NOT NULL,
	"stripe_payment_intent_id" text,
	"amount_cents" integer NOT NULL,
	"application_fee_cents" integer DEFAULT 0 NOT NULL,
	"currency" text NOT NULL,
	"paid_until" timestamp with time zone,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "stripe_events" (
	"id" text PRIMARY KEY NOT NULL,
	"account" text,
	"type" text NOT NULL,
	"object_id" text,
	"created" bigint NOT NULL,
	"payload" jsonb NOT NULL,
	"status" "stripe_event_status" DEFAULT 'pending' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"last_error" text,
	"received_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"processed_at" timestamp (3) with time zone
);
--> statement-breakpoint
CREATE TABLE "stripe_object_versions" (
	"object_id" text PRIMARY KEY NOT NULL,
	"last_event_created" bigint NOT NULL,
	"last_event_id" text NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "stripe_sync_checkpoints" (
	"name" text PRIMARY KEY NOT NULL,
	"last_event_created" bigint NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "subscriptions" (
	"community_id" uuid PRIMARY KEY NOT NULL,
	"stripe_customer_id" text,
	"stripe_subscription_id" text,
	"plan_id" text,
	"status" text,
	"current_period_end" timestamp with time zone,
	"cancel_at_period_end" boolean DEFAULT false NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "communities" ADD COLUMN "dues_amount_cents" integer;--> statement-breakpoint
ALTER TABLE "communities" ADD COLUMN "dues_currency" text DEFAULT 'eur' NOT NULL;--> statement-breakpoint
ALTER TABLE "communities" ADD COLUMN "dues_period_months" integer DEFAULT 12 NOT NULL;--> statement-breakpoint
ALTER TABLE "memberships" ADD COLUMN "dues_paid_until" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "connected_accounts" ADD CONSTRAINT "connected_accounts_community_id_communities_id_fk" FOREIGN KEY ("community_id") REFERENCES "public"."communities"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "payments" ADD CONSTRAINT "payments_community_id_communities_id_fk" FOREIGN KEY ("community_id") REFERENCES "public"."communities"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "payments" ADD CONSTRAINT "payments_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "subscriptions" ADD CONSTRAINT "subscriptions_community_id_communities_id_fk" FOREIGN KEY ("community_id") REFERENCES "public"."communities"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "subscriptions" ADD CONSTRAINT "subscriptions_plan_id_plans_id_fk" FOREIGN KEY ("plan_id") REFERENCES "public"."plans"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "connected_accounts_account_key" ON "connected_accounts" USING btree ("stripe_account_id");--> statement-breakpoint
CREATE UNIQUE INDEX "payments_checkout_session_key" ON "payments" USING btree ("stripe_checkout_session_id");--> statement-breakpoint
CREATE INDEX "payments_community_created_idx" ON "payments" USING btree ("community_id","created_at","id");--> statement-breakpoint
CREATE INDEX "stripe_events_status_received_idx" ON "stripe_events" USING btree ("status","received_at","id");--> statement-breakpoint
CREATE INDEX "stripe_events_received_idx" ON "stripe_events" USING btree ("received_at","id");--> statement-breakpoint
CREATE UNIQUE INDEX "subscriptions_customer_key" ON "subscriptions" USING btree ("stripe_customer_id");--> statement-breakpoint
CREATE UNIQUE INDEX "subscriptions_subscription_key" ON "subscriptions" USING btree ("stripe_subscription_id");--> statement-breakpoint
ALTER TABLE "communities" ADD CONSTRAINT "communities_plan_plans_id_fk" FOREIGN KEY ("plan") REFERENCES "public"."plans"("id") ON DELETE no action ON UPDATE no action;