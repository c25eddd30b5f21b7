// The provider's keys in the database, and every change of their phases. A signing key (one per
// algorithm) and a cookie key go `next` (published, not signing) → `current` (signing) →
// `previous` (still verifying, until what it signed has expired) → removed. Every change runs in
// one transaction under an advisory lock, so instances that start, rotate or promote at the same
// moment make it once.
import { randomUUID } from 'node:crypto';
import type { JWK } from 'oidc-provider';
import { INTERACTION_TTL, MAX_ACCESS_TOKEN_TTL, type Config } from '../config/config.js';
import type { Database, Prisma, ProviderKey } from '../db/database.js';
import { Conflict } from '../domain-errors.js';
import { randomSecret } from '../crypto/random.js';
import { generateSigningKey, SIGNING_ALGS, type SigningAlg } from '../crypto/signing-keys.js';
import { seal, unseal } from './encryption.js';
import { derivedSecret, dpopNonceSecret, type ProviderKeys, readKeysFile } from './keys-file.js';

export type KeyState = 'next' | 'current' | 'previous';
export type KeyKind = 'signing' | 'cookie' | 'secret';

/** The instance-wide secrets: made once, never rotated (a DPoP nonce lives seconds, a CSRF token one form). */
export const SECRETS = ['dpop_nonce', 'csrf'] as const;
export type SecretName = (typeof SECRETS)[number];

/** How long a signing key stays published after it stops signing: the longest-lived token it signed, and a minute for clocks. */
export const SIGNING_RETENTION_SECONDS = MAX_ACCESS_TOKEN_TTL + 60;

export interface KeySettings {
  /** How long a new key is published before it signs (JWKS_CACHE_SECONDS). */
  jwksCacheSeconds: number;
  /** KEY_ROTATION_DAYS: 0 for manual rotations only. */
  rotationDays: number;
  /** How long a cookie key verifies after it stops signing: a sign-in session's lifetime, and at least a sign-in page's. */
  cookieRetentionSeconds: number;
}

/** The settings of the key phases, from the configuration. */
export function keySettings(config: Pick<Config, 'keys' | 'sessionTtl'>): KeySettings {
  // The provider's interaction cookies are signed with the cookie keys too, and live INTERACTION_TTL, whatever SESSION_TTL.
  const cookieRetentionSeconds = Math.max(config.sessionTtl, INTERACTION_TTL);
  return { jwksCacheSeconds: config.keys.jwksCacheSeconds, rotationDays: config.keys.rotationDays, cookieRetentionSeconds };
}

export interface SigningKey {
  kid: string;
  alg: SigningAlg;
  state: KeyState;
  /** The private JWK, for the provider's keystore. */
  jwk: JWK;
}

/** Everything the running provider needs, decrypted. */
export interface KeySet {
  signing: SigningKey[];
  /** Cookie keys: the current one first (it signs), then next and previous (they verify). */
  cookieKeys: string[];
  secrets: Record<SecretName, Buffer>;
  /** When the next scheduled change (a promotion, a removal) is due, if any. */
  nextChangeAt?: Date;
}

/** A key as the admin API and CLI list it: never any private material. */
export interface KeyView {
  kid: string;
  kind: 'signing' | 'cookie';
  alg: string | null;
  use: 'sig' | null;
  state: KeyState;
  created_at: string;
  activates_at: string | null;
  retired_at: string | null;
  expires_at: string | null;
}

type Tx = Prisma.TransactionClient;

/** The row's identity, bound into its ciphertext: a sealed value moved to another row does not open. */
const sealContext = (row: { id: string; kind: string }) => `tollgate provider key ${row.kind} ${row.id}`;

/** Runs `work` in a transaction holding the keys' advisory lock (released at commit or rollback). */
async function locked<T>(db: Database, work: (tx: Tx) => Promise<T>): Promise<T> {
  return db.prisma.$transaction(
    async (tx) => {
      await tx.$queryRaw`SELECT pg_advisory_xact_lock(hashtext('tollgate provider keys'))::text`;
      return work(tx);
    },
    { timeout: 15_000 },
  );
}

