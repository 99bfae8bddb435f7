CREATE TABLE "agent_groups" (
	"agent_id" text NOT NULL,
	"group_name" text NOT NULL,
	CONSTRAINT "agent_groups_agent_id_group_name_pk" PRIMARY KEY("agent_id","group_name")
);
--> statement-breakpoint
CREATE TABLE "agent_numbers" (
	"agent_id" text NOT NULL,
	"number_e164" text NOT NULL,
	CONSTRAINT "agent_numbers_agent_id_number_e164_pk" PRIMARY KEY("agent_id","number_e164")
);
--> statement-breakpoint
CREATE TABLE "agents" (
	"id" text PRIMARY KEY NOT NULL,
	"endpoint" text NOT NULL,
	"chosen_number" text,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "agents_endpoint_unique" UNIQUE("endpoint")
);
--> statement-breakpoint
CREATE TABLE "groups" (
	"name" text PRIMARY KEY NOT NULL
);
--> statement-breakpoint
CREATE TABLE "number_groups" (
	"number_e164" text NOT NULL,
	"group_name" text NOT NULL,
	CONSTRAINT "number_groups_number_e164_group_name_pk" PRIMARY KEY("number_e164","group_name")
);
--> statement-breakpoint
CREATE TABLE "numbers" (
	"e164" text PRIMARY KEY NOT NULL,
	"enabled" boolean DEFAULT true NOT NULL,
	"location_country" text NOT NULL,
	"location_region" text,
	"location_area" text,
	"location_source" text DEFAULT 'auto' NOT NULL,
	"last_used_at" timestamp with time zone,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "settings" (
	"key" text PRIMARY KEY NOT NULL,
	"value" jsonb NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "calls" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"direction" text NOT NULL,
	"pbx" text NOT NULL,
	"channel_id" text NOT NULL,
	"agent_id" text,
	"agent_endpoint" text,
	"customer_e164" text,
	"caller_id" text,
	"action" text NOT NULL,
	"strategy" text,
	"tier" text,
	"fallback" boolean DEFAULT false NOT NULL,
	"candidates" integer,
	"reason" text NOT NULL,
	"decided_at" timestamp with time zone NOT NULL,
	"decision_micros" integer,
	"ended_at" timestamp with time zone,
	"hangup_cause" integer
);
--> statement-breakpoint
ALTER TABLE "agent_groups" ADD CONSTRAINT "agent_groups_agent_id_agents_id_fk" FOREIGN KEY ("agent_id") REFERENCES "public"."agents"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "agent_groups" ADD CONSTRAINT "agent_groups_group_name_groups_name_fk" FOREIGN KEY ("group_name") REFERENCES "public"."groups"("name") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "agent_numbers" ADD CONSTRAINT "agent_numbers_agent_id_agents_id_fk" FOREIGN KEY ("agent_id") REFERENCES "public"."agents"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "agent_numbers" ADD CONSTRAINT "agent_numbers_number_e164_numbers_e164_fk" FOREIGN KEY ("number_e164") REFERENCES "public"."numbers"("e164") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "agents" ADD CONSTRAINT "agents_chosen_number_numbers_e164_fk" FOREIGN KEY ("chosen_number") REFERENCES "public"."numbers"("e164") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "number_groups" ADD CONSTRAINT "number_groups_number_e164_numbers_e164_fk" FOREIGN KEY ("number_e164") REFERENCES "public"."numbers"("e164") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "number_groups" ADD CONSTRAINT "number_groups_group_name_groups_name_fk" FOREIGN KEY ("group_name") REFERENCES "public"."groups"("name") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "number_groups_group_idx" ON "number_groups" USING btree ("group_name");--> statement-breakpoint
CREATE INDEX "calls_customer_recent_idx" ON "calls" USING btree ("customer_e164","direction","decided_at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "calls_channel_idx" ON "calls" USING btree ("channel_id");