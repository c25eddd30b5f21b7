import { existsSync } from 'node:fs';
import { defineConfig } from 'prisma/config';

// `prisma generate` only checks that this path exists; it never runs it. On machines that cannot
// download Prisma's native schema engine, pointing it at any existing file lets generation work
// offline. Migrations never use the native engine here: src/db/migrate.ts runs the WASM one.
if (!process.env.PRISMA_SCHEMA_ENGINE_BINARY && !existsSync('node_modules/@prisma/engines/schema-engine')) {
  process.env.PRISMA_SCHEMA_ENGINE_BINARY = 'package.json';
}

export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
});
