import { randomUUID } from 'node:crypto';
import { Argon2Gate, UNBOUNDED } from '../clients/argon2-gate.js';
import { CLIENT_ID_PATTERN } from '../clients/schema.js';
import { DEFAULT_HASH_COST, type HashCost } from '../crypto/argon2.js';
import type { Consent, Database, Prisma, User } from '../db/database.js';
import { goneAsNotFound, isDuplicate } from '../db/errors.js';
import { Conflict, NotFound } from '../domain-errors.js';
import { tokenStore, type TokenStore } from '../tokens/store/token-store.js';
import { hashPassword, verifyPassword } from './passwords.js';
import { USER_ID_PATTERN, type CreateUserInput, type UpdateUserInput } from './schema.js';

export type SignInResult = { ok: true; user: User } | { ok: false; reason: 'invalid_credentials' | 'disabled' };

export interface UserServiceHooks {
  /** Called with the ids of grants this service revoked, so caches can forget their tokens. */
  grantsRevoked?(grantIds: string[]): Promise<void> | void;
}

/** Users, their remembered consents, and the grants, sessions and tokens that must follow every change. */
export class UserService {
  readonly #tokens: TokenStore;

  constructor(
    private readonly db: Database,
    private readonly hooks: UserServiceHooks = {},
    /** What new passwords are hashed at. */
    private readonly hashCost: HashCost = DEFAULT_HASH_COST,
    /** Where passwords are verified (an unknown user's against its dummy hash of the same cost). */
    private readonly gate: Argon2Gate = new Argon2Gate(UNBOUNDED, hashCost),
  ) {
    this.#tokens = tokenStore(db);
  }

  async create(input: CreateUserInput): Promise<User> {
    await this.#assertFree(input.username, input.email);
    const data = {
      id: randomUUID(),
      username: input.username,
      email: input.email ?? null,
      passwordHash: await hashPassword(input.password, this.hashCost),
      disabled: input.disabled,
      admin: input.admin,
    };
    // skipDuplicates: a concurrent create of the same name loses with a 409, not a database error.
    const created = await this.db.prisma.user.createMany({ data, skipDuplicates: true });
    if (created.count === 0) throw new Conflict('a user with this username or email already exists', { field: 'username' });
    return this.get(data.id);
  }

  async get(id: string): Promise<User> {
    const user = USER_ID_PATTERN.test(id) ? await this.db.prisma.user.findUnique({ where: { id } }) : null;
    if (!user) throw new NotFound(`user ${id}`);
    return user;
  }

  /** A user by id or, for people typing commands, by username or email. */
  async find(idOrName: string): Promise<User> {
    if (USER_ID_PATTERN.test(idOrName)) return this.get(idOrName);
    const name = idOrName.trim().toLowerCase();
    const user = /^[\x21-\x7e]{1,254}$/.test(name) ? await this.db.prisma.user.findFirst({ where: { OR: [{ username: name }, { email: name }] } }) : null;
    if (!user) throw new NotFound(`user ${idOrName}`);
    return user;
  }

  /** The user if it exists and is enabled: whom tokens may still name. */
  async findActive(id: string): Promise<User | null> {
    if (!USER_ID_PATTERN.test(id)) return null;
    return this.db.prisma.user.findFirst({ where: { id, disabled: false } });
  }

  async list({ limit, cursor }: { limit: number; cursor?: string }) {
    const users = await this.db.prisma.user.findMany({
      where: cursor ? { id: { gt: cursor } } : {},
      orderBy: { id: 'asc' },
      take: limit + 1,
    });
    const page = users.slice(0, limit);
    return { users: page, nextCursor: users.length > limit ? page.at(-1)!.id : undefined };
  }

