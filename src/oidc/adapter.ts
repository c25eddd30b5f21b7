// oidc-provider's storage contract, on Prisma. Identifiers (token values, session and interaction
// ids, user codes, uids) are stored as SHA-256 hashes: a database dump yields no usable credential.
import type { Adapter, AdapterPayload } from 'oidc-provider';
import { sha256 } from '../clients/secrets.js';
import type { ClientService } from '../clients/service.js';
import type { Database, Prisma } from '../db/database.js';
import { clientMetadata } from './client-metadata.js';
import { deleteRow, findRow, upsertRow } from './token-rows.js';

export function createAdapterFactory(db: Database, clients: ClientService) {
  return (model: string): Adapter => (model === 'Client' ? new ClientAdapter(clients) : new PrismaAdapter(db, model));
}

export class PrismaAdapter implements Adapter {
  constructor(
    private readonly db: Database,
    private readonly model: string,
  ) {}

  async upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void> {
    // The identifier itself is not kept: find() puts it back from its argument.
    const { jti: _jti, ...stored } = payload;
    const data = {
      payload: stored as Prisma.InputJsonObject,
      // A grant's own row carries its id too, so revokeByGrantId ends the grant with its tokens.
      grantId: payload.grantId ?? (this.model === 'Grant' ? id : null),
      uid: payload.uid ? sha256(payload.uid) : null,
      userCode: payload.userCode ? sha256(payload.userCode) : null,
      clientId: payload.clientId ?? null,
      accountId: typeof payload.accountId === 'string' ? payload.accountId : null,
      expiresAt: expiresIn ? new Date(Date.now() + expiresIn * 1000) : null,
    };
    await upsertRow(this.db, this.model, sha256(id), data);
  }

  async find(id: string): Promise<AdapterPayload | undefined> {
    const row = await findRow(this.db, this.model, sha256(id));
    if (!row) return undefined;
    return { ...row.payload, jti: id, ...(row.consumed !== null ? { consumed: Math.floor(row.consumed) } : {}) };
  }

  async findByUid(uid: string): Promise<AdapterPayload | undefined> {
    return this.#findOne({ uid: sha256(uid) });
  }

  async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
    return this.#findOne({ userCode: sha256(userCode) });
  }

  /** Marks the entry consumed unless it already is: one conditional UPDATE, so two racing callers cannot both succeed. */
  async consume(id: string): Promise<void> {
    await this.consumeOnce(id);
  }

  /**
   * consume() that says whether this call did it: true for exactly one of any number of racing
   * callers. oidc-provider reads an entry and consumes it later, so two requests can both see it
   * unconsumed; the models that must not be used twice (codes, refresh tokens) consume with this
   * and refuse the request that loses (see refresh-rotation.ts).
   */
  async consumeOnce(id: string): Promise<boolean> {
    const { count } = await this.db.prisma.oidcPayload.updateMany({
      where: { model: this.model, id: sha256(id), consumedAt: null },
      data: { consumedAt: new Date() },
    });
    return count === 1;
  }

  /**
   * Stores the entry only if no live entry has its id, atomically: true if this call stored it.
   * Replay detection needs this; oidc-provider's own check (find, then upsert) lets two racing
   * requests with the same DPoP proof both through.
   */
  async insertIfAbsent(id: string, payload: AdapterPayload, expiresIn: number): Promise<boolean> {
    const { jti: _jti, ...stored } = payload;
    const key = { model: this.model, id: sha256(id) };
    const expiresAt = new Date(Date.now() + expiresIn * 1000);
    const inserted = await this.db.prisma.oidcPayload.createMany({
      data: [{ ...key, payload: stored as Prisma.InputJsonObject, expiresAt }],
      skipDuplicates: true,
    });
    if (inserted.count === 1) return true;
    // An expired leftover with the same id (not yet cleaned up) is taken over, again atomically.
    const taken = await this.db.prisma.oidcPayload.updateMany({
      where: { ...key, expiresAt: { lte: new Date() } },
      data: { payload: stored as Prisma.InputJsonObject, expiresAt, consumedAt: null },
    });
    return taken.count === 1;
  }

  async destroy(id: string): Promise<void> {
    await deleteRow(this.db, this.model, sha256(id));
  }

  /**
   * Deletes the entry with this uid. An entry found by uid cannot be destroyed through the
   * provider's model: its id is stored only as a hash, so findByUid cannot give it back.
   */
  async destroyByUid(uid: string): Promise<void> {
    await this.db.prisma.oidcPayload.deleteMany({ where: { model: this.model, uid: sha256(uid) } });
  }

  async revokeByGrantId(grantId: string): Promise<void> {
    await this.db.prisma.oidcPayload.deleteMany({ where: { grantId } });
  }

  async #findOne(where: Prisma.OidcPayloadWhereInput, id?: string): Promise<AdapterPayload | undefined> {
    const row = await this.db.prisma.oidcPayload.findFirst({
      where: { ...where, model: this.model, OR: [{ expiresAt: null }, { expiresAt: { gt: new Date() } }] },
    });
    if (!row) return undefined;
    const payload = row.payload as AdapterPayload;
    return {
      ...payload,
      ...(id ? { jti: id } : {}),
      ...(row.consumedAt ? { consumed: Math.floor(row.consumedAt.getTime() / 1000) } : {}),
    };
  }
}

/** Clients are owned by the client registry; the provider only reads them. */
class ClientAdapter implements Adapter {
  constructor(private readonly clients: ClientService) {}

  async find(id: string): Promise<AdapterPayload | undefined> {
    const client = await this.clients.findActive(id);
    return client ? (clientMetadata(client) as AdapterPayload) : undefined;
  }

  async upsert(): Promise<void> {
    throw new Error('clients are managed through the admin API');
  }

  async destroy(): Promise<void> {
    throw new Error('clients are managed through the admin API');
  }

  async findByUid(): Promise<undefined> {}
  async findByUserCode(): Promise<undefined> {}
  async consume(): Promise<void> {}
  async revokeByGrantId(): Promise<void> {}
}
