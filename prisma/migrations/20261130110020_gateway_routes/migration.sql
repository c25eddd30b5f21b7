-- AlterTable
ALTER TABLE "resource_servers" ADD COLUMN     "gateway_routes" JSONB NOT NULL DEFAULT '[]',
ADD COLUMN     "public_base_url" TEXT;