interface NewRow {
  id: string;
  kind: KeyKind;
  alg?: SigningAlg;
  state: KeyState;
  publicJwk?: JWK;
  secret: string;
  activatesAt?: Date;
  retiredAt?: Date;
  expiresAt?: Date;
}

function sealed(kek: Buffer, now: Date, row: NewRow): Prisma.ProviderKeyCreateManyInput {
  const { secret, publicJwk, ...rest } = row;
  return { ...rest, publicJwk: publicJwk as Prisma.InputJsonValue | undefined, sealed: seal(kek, sealContext(row), secret), createdAt: now };
}

export function publicPart(jwk: JWK): JWK {
  const { d, p, q, dp, dq, qi, ...pub } = jwk as JWK & Record<string, unknown>;
  void [d, p, q, dp, dq, qi];
  return pub as JWK;
}

const signingRow = (jwk: JWK, state: KeyState, extra: Partial<NewRow> = {}): NewRow => ({
  id: jwk.kid!,
  kind: 'signing',
  alg: jwk.alg as SigningAlg,
  state,
  publicJwk: publicPart(jwk),
  secret: JSON.stringify(jwk),
  ...extra,
});

const cookieRow = (value: string, state: KeyState, extra: Partial<NewRow> = {}): NewRow => ({
  id: randomUUID(),
  kind: 'cookie',
  state,
  secret: value,
  ...extra,
});

/** What a first start is missing: a current signing key of an algorithm, a current cookie key, a secret. */
function missing(rows: { id: string; kind: string; alg?: string | null; state: string }[]) {
  const current = rows.filter((row) => row.state === 'current');
  return {
    algs: SIGNING_ALGS.filter((alg) => !current.some((row) => row.kind === 'signing' && row.alg === alg)),
    cookie: !current.some((row) => row.kind === 'cookie'),
    secrets: SECRETS.filter((name) => !rows.some((row) => row.kind === 'secret' && row.id === name)),
  };
}

export interface EnsureResult {
  /** keys.json imported by this start: its path. */
  importedFrom?: string;
  /** Keys this start generated (algorithms, 'cookie', secret names). */
  generated: string[];
}

/**
 * Makes sure the database holds a current key of every kind. On the first start after the upgrade
 * from keys.json, its keys are imported (once, whichever instance gets there first; the file is
 * left in place and not read again); anything still missing is generated.
 */
export async function ensureKeys(db: Database, kek: Buffer, dataDir: string, now: Date): Promise<EnsureResult> {
  const stored = await db.prisma.providerKey.findMany({ select: { id: true, kind: true, alg: true, state: true } });
  const before = missing(stored);
  if (!before.algs.length && !before.cookie && !before.secrets.length) return { generated: [] };
  const file = await readKeysFile(dataDir);
  // Generated before the transaction (an RSA key takes a while), for what neither the database nor
  // a keys.json about to be imported holds; used only for what is still missing inside it.
  const algs = stored.length === 0 && file ? missing(importRows(file.keys)).algs : before.algs;
  const fresh = new Map(algs.map((alg) => [alg, generateSigningKey(alg)]));
  return locked(db, async (tx) => {
    const rows = await tx.providerKey.findMany({ select: { id: true, kind: true, alg: true, state: true } });
    const imported = rows.length === 0 && file ? importRows(file.keys) : [];
    const need = missing([...rows, ...imported]);
    const generated: NewRow[] = [
      ...need.algs.map((alg) => signingRow(fresh.get(alg) ?? generateSigningKey(alg), 'current', { activatesAt: now })),
      ...(need.cookie ? [cookieRow(randomSecret(), 'current', { activatesAt: now })] : []),
      ...need.secrets.map((name): NewRow => ({ id: name, kind: 'secret', state: 'current', secret: randomSecret() })),
    ];
    const all = [...imported.map((row) => ({ ...row, activatesAt: row.activatesAt ?? now })), ...generated];
    if (all.length) await tx.providerKey.createMany({ data: all.map((row) => sealed(kek, now, row)) });
    return {
      importedFrom: imported.length ? file!.path : undefined,
      generated: [...need.algs, ...(need.cookie ? ['cookie'] : []), ...need.secrets],
    };
  });
}

