// Prisma's schema engine compiled to WASM: migrations without the native binary, which this
// project cannot rely on downloading. See ../shared/prisma-offline.md for why each step is here.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { bindMigrationAwareSqlAdapterFactory, type SqlMigrationAwareDriverAdapterFactory } from '@prisma/driver-adapter-utils';
import * as bindings from '@prisma/schema-engine-wasm/schema_engine_bg';
import type { SchemaEngine } from '@prisma/schema-engine-wasm';
import { PROJECT_ROOT } from '../project-root.js';

export const SCHEMA_PATH = new URL('prisma/schema.prisma', PROJECT_ROOT);
export const MIGRATIONS_DIR = new URL('prisma/migrations/', PROJECT_ROOT);

let loaded: Promise<void> | undefined;

function loadWasm(): Promise<void> {
  loaded ??= (async () => {
    // Without this registry an engine panic surfaces as an unrelated TypeError.
    (globalThis as Record<string, unknown>).PRISMA_WASM_PANIC_REGISTRY ??= {
      set_message(message: string) {
        throw new Error(`Prisma schema engine panicked: ${message}`);
      },
    };
    const require = createRequire(import.meta.url);
    const wasmPath = require.resolve('@prisma/schema-engine-wasm/schema_engine_bg').replace(/\.js$/, '.wasm');
    const module = new WebAssembly.Module(await readFile(wasmPath));
    const instance = new WebAssembly.Instance(module, { './schema_engine_bg.js': bindings as unknown as WebAssembly.ModuleImports });
    const exports = instance.exports as WebAssembly.Exports & { __wbindgen_start(): void };
    bindings.__wbg_set_wasm(exports);
    exports.__wbindgen_start();
  })();
  return loaded;
}

/** Opens the schema engine on a database reached through a Prisma driver adapter factory. */
export async function openSchemaEngine(adapter: SqlMigrationAwareDriverAdapterFactory): Promise<SchemaEngine> {
  await loadWasm();
  const datamodel = await readFile(SCHEMA_PATH, 'utf8');
  const log = () => {};
  return (bindings.SchemaEngine as unknown as typeof SchemaEngine).new(
    { datamodels: [[SCHEMA_PATH.pathname, datamodel]] },
    log,
    bindMigrationAwareSqlAdapterFactory(adapter),
  );
}
