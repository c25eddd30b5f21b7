// DPoP proofs (RFC 9449) made by hand, to send replayed, stale or malformed ones.
import { createHash, generateKeyPairSync, randomUUID, sign, type KeyObject } from 'node:crypto';

/** A P-256 key and proofs signed with it, built with node:crypto alone. */
export class DpopKey {
  readonly privateKey: KeyObject;
  readonly jwk: { kty: string; crv: string; x: string; y: string };

  constructor() {
    const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    this.privateKey = pair.privateKey;
    const { kty, crv, x, y } = pair.publicKey.export({ format: 'jwk' }) as { kty: string; crv: string; x: string; y: string };
    this.jwk = { kty, crv, x, y };
  }

  /** RFC 7638 thumbprint: what cnf.jkt carries. */
  get thumbprint(): string {
    const { crv, kty, x, y } = this.jwk;
    return createHash('sha256').update(JSON.stringify({ crv, kty, x, y })).digest('base64url');
  }

  proof(htu: string, claims: Record<string, unknown> = {}, htm = 'POST'): string {
    const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const input = `${encode({ typ: 'dpop+jwt', alg: 'ES256', jwk: this.jwk })}.${encode({ htm, htu, iat: Math.floor(Date.now() / 1000), jti: randomUUID(), ...claims })}`;
    return `${input}.${sign('sha256', Buffer.from(input), { key: this.privateKey, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`;
  }
}