/**
 * keys.json's keys as rows: its first key of each algorithm and first cookie key are current, any
 * others verify as previous; the DPoP nonce and CSRF secrets are those earlier versions used.
 */
function importRows(keys: ProviderKeys): NewRow[] {
  const rows: NewRow[] = [];
  for (const jwk of keys.jwks.keys) {
    if (!SIGNING_ALGS.includes(jwk.alg as SigningAlg) || !jwk.kid) continue;
    const first = !rows.some((row) => row.alg === jwk.alg);
    rows.push(signingRow(jwk, first ? 'current' : 'previous'));
  }
  for (const [i, value] of keys.cookieKeys.entries()) rows.push(cookieRow(value, i === 0 ? 'current' : 'previous'));
  rows.push({ id: 'dpop_nonce', kind: 'secret', state: 'current', secret: dpopNonceSecret(keys).toString('base64url') });
  rows.push({ id: 'csrf', kind: 'secret', state: 'current', secret: derivedSecret(keys, 'tollgate csrf').toString('base64url') });
  return rows;
}

/** Reads and decrypts every key; WrongKeyEncryptionKeyError when `kek` is not the one they were sealed with. */
export async function loadKeys(db: Database, kek: Buffer): Promise<KeySet> {
  const rows = await db.prisma.providerKey.findMany({ orderBy: [{ createdAt: 'desc' }, { id: 'asc' }] });
  const open = (row: ProviderKey) => unseal(kek, sealContext(row), row.sealed);
  const order: Record<string, number> = { current: 0, next: 1, previous: 2 };
  const byPhase = (a: ProviderKey, b: ProviderKey) => order[a.state]! - order[b.state]!;
  const secrets = Object.fromEntries(
    SECRETS.map((name) => {
      const row = rows.find((r) => r.kind === 'secret' && r.id === name);
      if (!row) throw new Error(`the ${name} secret is missing from the database`);
      return [name, Buffer.from(open(row), 'base64url')];
    }),
  ) as Record<SecretName, Buffer>;
  const due = rows
    .flatMap((row) => (row.state === 'next' ? [row.activatesAt] : row.state === 'previous' ? [row.expiresAt] : []))
    .filter((d): d is Date => d !== null);
  return {
    signing: rows
      .filter((row) => row.kind === 'signing')
      .sort(byPhase)
      .map((row) => ({ kid: row.id, alg: row.alg as SigningAlg, state: row.state as KeyState, jwk: JSON.parse(open(row)) as JWK })),
    cookieKeys: rows
      .filter((row) => row.kind === 'cookie')
      .sort(byPhase)
      .map(open),
    secrets,
    nextChangeAt: due.length ? new Date(Math.min(...due.map((d) => d.getTime()))) : undefined,
  };
}

/** Every signing and cookie key, newest first, without private material. */
export async function listKeys(db: Database): Promise<KeyView[]> {
  const rows = await db.prisma.providerKey.findMany({
    where: { kind: { in: ['signing', 'cookie'] } },
    orderBy: [{ createdAt: 'desc' }, { kind: 'desc' }, { alg: 'asc' }],
  });
  const iso = (date: Date | null) => date?.toISOString() ?? null;
  return rows.map((row) => ({
    kid: row.id,
    kind: row.kind as KeyView['kind'],
    alg: row.alg,
    use: row.kind === 'signing' ? 'sig' : null,
    state: row.state as KeyState,
    created_at: row.createdAt.toISOString(),
    activates_at: iso(row.activatesAt),
    retired_at: iso(row.retiredAt),
    expires_at: iso(row.expiresAt),
  }));
}

