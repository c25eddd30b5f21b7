// The tests' argon2id cost, apart from the helpers that use vitest: test/setup/cheap-hashing.ts loads
// it into child processes too.
import type { HashCost } from '../../src/crypto/argon2.js';

/** argon2id at its cheapest: tests hash and verify hundreds of secrets, production's 64 MiB each would dominate. */
export const CHEAP_HASH_COST: HashCost = Object.freeze({ memoryCost: 1024, timeCost: 1, parallelism: 1 });
