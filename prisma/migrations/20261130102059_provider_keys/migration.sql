-- CreateTable
CREATE TABLE "provider_keys" (
    "id" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "alg" TEXT,
    "state" TEXT NOT NULL,
    "public_jwk" JSONB,
    "sealed" TEXT NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL,
    "activates_at" TIMESTAMP(3),
    "retired_at" TIMESTAMP(3),
    "expires_at" TIMESTAMP(3),

    CONSTRAINT "provider_keys_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "provider_keys_kind_state_idx" ON "provider_keys"("kind", "state");
