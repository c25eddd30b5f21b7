-- AlterTable
ALTER TABLE "clients" ADD COLUMN     "resource_server_id" TEXT;

-- CreateTable
CREATE TABLE "resource_servers" (
    "id" TEXT NOT NULL,
    "identifier" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "scopes" TEXT[],
    "access_token_format" TEXT NOT NULL DEFAULT 'opaque',
    "access_token_ttl" INTEGER,
    "signing_alg" TEXT NOT NULL DEFAULT 'RS256',
    "dpop_required" BOOLEAN NOT NULL DEFAULT false,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "resource_servers_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "resource_servers_identifier_key" ON "resource_servers"("identifier");

-- CreateIndex
CREATE INDEX "clients_resource_server_id_idx" ON "clients"("resource_server_id");

-- AddForeignKey
ALTER TABLE "clients" ADD CONSTRAINT "clients_resource_server_id_fkey" FOREIGN KEY ("resource_server_id") REFERENCES "resource_servers"("id") ON DELETE SET NULL ON UPDATE CASCADE;
