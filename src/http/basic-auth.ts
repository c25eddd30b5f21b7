/**
 * RFC 6749 §2.3.1 client credentials from an `Authorization: Basic` header, decoded as
 * oidc-provider decodes them (form-encoded id and secret, printable ASCII only), so that what
 * Tollgate keys rate limits and audit events on, and what its token handlers authenticate, is the
 * client the provider would authenticate. Undefined for anything the provider would refuse as
 * malformed.
 */
export function basicCredentials(header: string | undefined): { id: string; secret: string } | undefined {
  const match = /^basic ([A-Za-z0-9+/]+={0,2})$/i.exec(header ?? '');
  if (!match || !isCanonicalBase64(match[1]!)) return undefined;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon === -1) return undefined;
  try {
    const id = formDecode(decoded.slice(0, colon));
    const secret = formDecode(decoded.slice(colon + 1));
    return id && secret && PRINTABLE.test(id) && PRINTABLE.test(secret) ? { id, secret } : undefined;
  } catch {
    return undefined;
  }
}

const PRINTABLE = /^[\x20-\x7e]+$/;

function formDecode(value: string): string {
  // Generated ids and secrets hold nothing encoded: they are their own decoding, without a regex or decodeURIComponent.
  if (!value.includes('%') && !value.includes('+')) return value;
  return decodeURIComponent(value.replace(/\+/g, '%20'));
}

/** Base64 with correct padding, or none (the provider's rule: a lone trailing character is not base64). */
function isCanonicalBase64(value: string): boolean {
  const body = value.replace(/=+$/, '');
  const padding = value.length - body.length;
  const remainder = body.length % 4;
  return padding === 0 ? remainder !== 1 : (body.length + padding) % 4 === 0 && padding === 4 - remainder;
}
