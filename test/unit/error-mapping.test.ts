// Domain errors reach HTTP through one mapping (src/http/errors.ts): each kind its status and RFC
// 6749 §5.2 code, the public description in the body, the private detail only in the log.
import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { VerificationsBusy } from '../../src/clients/argon2-gate.js';
import { DomainError } from '../../src/domain-errors.js';
import { errorAnswer } from '../../src/http/answers.js';
import { answerFor, httpErrorOf } from '../../src/http/errors.js';
import { RotationInProgress } from '../../src/keys/store.js';

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
      expect.objectContaining({ level: 20, requestId: 'req-1', refusal: 'RotationInProgress', detail: { pendingKid: 'kid-of-the-pending-key' } }),
    ]);
  });

  it('answers a full argon2 gate as 503 temporarily_unavailable with Retry-After, its queue only in the log', () => {
    const answer = errorAnswer(httpErrorOf(new VerificationsBusy(4, 64))!);
    expect(answer).toEqual({
      status: 503,
      body: '{"error":"temporarily_unavailable","error_description":"too many secrets are being verified; retry later"}',
      headers: { 'Retry-After': '1', 'Cache-Control': 'no-store' },
    });
  });

  it('maps every kind a domain error can be', () => {
    class Other extends DomainError {
      readonly kind = 'conflict';
    }
    expect(httpErrorOf(new Other('taken'))).toMatchObject({ status: 409, error: 'conflict', description: 'taken' });
    expect(httpErrorOf(new Error('anything else'))).toBeUndefined();
  });
});
