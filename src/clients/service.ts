import type { ClientCacheHooks } from '../cache/caches.js';
import type { Database, Client, Prisma } from '../db/database.js';
import { goneAsNotFound, isReferenceGone } from '../db/errors.js';
import { Conflict, InvalidInput, NotFound } from '../domain-errors.js';
import { tokenStore, type TokenStore } from '../tokens/store/token-store.js';
import { CLIENT_ID_PATTERN, clientShapeProblem, type CreateClientInput, type UpdateClientInput } from './schema.js';
import { generateClientId, type SecretVerifier } from './secrets.js';
import { randomSecret } from '../crypto/random.js';

/**
 * The web console's own sign-in client: created at every start (src/console/client.ts), and
 * neither changed nor deleted by anyone, since without it no administrator could sign in.
 */
export const CONSOLE_CLIENT_ID = 'tollgate-console';

function refuseBuiltIn(id: string, what: string): void {
  if (id === CONSOLE_CLIENT_ID) throw new Conflict(`client ${id} is the web console's built-in client and cannot be ${what}`, { field: 'client_id' });
}

const noResourceServer = (id: string) => new InvalidInput(`resource_server_id: no resource server ${id}`, { field: 'resource_server_id' });

/** A resource server deleted by another request after #linkable found it is none to link to, as a moment later. */
function unlinkableAsInvalid(resourceServerId: string | null | undefined) {
  return (err: unknown): never => {
    throw resourceServerId && isReferenceGone(err) ? noResourceServer(resourceServerId) : err;
  };
}

/** Clients, with the secrets shown once and the caches and tokens that must follow every change. */
export class ClientService {
  readonly #tokens: TokenStore;

  constructor(
    private readonly db: Database,
    private readonly secrets: SecretVerifier,
    /** Read-through cache for findActive; told of every change, which this instance applies before answering. */
    private readonly cache?: ClientCacheHooks,
  ) {
    this.#tokens = tokenStore(db);
  }

  /** A public client (token_endpoint_auth_method none) gets no secret. */
  async create(input: CreateClientInput): Promise<{ client: Client; secret?: string }> {
    const secret = input.token_endpoint_auth_method === 'none' ? undefined : randomSecret();
    const id = input.client_id ?? generateClientId();
    const data = {
      id,
      name: input.client_name,
      secretHash: secret === undefined ? null : await this.secrets.hash(secret),
      grantTypes: input.grant_types,
      scopes: input.scope,
      defaultScopes: input.default_scope ?? input.scope,
      redirectUris: input.redirect_uris,
      tokenEndpointAuthMethod: input.token_endpoint_auth_method,
      accessTokenTtl: input.access_token_ttl ?? null,
      resourceServer: input.resource_server,
      resourceServerId: await this.#linkable(input.resource_server_id),
      refreshTokenIdleTtl: input.refresh_token_idle_ttl ?? null,
      refreshTokenAbsoluteTtl: input.refresh_token_absolute_ttl ?? null,
      refreshTokenReuseGrace: input.refresh_token_reuse_grace ?? null,
      dpopBoundAccessTokens: input.dpop_bound_access_tokens,
    };
    const created = await this.db.prisma.client.createMany({ data, skipDuplicates: true }).catch(unlinkableAsInvalid(data.resourceServerId));
    if (created.count === 0) throw new Conflict(`client ${id} already exists`, { field: 'client_id' });
    return { client: await this.get(id), secret };
  }

  /**
   * Creates a built-in client (the bootstrap admin client with a known secret, the console's public
   * client without one) unless it exists. An existing one gets the given redirect URIs, which
   * follow ISSUER from one start to the next.
   */
  async ensure(
    input: Pick<
      CreateClientInput,
      'client_name' | 'grant_types' | 'scope' | 'default_scope' | 'redirect_uris' | 'token_endpoint_auth_method' | 'resource_server'
    > & { client_id: string },
    secret: string | undefined,
  ): Promise<boolean> {
    const created = await this.db.prisma.client.createMany({
      data: {
        id: input.client_id,
        name: input.client_name,
        secretHash: secret === undefined ? null : await this.secrets.hash(secret),
        grantTypes: input.grant_types,
        scopes: input.scope,
        defaultScopes: input.default_scope ?? input.scope,
        redirectUris: input.redirect_uris,
        tokenEndpointAuthMethod: input.token_endpoint_auth_method,
      },
      skipDuplicates: true,
    });
    if (created.count === 1) return true;
    const moved = await this.db.prisma.client.updateMany({
      where: { id: input.client_id, NOT: { redirectUris: { equals: input.redirect_uris } } },
      data: { redirectUris: input.redirect_uris },
    });
    if (moved.count) await this.cache?.changed(input.client_id);
    return false;
  }

  async get(id: string): Promise<Client> {
    // An id no client can have is not looked up: PostgreSQL rejects some (NUL bytes) with an error.
    const client = CLIENT_ID_PATTERN.test(id) ? await this.db.prisma.client.findUnique({ where: { id } }) : null;
    if (!client) throw new NotFound(`client ${id}`);
    return client;
  }

