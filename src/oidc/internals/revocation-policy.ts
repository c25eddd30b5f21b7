// RFC 7009 §2.1 leaves it to the server whether revoking an access token ends its grant;
// oidc-provider always ends it. Its revocation.allowedPolicy hook runs before that, and when it
// says no the provider answers 200 and does nothing more: so the policy destroys an access token
// itself and says no, and the token ends alone. The check finds that order in the provider's source.
import type { KoaContextWithOIDC } from 'oidc-provider';
import { expectShape, providerSource } from './shape.js';

type ProviderClient = NonNullable<KoaContextWithOIDC['oidc']['client']>;
interface RevokedToken {
  kind: string;
  clientId?: string;
  destroy(): Promise<void>;
}

export function checkRevocationPolicy(): void {
  const action = providerSource('lib/actions/revocation.js');
  const asked = action.indexOf('await allowedPolicy(ctx, ctx.oidc.client, token)');
  const refused = action.indexOf('return;', asked);
  const destroyed = action.indexOf('await token.destroy();', asked);
  expectShape(asked !== -1 && refused !== -1 && refused < destroyed, 'revocation no longer stops when allowedPolicy refuses');
}

/**
 * The provider's revocation.allowedPolicy: `mayRevoke` decides who may revoke a token, and
 * `endsGrant` whether revoking it ends its grant (the provider's way) or the token alone.
 */
export function revocationPolicy(mayRevoke: (caller: ProviderClient, token: RevokedToken) => boolean, endsGrant: (token: RevokedToken) => boolean) {
  checkRevocationPolicy();
  return async function allowedPolicy(_ctx: KoaContextWithOIDC, caller: ProviderClient, token: RevokedToken): Promise<boolean> {
    if (!mayRevoke(caller, token)) return false;
    if (endsGrant(token)) return true;
    await token.destroy();
    return false;
  };
}
