CREATE INDEX "agent_numbers_number_idx" ON "agent_numbers" USING btree ("number_e164");--> statement-breakpoint
CREATE INDEX "agents_chosen_number_idx" ON "agents" USING btree ("chosen_number");