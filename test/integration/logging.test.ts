// A full client life cycle at the most verbose log level: the log must record every request and
// never a secret, a token or an Authorization header.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admin, adminToken, basic, clientCredentialsToken, postForm, registerClient } from '../helpers/oauth.js';
import { ADMIN_CLIENT_ID, ADMIN_CLIENT_SECRET, startTollgate, type TestTollgate } from '../helpers/tollgate.js';

let tollgate: TestTollgate;
/** Every credential the cycle handles; none may appear in the log. */
const secrets = new Map<string, string>();

beforeAll(async () => {
  tollgate = await startTollgate({ LOG_LEVEL: 'trace' });
  const base = tollgate.url;
  secrets.set('admin secret', ADMIN_CLIENT_SECRET);
  secrets.set('admin Basic header', basic(ADMIN_CLIENT_ID, ADMIN_CLIENT_SECRET));

  const adminBearer = await adminToken(base);
  secrets.set('admin token', adminBearer);
  const client = await registerClient(base, { scope: 'read' });
  secrets.set('client secret', client.client_secret);
  secrets.set('client Basic header', basic(client.client_id, client.client_secret));

  const issued = await clientCredentialsToken(base, client.client_id, client.client_secret, 'read');
  expect(issued.status).toBe(200);
  const accessToken = issued.body.access_token as string;
  secrets.set('access token', accessToken);

  // client_secret_post puts the secret in the body.
  const poster = await registerClient(base, { scope: 'read', token_endpoint_auth_method: 'client_secret_post' });
  secrets.set('client_secret_post secret', poster.client_secret);
  const posted = await postForm(base, '/token', { grant_type: 'client_credentials', client_id: poster.client_id, client_secret: poster.client_secret });
  expect(posted.status).toBe(200);
  secrets.set('client_secret_post token', posted.body.access_token as string);
  expect((await postForm(base, '/introspect', { token: accessToken }, [client.client_id, client.client_secret])).body).toMatchObject({ active: true });
  expect((await postForm(base, '/revoke', { token: accessToken }, [client.client_id, client.client_secret])).status).toBe(200);

  const wrongSecret = 'wrong-secret-that-must-not-be-logged-0123456789';
  secrets.set('wrong secret', wrongSecret);
  secrets.set('wrong Basic header', basic(client.client_id, wrongSecret));
  expect((await clientCredentialsToken(base, client.client_id, wrongSecret)).status).toBe(401);

  // Credentials in a query string are not logged either.
  expect((await fetch(`${base}/nope?client_secret=${encodeURIComponent(client.client_secret)}`)).status).toBe(404);
  const badBearer = 'not-a-real-token-but-still-not-for-the-log';
  secrets.set('bad bearer', badBearer);
  expect((await admin(base, 'GET', '/clients', undefined, badBearer)).status).toBe(401);

  // Nor a token pasted into a path, wherever the path leads.
  const pasted = (await clientCredentialsToken(base, client.client_id, client.client_secret)).body.access_token as string;
  secrets.set('token pasted into a path', pasted);
  for (const path of [`/${pasted}`, `/token/${pasted}`, `/introspect/x/${pasted}`, `/interaction/${pasted}`, `/admin/clients/${pasted}`]) {
    expect((await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${adminBearer}` } })).status).toBeGreaterThanOrEqual(400);
  }

  const rotated = await admin(base, 'POST', `/clients/${client.client_id}/secret`, { overlap_seconds: 0 }, adminBearer);
  expect(rotated.status).toBe(200);
  const newSecret = rotated.body.client_secret as string;
  secrets.set('rotated secret', newSecret);
  const afterRotation = await clientCredentialsToken(base, client.client_id, newSecret);
  expect(afterRotation.status).toBe(200);
  secrets.set('token after rotation', afterRotation.body.access_token as string);
  expect((await clientCredentialsToken(base, client.client_id, client.client_secret)).status).toBe(401);
});
afterAll(() => tollgate?.close());

describe('the log', () => {
  it.each([
    'admin secret',
    'admin Basic header',
    'admin token',
    'client secret',
    'client Basic header',
    'access token',
    'client_secret_post token',
    'wrong secret',
    'wrong Basic header',
    'bad bearer',
    'rotated secret',
    'token after rotation',
    'token pasted into a path',
  ])('never contains the %s', (name) => {
    const value = secrets.get(name)!;
    expect(value.length).toBeGreaterThan(20);
    const raw = tollgate.rawLogs();
    expect(raw.includes(value), `${name} appears in the log`).toBe(false);
    // Nor the credential part of a header on its own.
    if (value.startsWith('Basic ')) expect(raw.includes(value.slice(6))).toBe(false);
  });

  it('has a request line, with path and status, for every step', () => {
    const requests = tollgate.logs.filter((line) => line.msg === 'request');
    const seen = requests.map((line) => `${line.method} ${line.path} ${line.status}`);
    for (const expected of [
      'POST /token 200',
      'POST /admin/clients 201',
      'POST /introspect 200',
      'POST /revoke 200',
      'POST /token 401',
      'GET /nope 404',
      'GET /admin/clients 401',
      'POST /admin/clients/:id/secret 200',
      'GET /admin/clients/:id 404',
      'GET /token/:redacted 404',
    ]) {
      const pattern = new RegExp(`^${expected.replace(':id', '[^/ ]+').replace(/[.]/g, '\\.')}$`);
      expect(
        seen.some((line) => pattern.test(line)),
        `${expected} in ${JSON.stringify(seen)}`,
      ).toBe(true);
    }
    for (const line of requests) expect(line.requestId).toEqual(expect.any(String));
  });

  it('is one JSON object per line', () => {
    const lines = tollgate.rawLogs().split('\n').filter(Boolean);
    expect(lines.length).toBeGreaterThan(10);
    for (const line of lines) expect(() => JSON.parse(line)).not.toThrow();
  });
});
