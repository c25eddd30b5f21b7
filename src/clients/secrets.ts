import { randomBytes } from 'node:crypto';
import { DEFAULT_HASH_COST, type HashCost, hashSecret } from '../crypto/argon2.js';
import { sha256 } from '../crypto/hash.js';
import { Argon2Gate, UNBOUNDED } from './argon2-gate.js';

/** Longest secret we will spend an argon2 verification on; generated secrets are 43 characters. */
export const MAX_SECRET_LENGTH = 256;
const PRINTABLE_ASCII = /^[\x21-\x7e]+$/;

/**
 * A new client id: 128 random bits, base64url, starting with a letter or digit so that it never
 * reads as an option on a command line (`--client -abc` is ambiguous to a parser).
 */
export function generateClientId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (/^[A-Za-z0-9]/.test(id)) return id;
  }
}

/** Only a printable-ASCII string of sane length is worth an argon2 verification. */
function isPlausibleSecret(presented: unknown): presented is string {
  return typeof presented === 'string' && presented.length <= MAX_SECRET_LENGTH && PRINTABLE_ASCII.test(presented);
}

/**
 * Verifies presented client secrets against stored argon2id hashes, through the one argon2 gate
 * (src/clients/argon2-gate.ts). argon2 costs tens of milliseconds by design, so a successful
 * verification is remembered: keyed by client id and the SHA-256 of the presented secret, and
 * valid only while the hash it matched is still one the client accepts, so a rotation makes old
 * entries useless even before `forget` removes them.
 */
export class SecretVerifier {
  readonly #verified = new Map<string, Map<string, string>>();
  readonly #pending = new Map<string, Promise<boolean>>();
  #entries = 0;

  constructor(
    private readonly maxEntries: number,
    private readonly hashCost: HashCost = DEFAULT_HASH_COST,
    /** Unbounded when not given (a verifier used alone); the server, its admin socket and the CLI pass their one gate (createServices). */
    private readonly gate: Argon2Gate = new Argon2Gate(UNBOUNDED, hashCost),
  ) {}

  /** Hashes a new secret, at the cost this verifier's secrets are hashed with. */
  hash(secret: string): Promise<string> {
    return hashSecret(secret, this.hashCost);
  }

  /**
   * Whether `presented` is one of the client's secrets. With no accepted hash (no such client, or
   * one that may not authenticate this way) it still costs one verification, against a dummy hash,
   * so that timing does not tell which client ids exist. Throws 503 when the argon2 gate is full.
   */
  async verify(clientId: string, presented: unknown, acceptedHashes: readonly string[]): Promise<boolean> {
    if (!isPlausibleSecret(presented)) return false;
    const digest = sha256(presented);
    if (this.#remembers(clientId, digest, acceptedHashes)) return true;
    if (acceptedHashes.length === 0) return this.#argon2Once(digest, undefined, presented);

    for (const hash of acceptedHashes) {
      if (await this.#argon2Once(digest, hash, presented)) {
        this.#remember(clientId, digest, hash);
        return true;
      }
    }
    return false;
  }

  /**
   * True only if this exact secret was verified before and its hash is still accepted: no argon2,
   * so a hot path can use it and leave everything else (and every failure) to `verify`.
   */
  isRemembered(clientId: string, presented: string, acceptedHashes: readonly string[]): boolean {
    return isPlausibleSecret(presented) && this.#remembers(clientId, sha256(presented), acceptedHashes);
  }

  #remembers(clientId: string, digest: string, acceptedHashes: readonly string[]): boolean {
    const remembered = this.#verified.get(clientId)?.get(digest);
    return remembered !== undefined && acceptedHashes.includes(remembered);
  }

  /**
   * Concurrent requests presenting the same secret share one argon2 run (the result depends on the
   * secret and the hash only): after a restart or a rotation, a busy client would otherwise start
   * one 64 MiB verification per open connection at once.
   */
  #argon2Once(digest: string, hash: string | undefined, presented: string): Promise<boolean> {
    const key = `${digest} ${hash ?? 'none'}`;
    let pending = this.#pending.get(key);
    if (!pending) {
      pending = this.gate.verify(hash, presented).finally(() => this.#pending.delete(key));
      this.#pending.set(key, pending);
    }
    return pending;
  }

  /** Drops what is remembered for a client: on rotation, disable and delete. */
  forget(clientId: string): void {
    this.#entries -= this.#verified.get(clientId)?.size ?? 0;
    this.#verified.delete(clientId);
  }

  #remember(clientId: string, digest: string, hash: string): void {
    if (this.maxEntries === 0) return;
    while (this.#entries >= this.maxEntries) {
      // Maps iterate in insertion order: the first client is the least recently added.
      const oldest = this.#verified.keys().next().value as string;
      this.forget(oldest);
    }
    const forClient = this.#verified.get(clientId) ?? new Map<string, string>();
    if (!forClient.has(digest)) this.#entries += 1;
    forClient.set(digest, hash);
    this.#verified.delete(clientId);
    this.#verified.set(clientId, forClient);
  }
}
