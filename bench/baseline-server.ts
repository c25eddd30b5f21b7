// The baseline: a bare oidc-provider 9 with its in-memory adapter and a plaintext client secret,
// configured for the same grant and endpoints as Tollgate. What the library does with no storage,
// no hashing and no middleware of ours.
import Provider, { errors } from 'oidc-provider';
import { generateProviderKeys } from '../src/keys/keys-file.js';
import { BASELINE_CLIENT } from './constants.js';
import { JWT_RESOURCES } from './scenarios.js';

const port = Number(process.env.PORT ?? 3100);
const issuer = `http://127.0.0.1:${port}`;

/** The JWT resource servers, by identifier: the signing algorithm of their tokens. */
const JWT_ALGS = new Map<string, 'RS256' | 'ES256'>(Object.entries(JWT_RESOURCES).map(([alg, identifier]) => [identifier, alg as 'RS256' | 'ES256']));

const provider = new Provider(issuer, {
  // An RS256 and an ES256 key, as Tollgate has, to sign JWT access tokens with.
  jwks: generateProviderKeys().jwks,
  clients: [
    {
      client_id: BASELINE_CLIENT.id,
      client_secret: BASELINE_CLIENT.secret,
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      token_endpoint_auth_method: 'client_secret_basic',
    },
  ],
  routes: { token: '/token', introspection: '/introspect', revocation: '/revoke', jwks: '/jwks' },
  clientAuthMethods: ['client_secret_basic', 'client_secret_post'],
  responseTypes: ['code'],
  features: {
    devInteractions: { enabled: false },
    userinfo: { enabled: false },
    rpInitiatedLogout: { enabled: false },
    clientCredentials: { enabled: true },
    introspection: { enabled: true },
    revocation: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: async () => issuer,
      useGrantedResource: async () => true,
      getResourceServerInfo: async (_ctx, indicator) => {
        const alg = JWT_ALGS.get(indicator);
        if (alg) return { scope: 'read', audience: indicator, accessTokenFormat: 'jwt', accessTokenTTL: 300, jwt: { sign: { alg } } };
        if (indicator !== issuer) throw new errors.InvalidTarget();
        return { scope: 'read', audience: issuer, accessTokenFormat: 'opaque', accessTokenTTL: 300 };
      },
    },
  },
});

provider.listen(port, '127.0.0.1', () => process.stdout.write(`baseline listening on ${issuer}\n`));
// Exit normally on SIGTERM, so that --cpu-prof writes its profile.
process.once('SIGTERM', () => process.exit(0));
