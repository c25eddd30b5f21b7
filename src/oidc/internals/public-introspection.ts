// RFC 7662 §2.1: a public client cannot authenticate, so it may not introspect. oidc-provider
// takes token_endpoint_auth_method none at every endpoint and has no hook between client
// authentication and its answer, so the answer is replaced after the provider gave it. That is
// sound only while the provider's introspection has no side effect: the check finds no write in it.
import type Provider from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';
import { answerErrorInKoa } from '../../http/answers.js';
import { HttpError } from '../../http/errors.js';
import { expectShape, providerSource } from './shape.js';

type ProviderClient = NonNullable<KoaContextWithOIDC['oidc']['client']>;

const PUBLIC_CLIENT_REFUSED = new HttpError(401, 'invalid_client', 'client authentication is required; a public client cannot introspect tokens');

export function checkIntrospectionReadOnly(): void {
  const action = providerSource('lib/actions/introspection.js');
  expectShape(action !== '' && !/\.(destroy|save|consume|revoke)\(|\.emit\(/.test(action), 'introspection endpoint changes state');
}

/** Replaces the introspection answer to a client `mayIntrospect` refuses with 401 invalid_client. */
export function refusePublicIntrospection(provider: Provider, mayIntrospect: (client: ProviderClient) => boolean): void {
  checkIntrospectionReadOnly();
  provider.use(async function refusePublicIntrospection(ctx, next) {
    await next();
    const client = ctx.oidc?.client;
    if (ctx.oidc?.route !== 'introspection' || !client || mayIntrospect(client)) return;
    answerErrorInKoa(ctx, PUBLIC_CLIENT_REFUSED);
  });
}
