-- AlterTable
ALTER TABLE "audit_events" ADD COLUMN     "event_id" UUID;

-- CreateIndex
CREATE UNIQUE INDEX "audit_events_event_id_key" ON "audit_events"("event_id");
