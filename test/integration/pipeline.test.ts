// The request pipeline (src/http/pipeline.ts) around the introspection handler: cached and unknown
// tokens answered without Koa, with the answer, headers, rate limits, log line, metrics and audit
// event Koa and the provider give. (The issuance handler: issuance-handler.test.ts.)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basic as basicHeader, postForm, registerClient, type RegisteredClient } from '../helpers/oauth.js';
import { auditEvents, metricsText, metricValue } from '../helpers/ops.js';
import { startTollgate, type TestTollgate } from '../helpers/tollgate.js';

const basic = (c: RegisteredClient) => basicHeader(c.client_id, c.client_secret);

let tollgate: TestTollgate;
let resourceServer: RegisteredClient;
let client: RegisteredClient;
let token: string;

beforeAll(async () => {
  // Rate limits on, with a per-client introspection budget this file's caller can use up; one
  // audit row per introspection, so each request's id can be found in the trail.
  tollgate = await startTollgate({ RATE_LIMIT_ENABLED: 'true', RATE_LIMIT_INTROSPECT_PER_CLIENT: '16', AUDIT_INTROSPECTIONS: 'each' });
  resourceServer = await registerClient(tollgate.url, { client_name: 'api', resource_server: true });
  client = await registerClient(tollgate.url, { scope: 'read' });
  token = (await postForm(tollgate.url, '/token', { grant_type: 'client_credentials' }, [client.client_id, client.client_secret])).body.access_token as string;
  // The provider answers the first time, verifying the caller's secret; the second time the caller
  // is known, and the provider's answer is cached.
  for (let i = 0; i < 2; i += 1) expect((await introspect()).body).toMatchObject({ active: true });
});
afterAll(() => tollgate?.close());

/** POST /introspect as the resource server; a `query` makes the handler leave it to Koa and the provider. */
function introspect(query = '', headers: Record<string, string> = {}) {
  return fetch(`${tollgate.url}/introspect${query}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(resourceServer), ...headers },
    body: new URLSearchParams({ token }).toString(),
  }).then(async (response) => ({ status: response.status, headers: response.headers, body: (await response.json()) as Record<string, unknown> }));
}

async function answeredBy() {
  const text = await metricsText(tollgate.url);
  return { lane: metricValue(text, 'tollgate_handler_answers_total', { endpoint: 'introspect' }) ?? 0 };
}

const comparable = (headers: Headers) => Object.fromEntries([...headers].filter(([name]) => !['date', 'x-request-id'].includes(name)));

describe('the request pipeline around the introspection handler', () => {
  it('answers a cache hit before Koa, exactly as the provider does', async () => {
    const before = await answeredBy();
    const lane = await introspect();
    const koa = await introspect('?via=koa');
    expect(await answeredBy()).toEqual({ lane: before.lane + 1 });

    expect(lane.status).toBe(200);
    expect(lane.body).toMatchObject({ active: true, client_id: client.client_id, scope: 'read', token_type: 'Bearer' });
    expect(JSON.stringify(lane.body)).toBe(JSON.stringify(koa.body));
    expect(comparable(lane.headers)).toEqual(comparable(koa.headers));
    expect(lane.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('keeps the caller’s request id, and records the introspection in the audit trail with it', async () => {
    const lane = await introspect('', { 'x-request-id': 'lane-request-1' });
    expect(lane.headers.get('x-request-id')).toBe('lane-request-1');
    await tollgate.running.app.audit.flush();
    const { events } = await auditEvents(tollgate.url, { actor: resourceServer.client_id, type: 'token.introspected' });
    expect(events.find((event) => event.request_id === 'lane-request-1')).toMatchObject({
      client_id: client.client_id,
      subject: client.client_id,
      source_ip: '127.0.0.1',
      count: 1,
      details: { active: true, token_type: 'Bearer' },
    });
  });

  it('answers another client’s token inactive to a caller that is not a resource server', async () => {
    const stranger = await registerClient(tollgate.url);
    const as = (c: RegisteredClient) => ({ authorization: basic(c) });
    expect((await introspect('', as(stranger))).body).toEqual({ active: false }); // the provider verifies its secret
    const before = await answeredBy();
    expect((await introspect('', as(stranger))).body).toEqual({ active: false });
    expect((await answeredBy()).lane).toBe(before.lane + 1);
  });

  it('answers a token no row exists for inactive, and passes the rest on to Koa, body and all', async () => {
    const rs: [string, string] = [resourceServer.client_id, resourceServer.client_secret];
    let before = await answeredBy();
    expect((await postForm(tollgate.url, '/introspect', { token: 'not-a-token-0123456789' }, rs)).body).toEqual({ active: false });
    expect((await answeredBy()).lane).toBe(before.lane + 1);

    before = await answeredBy();
    // A token with a row but not yet cached: the provider's to judge (and then cached).
    const fresh = (await postForm(tollgate.url, '/token', { grant_type: 'client_credentials' }, [client.client_id, client.client_secret])).body
      .access_token as string;
    expect((await postForm(tollgate.url, '/introspect', { token: fresh }, rs)).body).toMatchObject({ active: true, client_id: client.client_id });
    expect((await answeredBy()).lane).toBe(before.lane);
    // A wrong secret is the handler's to refuse; a body with two tokens, the provider's.
    expect((await postForm(tollgate.url, '/introspect', { token }, [resourceServer.client_id, 'wrong'])).status).toBe(401);
    expect((await answeredBy()).lane).toBe(before.lane + 1);
    const twice = await fetch(`${tollgate.url}/introspect`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(resourceServer) },
      body: `token=${token}&token=${token}`,
    });
    expect(twice.status).toBe(400);
    expect((await answeredBy()).lane).toBe(before.lane + 1);
  });

  it('applies the rate limits, with Koa’s 429 answer', async () => {
    const statuses: number[] = [];
    let refused: Awaited<ReturnType<typeof introspect>> | undefined;
    for (let i = 0; i < 18 && !refused; i += 1) {
      const response = await introspect();
      statuses.push(response.status);
      if (response.status === 429) refused = response;
    }
    expect(statuses.at(-1)).toBe(429);
    expect(refused!.body).toEqual({ error: 'too_many_requests', error_description: 'rate limit exceeded; retry later' });
    expect(refused!.headers.get('retry-after')).toMatch(/^\d+$/);
    // Koa's answer to the same caller, through the same budget.
    const koa = await introspect('?via=koa');
    expect(koa.status).toBe(429);
    expect(koa.body).toEqual(refused!.body);
    expect(comparable(koa.headers)).toEqual(comparable(refused!.headers));
  });
});
