// Every resource server's route rules, compiled once per copy of the resource servers each
// instance keeps in memory (src/cache/caches.ts: reloaded on every instance when one changes, and
// read from the database while changes may be missed), so the gateway check matches from memory.
import { compileRule, firstMatch, storedRules, type CompiledRule, type RequestTarget, type RouteRule } from '../resource-servers/route-rules.js';

/** A resource server as the gateway check needs it. */
export interface ResourceServerRoutes {
  id: string;
  /** The `aud` its tokens carry. */
  identifier: string;
  /** Where clients reach it, when not at the scheme and host the gateway forwards (DPoP's htu). */
  publicBaseUrl: string | null;
  /** The API tells paths apart by case: rules compare paths exactly rather than case-insensitively. */
  caseSensitivePaths: boolean;
  /** Its rules as stored (checked against routeRules when written). */
  gatewayRoutes: unknown;
}

export interface GatewayResourceServer {
  id: string;
  audience: string;
  publicBaseUrl?: string;
  rules: readonly CompiledRule[];
  caseSensitivePaths: boolean;
}

/** A resource server one of whose rules matches the request: its first matching rule. */
export interface Candidate {
  server: GatewayResourceServer;
  rule: RouteRule;
}

export class RouteDirectory {
  #source: readonly ResourceServerRoutes[] | undefined;
  #compiled: readonly GatewayResourceServer[] = [];

  /** `all` gives every resource server: the same array as long as none changed. */
  constructor(private readonly all: () => Promise<readonly ResourceServerRoutes[]>) {}

  /**
   * The resource servers with a rule matching the request, each with its first matching rule;
   * throws AmbiguousTarget where the case of the path's letters would change a server's rule.
   */
  async candidates(target: RequestTarget): Promise<Candidate[]> {
    const found: Candidate[] = [];
    for (const server of this.#servers(await this.all())) {
      const rule = firstMatch(server.rules, target, { caseSensitive: server.caseSensitivePaths });
      if (rule) found.push({ server, rule });
    }
    return found;
  }

  #servers(source: readonly ResourceServerRoutes[]): readonly GatewayResourceServer[] {
    if (source === this.#source) return this.#compiled;
    const compiled = source.map((server) => ({
      id: server.id,
      audience: server.identifier,
      publicBaseUrl: server.publicBaseUrl ?? undefined,
      rules: storedRules(server.gatewayRoutes).map((rule) => compileRule(rule)),
      caseSensitivePaths: server.caseSensitivePaths,
    }));
    this.#source = source;
    this.#compiled = compiled;
    return compiled;
  }
}
