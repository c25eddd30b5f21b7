import { describe, expect, it } from 'vitest';
import { MAX_ACCESS_TOKEN_TTL } from '../../src/config/config.js';
import {
  accessTokenLifetime,
  grantResourceScope,
  grantScope,
  mayAuthenticateWith,
  mayIntrospect,
  mayRevoke,
  mayUseIntrospection,
  missesRequiredDpop,
  resourceTokenLifetime,
  revocationEndsGrant,
  targetResource,
  namesResourceServer,
  tokenInForce,
} from '../../src/tokens/policy.js';
import { namesIssuer } from '../../src/resource-servers/schema.js';

const client = { id: 'svc', scopes: ['read', 'write'], defaultScopes: ['read'], tokenEndpointAuthMethod: 'client_secret_basic', resourceServer: false };

describe('client authentication', () => {
  it('accepts the registered method only', () => {
    expect(mayAuthenticateWith(client, 'client_secret_basic')).toBe(true);
    expect(mayAuthenticateWith(client, 'client_secret_post')).toBe(false);
    expect(mayAuthenticateWith({ tokenEndpointAuthMethod: 'client_secret_post' }, 'client_secret_basic')).toBe(false);
  });
});

describe('scope grant', () => {
  it('grants the default scopes when none is asked for, and none when there are none', () => {
    expect(grantScope(client, undefined)).toEqual({ granted: 'read' });
    expect(grantScope({ scopes: ['read'], defaultScopes: [] }, undefined)).toEqual({ granted: undefined });
  });

  it('grants exactly the requested scopes on the allow-list, each once, in the order asked', () => {
    expect(grantScope(client, 'write read')).toEqual({ granted: 'write read' });
    expect(grantScope(client, 'read read')).toEqual({ granted: 'read' });
  });

  it('refuses the first scope off the allow-list, naming it', () => {
    expect(grantScope(client, 'read admin write')).toEqual({ refused: 'admin', description: 'requested scope is not allowed for this client' });
    expect(grantScope({ scopes: [], defaultScopes: [] }, 'read')).toMatchObject({ refused: 'read' });
  });

  it('refuses what is not RFC 6749 scope syntax without echoing it', () => {
    for (const bad of ['', ' read', 'read  write', 'a"b', 'x\\y', 'caf\u00e9', 'a\u0000b', ['read'], 42]) {
      expect(grantScope(client, bad), JSON.stringify(bad)).toEqual({ refused: undefined, description: 'scope contains invalid characters' });
    }
  });

  it('allows protocol scopes only where they are passed in', () => {
    expect(grantScope(client, 'openid read')).toMatchObject({ refused: 'openid' });
    expect(grantScope(client, 'openid read', new Set(['openid']))).toEqual({ granted: 'openid read' });
  });
});

describe('what a live token confers now', () => {
  const ISSUER = 'https://auth.example';
  const API = 'https://api.example';
  const resources = { issuer: ISSUER, servers: [{ identifier: API, scopes: ['read'] }] };

  it('keeps only the granted scopes the client may still be granted, protocol scopes aside', () => {
    expect(tokenInForce({ clientId: 'svc', audience: ISSUER, scope: 'read admin write' }, client, resources)).toEqual({ scopes: ['read', 'write'] });
    expect(tokenInForce({ clientId: 'svc', audience: ISSUER, scope: 'openid read offline_access' }, { scopes: [] }, resources)).toEqual({
      scopes: ['openid', 'offline_access'],
    });
    expect(tokenInForce({ clientId: 'svc', audience: ISSUER }, client, resources)).toEqual({ scopes: [] });
  });

  it("keeps for a resource server's token only the scopes that server still defines", () => {
    expect(tokenInForce({ clientId: 'svc', audience: [API], scope: 'read write' }, client, resources)).toEqual({ scopes: ['read'] });
    expect(tokenInForce({ clientId: 'svc', audience: API, scope: 'write' }, client, resources)).toEqual({ scopes: [] });
  });

  it('confers nothing once the client is gone or the token is for a resource server that is no more', () => {
    expect(tokenInForce({ clientId: 'svc', audience: ISSUER, scope: 'read' }, undefined, resources)).toBeUndefined();
    expect(tokenInForce({ clientId: 'svc', audience: 'https://gone.example', scope: 'read' }, client, resources)).toBeUndefined();
    expect(tokenInForce({ clientId: 'svc', audience: [API, 'https://gone.example'], scope: 'read' }, client, resources)).toBeUndefined();
  });

  it('needs the resource servers only for a token with an audience besides the issuer', () => {
    expect(namesResourceServer({ clientId: 'svc', audience: ISSUER }, ISSUER)).toBe(false);
    expect(namesResourceServer({ clientId: 'svc', audience: [ISSUER] }, ISSUER)).toBe(false);
    expect(namesResourceServer({ clientId: 'svc' }, ISSUER)).toBe(false);
    expect(namesResourceServer({ clientId: 'svc', audience: API }, ISSUER)).toBe(true);
    expect(namesResourceServer({ clientId: 'svc', audience: [ISSUER, API] }, ISSUER)).toBe(true);
    // What tokenInForce decides for such a token does not depend on the servers it is given.
    expect(tokenInForce({ clientId: 'svc', audience: ISSUER, scope: 'read' }, client, { issuer: ISSUER, servers: [] })).toEqual(
      tokenInForce({ clientId: 'svc', audience: ISSUER, scope: 'read' }, client, resources),
    );
  });
});