  /** The client if it exists and is enabled: what token endpoints may trust. */
  async findActive(id: string): Promise<Client | null> {
    if (!CLIENT_ID_PATTERN.test(id)) return null;
    const load = () => this.db.prisma.client.findFirst({ where: { id, disabled: false } });
    return this.cache ? this.cache.findActive(id, load) : load();
  }

  /** A page in client-id order; `next_cursor` is set when more follow. */
  async list({ limit, cursor }: { limit: number; cursor?: string }) {
    const clients = await this.db.prisma.client.findMany({
      where: cursor ? { id: { gt: cursor } } : {},
      orderBy: { id: 'asc' },
      take: limit + 1,
    });
    const page = clients.slice(0, limit);
    return { clients: page, nextCursor: clients.length > limit ? page.at(-1)!.id : undefined };
  }

  async update(id: string, patch: UpdateClientInput): Promise<Client> {
    const client = await this.get(id);
    refuseBuiltIn(id, 'changed');
    const scopes = patch.scope ?? client.scopes;
    const defaultScopes = patch.default_scope ?? client.defaultScopes.filter((s) => scopes.includes(s));
    if (!defaultScopes.every((s) => scopes.includes(s))) {
      throw new Conflict('default_scope must be a subset of scope', { field: 'default_scope' });
    }
    const method = patch.token_endpoint_auth_method ?? client.tokenEndpointAuthMethod;
    if ((method === 'none') !== (client.tokenEndpointAuthMethod === 'none')) {
      throw new Conflict('a client cannot change between public (none) and confidential: register a new client', { field: 'token_endpoint_auth_method' });
    }
    const problem = clientShapeProblem({
      grant_types: patch.grant_types ?? client.grantTypes,
      redirect_uris: patch.redirect_uris ?? client.redirectUris,
      token_endpoint_auth_method: method,
      resource_server: patch.resource_server ?? client.resourceServer,
      resource_server_id: patch.resource_server_id === undefined ? client.resourceServerId : patch.resource_server_id,
    });
    if (problem) throw new InvalidInput(`${problem.field}: ${problem.message}`, { field: problem.field });
    const resourceServerId = patch.resource_server_id === undefined ? undefined : await this.#linkable(patch.resource_server_id);
    const data: Prisma.ClientUncheckedUpdateInput = {
      name: patch.client_name,
      grantTypes: patch.grant_types,
      scopes: patch.scope,
      defaultScopes,
      redirectUris: patch.redirect_uris,
      tokenEndpointAuthMethod: patch.token_endpoint_auth_method,
      accessTokenTtl: patch.access_token_ttl,
      resourceServer: patch.resource_server,
      resourceServerId,
      refreshTokenIdleTtl: patch.refresh_token_idle_ttl,
      refreshTokenAbsoluteTtl: patch.refresh_token_absolute_ttl,
      refreshTokenReuseGrace: patch.refresh_token_reuse_grace,
      dpopBoundAccessTokens: patch.dpop_bound_access_tokens,
      disabled: patch.disabled,
    };
    // Disabling a client ends its tokens in the same transaction, so none outlives the change.
    const updated = await this.db.prisma
      .$transaction(async (tx) => {
        const changed = await tx.client.update({ where: { id }, data });
        if (patch.disabled) await this.#tokens.revokeByClient(id, tx);
        return changed;
      })
      .catch(unlinkableAsInvalid(resourceServerId))
      .catch(goneAsNotFound(`client ${id}`));
    this.secrets.forget(id);
    await this.cache?.changed(id);
    return updated;
  }

  async remove(id: string): Promise<void> {
    await this.get(id);
    refuseBuiltIn(id, 'deleted');
    await this.db.prisma
      .$transaction(async (tx) => {
        await this.#tokens.revokeByClient(id, tx);
        await tx.client.delete({ where: { id } });
      })
      .catch(goneAsNotFound(`client ${id}`));
    this.secrets.forget(id);
    await this.cache?.changed(id);
  }

  /** The resource server id a client may be linked to: one that exists (null: no link). */
  async #linkable(id: string | null | undefined): Promise<string | null> {
    if (!id) return null;
    if (!(await this.db.prisma.resourceServer.count({ where: { id } }))) throw noResourceServer(id);
    return id;
  }

  /** Issues a new secret; the old one keeps working for `overlapSeconds` (0: not at all). */
  async rotateSecret(id: string, overlapSeconds: number): Promise<{ client: Client; secret: string }> {
    const client = await this.get(id);
    if (client.tokenEndpointAuthMethod === 'none')
      throw new Conflict('a public client (token_endpoint_auth_method none) has no secret', { field: 'token_endpoint_auth_method' });
    const secret = randomSecret();
    const updated = await this.db.prisma.client
      .update({
        where: { id },
        data: {
          secretHash: await this.secrets.hash(secret),
          previousSecretHash: overlapSeconds > 0 ? client.secretHash : null,
          previousSecretExpiresAt: overlapSeconds > 0 ? new Date(Date.now() + overlapSeconds * 1000) : null,
        },
      })
      .catch(goneAsNotFound(`client ${id}`));
    this.secrets.forget(id);
    await this.cache?.changed(id);
    return { client: updated, secret };
  }
}
