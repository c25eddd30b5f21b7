// Loaded (node --import) into the Tollgate processes tests start, never into a test worker: argon2id
// hashes at the tests' cost there too, as testConfig gives the servers started in-process (Config.hashCost,
// which the environment cannot set). At production cost the admin client's secret, each client
// registered and each first authentication took half a second of every core of a busy 2-core machine.
// Verifying needs nothing: a hash carries its cost.
import { createRequire } from 'node:module';
import { CHEAP_HASH_COST } from '../helpers/hash-cost.js';

// The module object Tollgate's `import argon2 from 'argon2'` reads `hash` from at each call.
const argon2 = createRequire(import.meta.url)('argon2') as { hash: (secret: string, options: object) => Promise<string> };
const hash = argon2.hash;
argon2.hash = (secret, options) => hash(secret, { ...options, ...CHEAP_HASH_COST });
