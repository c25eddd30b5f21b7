-- AlterTable
ALTER TABLE "audit_events" ADD COLUMN     "count" INTEGER NOT NULL DEFAULT 1,
ADD COLUMN     "first_at" TIMESTAMP(3),
ADD COLUMN     "last_at" TIMESTAMP(3);
