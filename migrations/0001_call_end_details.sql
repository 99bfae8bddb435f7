DROP INDEX "calls_channel_idx";--> statement-breakpoint
ALTER TABLE "calls" ADD COLUMN "answered_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "calls" ADD COLUMN "talk_seconds" integer;--> statement-breakpoint
ALTER TABLE "calls" ADD COLUMN "final_action" text;--> statement-breakpoint
ALTER TABLE "calls" ADD COLUMN "dial_status" text;--> statement-breakpoint
-- Added by hand: earlier versions could record a call twice (re-adopted after a crash). Keep one
-- row per (pbx, channel_id), the latest decision, so that the unique index below can be built.
DELETE FROM "calls" AS a USING "calls" AS b WHERE a."pbx" = b."pbx" AND a."channel_id" = b."channel_id" AND (a."decided_at", a."id") < (b."decided_at", b."id");--> statement-breakpoint
CREATE UNIQUE INDEX "calls_pbx_channel_uidx" ON "calls" USING btree ("pbx","channel_id");