import { describe, expect, it } from 'vitest';
import { Argon2Gate } from '../../src/clients/argon2-gate.js';
import { hashSecret } from '../../src/clients/secrets.js';
import { HttpError } from '../../src/http/errors.js';
import { CHEAP_HASH_COST } from '../helpers/prepared.js';

/** A piece of work that ends when the test says so. */
function held() {
  let release!: () => void;
  const done = new Promise<void>((resolve) => (release = resolve));
  return { work: () => done, release };
}

describe('Argon2Gate', () => {
  it('runs `concurrency` at once, queues `queueMax` in order, and refuses the rest with 503 at once', async () => {
    const gate = new Argon2Gate({ concurrency: 1, queueMax: 1 }, CHEAP_HASH_COST);
    const first = held();
    const second = held();
    const order: string[] = [];
    const running = gate.run(first.work).then(() => order.push('first'));
    const waiting = gate.run(second.work).then(() => order.push('second'));
    expect([gate.inFlight, gate.queued]).toEqual([1, 1]);

    const refused = await gate.run(async () => 'never').catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(HttpError);
    expect(refused).toMatchObject({ status: 503, error: 'temporarily_unavailable', headers: { 'Retry-After': '1' } });

    first.release();
    await running;
    expect([gate.inFlight, gate.queued]).toEqual([1, 0]);
    second.release();
    await waiting;
    expect(order).toEqual(['first', 'second']);
    expect([gate.inFlight, gate.queued]).toEqual([0, 0]);
    expect(gate.stats).toEqual({ verifications: 2, refusals: 1 });
  });

  it('verifies against a dummy hash of its cost when there is none, and never says yes to it', async () => {
    const gate = new Argon2Gate({ concurrency: 2, queueMax: 0 }, CHEAP_HASH_COST);
    expect(await gate.verify(await hashSecret('the-secret', CHEAP_HASH_COST), 'the-secret')).toBe(true);
    expect(await gate.verify(undefined, 'anything')).toBe(false);
    expect(await gate.verify('not a hash', 'anything')).toBe(false);
    expect(gate.stats.verifications).toBe(3);
  });
});
