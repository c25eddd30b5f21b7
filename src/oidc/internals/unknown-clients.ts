// oidc-provider refuses a request naming a client id nobody has, or a public client with a
// secret, with 401 and no secret comparison: compareClientSecret runs only for a client it found
// with a secret. Tollgate does that comparison's work afterwards, so neither timing nor budgets
// tell which ids exist. test/unit/provider-internals.test.ts pins that the provider compares nothing there.
import type Provider from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';

/** After the provider's 401 at one of `routes` with no secret compared, `work` runs before the answer leaves. */
export function afterUncomparedRefusals(provider: Provider, routes: { has(route: string): boolean }, work: (ctx: KoaContextWithOIDC) => Promise<void>): void {
  provider.use(async function afterUncomparedRefusal(ctx, next) {
    await next();
    const oidc = (ctx as Partial<KoaContextWithOIDC>).oidc;
    if (ctx.status !== 401 || !oidc?.route || !routes.has(oidc.route)) return;
    // A client with a secret had the presented one compared.
    if (oidc.client && oidc.client.clientAuthMethod !== 'none') return;
    await work(ctx as KoaContextWithOIDC);
  });
}
