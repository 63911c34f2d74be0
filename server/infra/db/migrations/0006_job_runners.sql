CREATE TABLE "job_runners" (
	"pool_id" text PRIMARY KEY NOT NULL,
	"listen_pid" integer NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
