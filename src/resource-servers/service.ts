import { randomUUID } from 'node:crypto';
import type { Database, Prisma, ResourceServer } from '../db/database.js';
import { goneAsNotFound, isDuplicate } from '../db/errors.js';
import { Conflict, InvalidInput, NotFound } from '../domain-errors.js';
import { storedRules, type RouteRule } from './route-rules.js';
import { namesIssuer, RESOURCE_SERVER_ID_PATTERN, type CreateResourceServerInput, type UpdateResourceServerInput } from './schema.js';

/** What ResourceServerService needs from a cache: every resource server, read through, and change announcements. */
export interface ResourceServerCacheHooks {
  allResourceServers(load: () => Promise<ResourceServer[]>): Promise<ResourceServer[]>;
  /** A resource server was created, changed or is gone. */
  resourceServerChanged(id: string): Promise<void>;
  /** Clients whose link to a resource server was cut (it was deleted). */
  clientsChanged(ids: readonly string[]): Promise<void>;
}

const identifierTaken = (identifier: string) => new Conflict(`a resource server with identifier ${identifier} already exists`, { field: 'identifier' });

/**
 * Resource servers (the APIs tokens are issued for). They are few and read on every token request
 * that names one, so every instance keeps them all in memory, told of each change.
 */
export class ResourceServerService {
  constructor(
    private readonly db: Database,
    /** The issuer (ISSUER): no resource server may be it. */
    private readonly issuer: string,
    private readonly cache?: ResourceServerCacheHooks,
  ) {}

  async create(input: CreateResourceServerInput): Promise<ResourceServer> {
    this.#refuseIssuer(input.identifier);
    const id = randomUUID();
    // skipDuplicates: a taken identifier (concurrent creates included) is a 409, not a database error.
    const created = await this.db.prisma.resourceServer.createMany({
      data: {
        id,
        identifier: input.identifier,
        name: input.name,
        scopes: input.scopes,
        accessTokenFormat: input.access_token_format,
        accessTokenTtl: input.access_token_ttl ?? null,
        signingAlg: input.signing_alg,
        dpopRequired: input.dpop_required,
        publicBaseUrl: input.public_base_url ?? null,
        caseSensitivePaths: input.case_sensitive_paths,
      },
      skipDuplicates: true,
    });
    if (created.count === 0) throw identifierTaken(input.identifier);
    await this.cache?.resourceServerChanged(id);
    return this.get(id);
  }

  async get(id: string): Promise<ResourceServer> {
    const server = RESOURCE_SERVER_ID_PATTERN.test(id) ? await this.db.prisma.resourceServer.findUnique({ where: { id } }) : null;
    if (!server) throw new NotFound(`resource server ${id}`);
    return server;
  }

  /** A page in id order; `next_cursor` is set when more follow. */
  async list({ limit, cursor }: { limit: number; cursor?: string }) {
    const servers = await this.db.prisma.resourceServer.findMany({ where: cursor ? { id: { gt: cursor } } : {}, orderBy: { id: 'asc' }, take: limit + 1 });
    const page = servers.slice(0, limit);
    return { resourceServers: page, nextCursor: servers.length > limit ? page.at(-1)!.id : undefined };
  }

  /** Every resource server, from this instance's copy when it is current. */
  all(): Promise<ResourceServer[]> {
    const load = () => this.db.prisma.resourceServer.findMany({ orderBy: { id: 'asc' } });
    return this.cache ? this.cache.allResourceServers(load) : load();
  }

  /** The resource server a `resource` parameter (RFC 8707) or a token's `aud` names, if any. */
  async findByIdentifier(identifier: string): Promise<ResourceServer | undefined> {
    return (await this.all()).find((server) => server.identifier === identifier);
  }

  /** The identifier of the resource server with this id (a client's link), if it exists. */
  async identifierOf(id: string | null | undefined): Promise<string | undefined> {
    return id ? (await this.all()).find((server) => server.id === id)?.identifier : undefined;
  }

  async update(id: string, patch: UpdateResourceServerInput): Promise<ResourceServer> {
    if (patch.identifier !== undefined) this.#refuseIssuer(patch.identifier);
    const server = await this.get(id);
    if (
      patch.identifier !== undefined &&
      patch.identifier !== server.identifier &&
      (await this.db.prisma.resourceServer.count({ where: { identifier: patch.identifier } }))
    ) {
      throw identifierTaken(patch.identifier);
    }
    const data: Prisma.ResourceServerUpdateInput = {
      identifier: patch.identifier,
      name: patch.name,
      scopes: patch.scopes,
      accessTokenFormat: patch.access_token_format,
      accessTokenTtl: patch.access_token_ttl,
      signingAlg: patch.signing_alg,
      dpopRequired: patch.dpop_required,
      publicBaseUrl: patch.public_base_url,
      caseSensitivePaths: patch.case_sensitive_paths,
    };
    const updated = await this.db.prisma.resourceServer
      .update({ where: { id }, data })
      .catch((err: unknown) => {
        // A concurrent change took the identifier between the check and the update.
        if (isDuplicate(err)) throw identifierTaken(patch.identifier!);
        throw err;
      })
      .catch(goneAsNotFound(`resource server ${id}`));
    await this.cache?.resourceServerChanged(id);
    return updated;
  }

  /** Its gateway route rules (docs/gateway.md). */
  async routes(id: string): Promise<RouteRule[]> {
    return storedRules((await this.get(id)).gatewayRoutes);
  }

  /** Replaces its gateway route rules; every instance's gateway check follows the change. */
  async setRoutes(id: string, routes: RouteRule[]): Promise<RouteRule[]> {
    const { count } = RESOURCE_SERVER_ID_PATTERN.test(id)
      ? await this.db.prisma.resourceServer.updateMany({ where: { id }, data: { gatewayRoutes: routes } })
      : { count: 0 };
    if (!count) throw new NotFound(`resource server ${id}`);
    await this.cache?.resourceServerChanged(id);
    return routes;
  }

  /** Deletes it; clients linked to it lose the link (in the same transaction). */
  async remove(id: string): Promise<void> {
    await this.get(id);
    const unlinked = await this.db.prisma
      .$transaction(async (tx) => {
        const linked = await tx.client.findMany({ where: { resourceServerId: id }, select: { id: true } });
        await tx.client.updateMany({ where: { resourceServerId: id }, data: { resourceServerId: null } });
        await tx.resourceServer.delete({ where: { id } });
        return linked.map((client) => client.id);
      })
      .catch(goneAsNotFound(`resource server ${id}`));
    await this.cache?.resourceServerChanged(id);
    if (unlinked.length) await this.cache?.clientsChanged(unlinked);
  }

  #refuseIssuer(identifier: string): void {
    if (namesIssuer(identifier, this.issuer))
      throw new InvalidInput(`identifier must not be the issuer (${this.issuer}): its own tokens carry it as their aud`, { field: 'identifier' });
  }
}
