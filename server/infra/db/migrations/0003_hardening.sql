-- Failed sign-ins and password-reset requests are counted in one table of throttle counters.
ALTER TABLE "login_failures" RENAME TO "throttle_counters";--> statement-breakpoint
ALTER TABLE "throttle_counters" RENAME CONSTRAINT "login_failures_pkey" TO "throttle_counters_pkey";--> statement-breakpoint
ALTER TABLE "throttle_counters" RENAME COLUMN "failures" TO "hits";--> statement-breakpoint
ALTER TABLE "throttle_counters" RENAME COLUMN "last_failure_at" TO "last_hit_at";--> statement-breakpoint
ALTER INDEX "login_failures_last_idx" RENAME TO "throttle_counters_last_idx";--> statement-breakpoint
-- Stored scan answers were keyed by (event, nonce) alone. They serve retries of the last minutes only, so they are
-- dropped rather than converted: a retry of a scan made before this migration is answered as a new scan.
DELETE FROM "checkin_scans";--> statement-breakpoint
ALTER TABLE "checkin_scans" DROP CONSTRAINT "checkin_scans_event_id_nonce_pk";--> statement-breakpoint
ALTER TABLE "checkin_scans" DROP COLUMN "http_status";--> statement-breakpoint
ALTER TABLE "checkin_scans" DROP COLUMN "response";--> statement-breakpoint
ALTER TABLE "checkin_scans" ADD COLUMN "scanned_by" uuid NOT NULL;--> statement-breakpoint
ALTER TABLE "checkin_scans" ADD COLUMN "code_hash" text NOT NULL;--> statement-breakpoint
ALTER TABLE "checkin_scans" ADD COLUMN "result" text;--> statement-breakpoint
ALTER TABLE "checkin_scans" ADD COLUMN "body" text;--> statement-breakpoint
ALTER TABLE "checkin_scans" ADD CONSTRAINT "checkin_scans_scanned_by_users_id_fk" FOREIGN KEY ("scanned_by") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "checkin_scans" ADD CONSTRAINT "checkin_scans_event_id_scanned_by_nonce_pk" PRIMARY KEY("event_id","scanned_by","nonce");