describe('token visibility', () => {
  it('lets a client introspect its own tokens and a resource server any', () => {
    expect(mayIntrospect(client, { clientId: 'svc' })).toBe(true);
    expect(mayIntrospect(client, { clientId: 'other' })).toBe(false);
    expect(mayIntrospect({ ...client, resourceServer: true }, { clientId: 'other' })).toBe(true);
  });

  it('lets no public client introspect, not even its own tokens', () => {
    const app = { ...client, tokenEndpointAuthMethod: 'none' };
    expect(mayUseIntrospection(app)).toBe(false);
    expect(mayIntrospect(app, { clientId: 'svc' })).toBe(false);
    expect(mayUseIntrospection(client)).toBe(true);
  });

  it('ends a grant with its refresh token only', () => {
    expect(revocationEndsGrant({ kind: 'RefreshToken' })).toBe(true);
    expect(revocationEndsGrant({ kind: 'AccessToken' })).toBe(false);
    expect(revocationEndsGrant({ kind: 'ClientCredentials' })).toBe(false);
  });

  it('lets only the owner revoke, resource server or not', () => {
    expect(mayRevoke(client, { clientId: 'svc' })).toBe(true);
    expect(mayRevoke({ id: 'api' }, { clientId: 'svc' })).toBe(false);
  });
});

describe('access-token lifetime', () => {
  it('is the client’s own, else the default, never above the maximum', () => {
    expect(accessTokenLifetime({ accessTokenTtl: 120 }, 300)).toBe(120);
    expect(accessTokenLifetime({ accessTokenTtl: null }, 300)).toBe(300);
    expect(accessTokenLifetime({}, 300)).toBe(300);
    expect(accessTokenLifetime({ accessTokenTtl: MAX_ACCESS_TOKEN_TTL * 2 }, 300)).toBe(MAX_ACCESS_TOKEN_TTL);
  });
});

describe('resource servers (RFC 8707)', () => {
  const api = { identifier: 'https://api.example', scopes: ['read', 'export'], accessTokenTtl: 600, dpopRequired: false };
  const ISSUER = 'https://as.example';

  it('a request is for the resource it names, else the default resource, else the issuer; scope admin is always the issuer', () => {
    expect(targetResource({ resource: 'https://x.example' }, api.identifier, ISSUER)).toBe('https://x.example');
    expect(targetResource({ resource: ['a', 'b'] }, undefined, ISSUER)).toEqual(['a', 'b']);
    expect(targetResource({ scope: 'read' }, api.identifier, ISSUER)).toBe(api.identifier);
    expect(targetResource({}, api.identifier, ISSUER)).toBe(api.identifier);
    expect(targetResource({ scope: 'read admin' }, api.identifier, ISSUER)).toBe(ISSUER);
    expect(targetResource({ scope: 'read' }, undefined, ISSUER)).toBe(ISSUER);
  });

  it('grants the requested scopes within both the client allow-list and the resource server scopes', () => {
    expect(grantResourceScope(client, api, 'read')).toEqual({ granted: 'read' });
    expect(grantResourceScope(client, api, 'write')).toEqual({
      refused: 'write',
      description: 'requested scope is not defined by resource server https://api.example',
    });
    expect(grantResourceScope(client, api, 'export')).toEqual({ refused: 'export', description: 'requested scope is not allowed for this client' });
    expect(grantResourceScope(client, api, undefined)).toEqual({ granted: 'read' });
    expect(grantResourceScope(client, { ...api, scopes: ['export'] }, undefined)).toEqual({ granted: undefined });
  });

  it("lives as the resource server says, which the client's own lifetime can shorten but not lengthen", () => {
    expect(resourceTokenLifetime({}, api, 300)).toBe(600);
    expect(resourceTokenLifetime({ accessTokenTtl: 60 }, api, 300)).toBe(60);
    expect(resourceTokenLifetime({ accessTokenTtl: 3600 }, api, 300)).toBe(600);
    expect(resourceTokenLifetime({ accessTokenTtl: 3600 }, { accessTokenTtl: null }, 300)).toBe(300);
  });

  it('refuses a token without a DPoP proof only where the resource server requires one', () => {
    expect(missesRequiredDpop({ dpopRequired: true }, false)).toBe(true);
    expect(missesRequiredDpop({ dpopRequired: true }, true)).toBe(false);
    expect(missesRequiredDpop({ dpopRequired: false }, false)).toBe(false);
  });

  it('a client linked to a resource server may introspect the tokens for it, and no others', () => {
    const linked = { ...client, id: 'api-gateway', servesAudience: api.identifier };
    expect(mayIntrospect(linked, { clientId: 'svc', audience: api.identifier })).toBe(true);
    expect(mayIntrospect(linked, { clientId: 'svc', audience: [ISSUER, api.identifier] })).toBe(true);
    expect(mayIntrospect(linked, { clientId: 'svc', audience: ISSUER })).toBe(false);
    expect(mayIntrospect(linked, { clientId: 'svc' })).toBe(false);
    expect(mayIntrospect({ ...linked, tokenEndpointAuthMethod: 'none' }, { clientId: 'svc', audience: api.identifier })).toBe(false);
  });
});

describe('a resource identifier that names the issuer', () => {
  it('is the issuer however it is spelt', () => {
    for (const spelling of [
      'https://auth.example',
      'https://auth.example/',
      'HTTPS://Auth.Example:443',
      'https://auth.example/./',
      'https://auth.example/x/../',
      'https://u:p@auth.example',
    ]) {
      expect(namesIssuer(spelling, 'https://auth.example'), spelling).toBe(true);
    }
    expect(namesIssuer('https://auth.example/base/', 'https://auth.example/base')).toBe(true);
  });

  it('is not a resource below it, on another port or scheme, or with a query', () => {
    for (const other of ['https://auth.example/api', 'https://auth.example:8443', 'http://auth.example', 'https://auth.example/?v=1', 'urn:auth.example']) {
      expect(namesIssuer(other, 'https://auth.example'), other).toBe(false);
    }
  });
});