  /**
   * Applies a change. Disabling ends every grant, token and sign-in session of the user in the same
   * transaction; a new password ends the sign-in sessions (the browser must sign in again) but
   * leaves the applications' tokens alone.
   */
  async update(id: string, patch: UpdateUserInput): Promise<User> {
    const user = await this.get(id);
    await this.#assertFree(patch.username !== user.username ? patch.username : undefined, patch.email && patch.email !== user.email ? patch.email : undefined);
    const data: Prisma.UserUpdateInput = {
      username: patch.username,
      email: patch.email,
      disabled: patch.disabled,
      admin: patch.admin,
      passwordHash: patch.password === undefined ? undefined : await hashPassword(patch.password, this.hashCost),
    };
    const { updated, ending } = await this.db.prisma
      .$transaction(async (tx) => {
        const changed = await tx.user.update({ where: { id }, data });
        if (patch.disabled) return { updated: changed, ending: await this.#tokens.revokeByAccount(id, { tx }) };
        if (patch.password !== undefined) await this.#tokens.endSessions(id, tx);
        return { updated: changed, ending: [] };
      })
      .catch((err: unknown) => {
        if (isDuplicate(err)) throw new Conflict('a user with this username or email already exists', { field: 'username' });
        throw err;
      })
      .catch(goneAsNotFound(`user ${id}`));
    await this.hooks.grantsRevoked?.(ending);
    return updated;
  }

  /** Deletes the user, its consents, and every grant, token and session it had. */
  async remove(id: string): Promise<void> {
    await this.get(id);
    const ending = await this.db.prisma
      .$transaction(async (tx) => {
        await tx.user.delete({ where: { id } });
        return this.#tokens.revokeByAccount(id, { tx });
      })
      .catch(goneAsNotFound(`user ${id}`));
    await this.hooks.grantsRevoked?.(ending);
  }

  /**
   * The user a sign-in names, by username or e-mail address in any case, or null. A login no user
   * can have (control characters, NUL) is not looked up: PostgreSQL refuses NUL bytes.
   */
  async findByLogin(login: string): Promise<User | null> {
    const name = login.trim().toLowerCase();
    const plausible = name.length > 0 && name.length <= 254 && !/[\x00-\x1f\x7f]/.test(name);
    return plausible ? this.db.prisma.user.findFirst({ where: { OR: [{ username: name }, { email: name }] } }) : null;
  }

  /**
   * Checks the password of the user a login named (findByLogin). Every outcome costs one argon2
   * verification (no user is checked against a dummy hash), and no user and a wrong password give
   * the same answer; only someone who knows the password learns that the account is disabled.
   */
  async signIn(user: User | null, password: string): Promise<SignInResult> {
    const matched = await verifyPassword(user?.passwordHash, password, this.gate);
    if (!user || !matched) return { ok: false, reason: 'invalid_credentials' };
    if (user.disabled) return { ok: false, reason: 'disabled' };
    return { ok: true, user };
  }

  async consents(userId: string): Promise<Consent[]> {
    await this.get(userId);
    return this.db.prisma.consent.findMany({ where: { userId }, orderBy: { clientId: 'asc' } });
  }

  /** The remembered consent of a user for a client, if any. */
  findConsent(userId: string, clientId: string): Promise<Consent | null> {
    return this.db.prisma.consent.findUnique({ where: { userId_clientId: { userId, clientId } } });
  }

  /** Remembers that the user consented to `scopes` for the client, adding to what it consented to before. */
  async rememberConsent(userId: string, clientId: string, scopes: string[]): Promise<void> {
    const existing = await this.findConsent(userId, clientId);
    const merged = [...new Set([...(existing?.scopes ?? []), ...scopes])].sort();
    await this.db.prisma.consent.upsert({
      where: { userId_clientId: { userId, clientId } },
      create: { userId, clientId, scopes: merged },
      update: { scopes: merged },
    });
  }

  /**
   * Forgets the user's consent for a client and revokes the grants (and so every token) the user
   * gave that client: the next authorization asks again.
   */
  async revokeConsent(userId: string, clientId: string): Promise<void> {
    await this.get(userId);
    if (!CLIENT_ID_PATTERN.test(clientId)) throw new NotFound(`consent of user ${userId} for client ${clientId}`);
    const { forgotten, ending } = await this.db.prisma.$transaction(async (tx) => ({
      forgotten: await tx.consent.deleteMany({ where: { userId, clientId } }),
      ending: await this.#tokens.revokeByAccount(userId, { clientId, tx }),
    }));
    await this.hooks.grantsRevoked?.(ending);
    if (forgotten.count === 0 && ending.length === 0) throw new NotFound(`consent of user ${userId} for client ${clientId}`);
  }

  async #assertFree(username: string | undefined, email: string | undefined): Promise<void> {
    if (username !== undefined && (await this.db.prisma.user.count({ where: { OR: [{ username }, { email: username }] } }))) {
      throw new Conflict(`username ${username} is taken`, { field: 'username' });
    }
    if (email !== undefined && (await this.db.prisma.user.count({ where: { OR: [{ email }, { username: email }] } }))) {
      throw new Conflict(`email ${email} is taken`, { field: 'email' });
    }
  }
}
