// Domain errors reach HTTP through one mapping (src/http/errors.ts): each kind its status and RFC
// 6749 §5.2 code, the public description in the body, the private detail only in the log.
import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { VerificationsBusy } from '../../src/clients/argon2-gate.js';
import { Conflict, InvalidInput, NotFound } from '../../src/domain-errors.js';
import { errorAnswer } from '../../src/http/answers.js';
import { answerFor, httpErrorOf } from '../../src/http/errors.js';
import { RotationInProgress } from '../../src/keys/store.js';
import { RateLimitError } from '../../src/rate-limit/limits.js';

/** A logger at debug level whose lines are kept. */
function keptLog() {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString('utf8')));
      done();
    },
  });
  return { log: pino({ level: 'debug' }, sink), lines };
}

describe('the mapping of domain errors to HTTP', () => {
  it('answers a rotation under way as 409 conflict, its description public and its pending key id only in the log', async () => {
    const refused = new RotationInProgress(new Date('2026-12-08T01:00:00Z'), 'kid-of-the-pending-key');
    const { log, lines } = keptLog();
    const answer = errorAnswer(answerFor(refused, { log }, 'req-1'));
    expect(answer.status).toBe(409);
    expect(JSON.parse(answer.body)).toEqual({ error: 'conflict', error_description: 'a rotation is in progress: its keys sign from 2026-12-08T01:00:00.000Z' });
    expect(answer.headers).toEqual({ 'Cache-Control': 'no-store' });
    expect(answer.body).not.toContain('kid-of-the-pending-key');
    await new Promise((resolve) => setImmediate(resolve));
    expect(lines).toEqual([
      expect.objectContaining({
        level: 20,
        msg: 'refused',
        requestId: 'req-1',
        refusal: 'RotationInProgress',
        detail: { pendingKid: 'kid-of-the-pending-key' },
      }),
    ]);
    // What the caller sent may be in a description (an id pasted into a path): never logged.
    answerFor(new NotFound('client a-token-pasted-into-a-path'), { log }, 'req-2');
    await new Promise((resolve) => setImmediate(resolve));
    expect(JSON.stringify(lines)).not.toContain('a-token-pasted-into-a-path');
  });

  it('answers a full argon2 gate as 503 temporarily_unavailable with Retry-After, its queue only in the log', () => {
    const answer = errorAnswer(httpErrorOf(new VerificationsBusy(4, 64))!);
    expect(answer).toEqual({
      status: 503,
      body: '{"error":"temporarily_unavailable","error_description":"too many secrets are being verified; retry later"}',
      headers: { 'Retry-After': '1', 'Cache-Control': 'no-store' },
    });
  });

  it('maps every kind a domain error can be, with the field at fault and the seconds to wait', () => {
    const mapped = (err: unknown) => {
      const known = httpErrorOf(err);
      return known && { status: known.status, error: known.error, description: known.description, field: known.field, headers: known.headers };
    };
    expect(mapped(new InvalidInput('scope: unknown', { field: 'scope' }))).toEqual({
      status: 400,
      error: 'invalid_request',
      description: 'scope: unknown',
      field: 'scope',
      headers: {},
    });
    expect(mapped(new NotFound('client c1'))).toMatchObject({ status: 404, error: 'not_found', description: 'client c1 not found' });
    expect(mapped(new Conflict('client c1 already exists', { field: 'client_id' }))).toMatchObject({ status: 409, error: 'conflict', field: 'client_id' });
    expect(mapped(new RateLimitError('token_ip', 7))).toMatchObject({ status: 429, error: 'too_many_requests', headers: { 'Retry-After': '7' } });
    expect(mapped(new VerificationsBusy(1, 1))).toMatchObject({ status: 503, error: 'temporarily_unavailable', headers: { 'Retry-After': '1' } });
    expect(httpErrorOf(new Error('anything else'))).toBeUndefined();
  });
});
