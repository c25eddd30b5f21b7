/**
 * The client id of an `Authorization: Basic` header (RFC 6749 §2.3.1 form-encoding), or undefined
 * when there is none or it is malformed. Only ever used as a counter key or an audit field: the
 * provider still authenticates the request.
 */
export function basicClientId(header: string | undefined): string | undefined {
  const match = /^Basic ([A-Za-z0-9+/]{1,2048}={0,2})$/i.exec(header ?? '');
  if (!match) return undefined;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 1) return undefined;
  try {
    const id = decodeURIComponent(decoded.slice(0, colon).replace(/\+/g, '%20'));
    return /^[\x21-\x7e]{1,256}$/.test(id) ? id : undefined;
  } catch {
    return undefined;
  }
}
