CREATE TABLE "survey_results" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"pbx" text NOT NULL,
	"channel_id" text NOT NULL,
	"call_channel_id" text NOT NULL,
	"direction" text NOT NULL,
	"agent_id" text,
	"agent_groups" text[] DEFAULT '{}' NOT NULL,
	"customer_e164" text,
	"template" text NOT NULL,
	"outcome" text NOT NULL,
	"dtmf_key" text,
	"label" text,
	"score" integer,
	"attempts" integer NOT NULL,
	"started_at" timestamp with time zone NOT NULL,
	"ended_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX "survey_results_pbx_channel_uidx" ON "survey_results" USING btree ("pbx","channel_id");--> statement-breakpoint
CREATE INDEX "survey_results_started_idx" ON "survey_results" USING btree ("started_at");--> statement-breakpoint
CREATE INDEX "survey_results_agent_idx" ON "survey_results" USING btree ("agent_id","started_at");