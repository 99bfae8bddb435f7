ALTER TABLE "numbers" ADD COLUMN "daily_cap" integer;--> statement-breakpoint
CREATE INDEX "calls_outbound_decided_brin" ON "calls" USING brin ("decided_at") WHERE "calls"."direction" = 'outbound';