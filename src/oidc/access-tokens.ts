import type Provider from 'oidc-provider';

export interface VerifiedAccessToken {
  clientId: string;
  scopes: Set<string>;
  exp: number;
}

/** The access token behind a bearer value if it is valid, unexpired and its client still active. */
export async function verifyAccessToken(provider: Provider, value: string): Promise<VerifiedAccessToken | undefined> {
  const token = (await provider.ClientCredentials.find(value)) ?? (await provider.AccessToken.find(value));
  if (!token?.isValid || token.isSenderConstrained()) return undefined;
  if (!(await provider.Client.find(token.clientId!))) return undefined;
  return { clientId: token.clientId!, scopes: new Set((token.scope ?? '').split(' ').filter(Boolean)), exp: token.exp! };
}
