CREATE TABLE "agent_pauses" (
	"agent_id" text PRIMARY KEY NOT NULL,
	"paused_at" timestamp with time zone DEFAULT now() NOT NULL,
	"note" text
);
--> statement-breakpoint
ALTER TABLE "calls" ADD COLUMN "hung_up_by" text;--> statement-breakpoint
ALTER TABLE "calls" ADD COLUMN "no_answer_route" text;