/** An earlier rotation's keys are still `next`: one rotation at a time. */
export class RotationInProgress extends Conflict {
  constructor(activatesAt: Date | null, pendingKid: string) {
    super(`a rotation is in progress: its keys sign from ${activatesAt?.toISOString()}`, { detail: { pendingKid } });
  }
}

/**
 * Starts a rotation: a new signing key per algorithm and a new cookie key, `next` until
 * `jwksCacheSeconds` from now. RotationInProgress while an earlier rotation's keys are still `next`.
 */
export async function rotateKeys(db: Database, kek: Buffer, now: Date, settings: Pick<KeySettings, 'jwksCacheSeconds'>): Promise<KeyView[]> {
  const activatesAt = new Date(now.getTime() + settings.jwksCacheSeconds * 1000);
  const rows = [...SIGNING_ALGS.map((alg) => signingRow(generateSigningKey(alg), 'next', { activatesAt })), cookieRow(randomSecret(), 'next', { activatesAt })];
  await locked(db, async (tx) => {
    const pending = await tx.providerKey.findFirst({ where: { state: 'next' } });
    if (pending) throw new RotationInProgress(pending.activatesAt, pending.id);
    await tx.providerKey.createMany({ data: rows.map((row) => sealed(kek, now, row)) });
  });
  const ids = new Set(rows.map((row) => row.id));
  return (await listKeys(db)).filter((view) => ids.has(view.kid));
}

/**
 * Whether a scheduled rotation is due: KEY_ROTATION_DAYS after the current keys began signing,
 * less the time the new keys are published first, and none under way.
 */
export async function scheduledRotationDue(db: Database, now: Date, settings: KeySettings): Promise<boolean> {
  if (settings.rotationDays === 0) return false;
  if (await db.prisma.providerKey.findFirst({ where: { state: 'next' } })) return false;
  const newest = await db.prisma.providerKey.findFirst({ where: { kind: 'signing', state: 'current' }, orderBy: { activatesAt: 'desc' } });
  const since = newest?.activatesAt ?? newest?.createdAt;
  if (!since) return false;
  return since.getTime() + settings.rotationDays * 86_400_000 - settings.jwksCacheSeconds * 1000 <= now.getTime();
}

/**
 * Applies the phase changes due at `now`: a `next` key whose time has come signs, the key it
 * replaces becomes `previous`, and a `previous` key past its expiry goes. True if anything changed.
 */
export async function advanceKeys(db: Database, now: Date, settings: Pick<KeySettings, 'cookieRetentionSeconds'>): Promise<boolean> {
  // Most calls find nothing due: that is one read, without a lock.
  const due = await db.prisma.providerKey.count({
    where: {
      OR: [
        { state: 'next', activatesAt: { lte: now } },
        { state: 'previous', expiresAt: { lte: now } },
      ],
    },
  });
  if (!due) return false;
  return locked(db, async (tx) => {
    let changed = false;
    const promoted = await tx.providerKey.findMany({ where: { state: 'next', activatesAt: { lte: now } } });
    for (const key of promoted) {
      const retention = key.kind === 'signing' ? SIGNING_RETENTION_SECONDS : settings.cookieRetentionSeconds;
      await tx.providerKey.updateMany({
        where: { kind: key.kind, alg: key.alg, state: 'current' },
        data: { state: 'previous', retiredAt: now, expiresAt: new Date(now.getTime() + retention * 1000) },
      });
      await tx.providerKey.update({ where: { id: key.id }, data: { state: 'current' } });
      changed = true;
    }
    const removed = await tx.providerKey.deleteMany({ where: { state: 'previous', expiresAt: { lte: now } } });
    return changed || removed.count > 0;
  });
}
