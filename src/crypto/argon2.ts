import argon2 from 'argon2';

/** argon2id's cost parameters; a hash records its own, so verifying costs what hashing did. */
export interface HashCost {
  /** KiB of memory. */
  readonly memoryCost: number;
  readonly timeCost: number;
  readonly parallelism: number;
}

/** argon2's own defaults: 64 MiB, 3 passes, 4 lanes (stronger than OWASP's argon2id minimum). */
export const DEFAULT_HASH_COST: HashCost = Object.freeze({ memoryCost: 65536, timeCost: 3, parallelism: 4 });

/** The argon2id hash of a client secret or a password, as stored. */
export function hashSecret(secret: string, cost: HashCost = DEFAULT_HASH_COST): Promise<string> {
  return argon2.hash(secret, { type: argon2.argon2id, ...cost });
}
