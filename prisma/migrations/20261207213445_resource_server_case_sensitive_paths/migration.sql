-- AlterTable
ALTER TABLE "resource_servers" ADD COLUMN     "case_sensitive_paths" BOOLEAN NOT NULL DEFAULT false;
