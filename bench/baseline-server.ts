// The baseline: a bare oidc-provider 9 with its in-memory adapter and a plaintext client secret,
// configured for the same grant and endpoints as Tollgate. What the library does with no storage,
// no hashing and no middleware of ours.
import Provider, { errors } from 'oidc-provider';
import { BASELINE_CLIENT } from './constants.js';

const port = Number(process.env.PORT ?? 3100);
const issuer = `http://127.0.0.1:${port}`;

const provider = new Provider(issuer, {
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
        if (indicator !== issuer) throw new errors.InvalidTarget();
        return { scope: 'read', audience: issuer, accessTokenFormat: 'opaque', accessTokenTTL: 300 };
      },
    },
  },
});

provider.listen(port, '127.0.0.1', () => process.stdout.write(`baseline listening on ${issuer}\n`));
// Exit normally on SIGTERM, so that --cpu-prof writes its profile.
process.once('SIGTERM', () => process.exit(0));
