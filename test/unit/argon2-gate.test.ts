import { describe, expect, it } from 'vitest';
import { Argon2Gate, FAILURE_MEMORY, VerificationsBusy } from '../../src/clients/argon2-gate.js';
import { hashSecret } from '../../src/crypto/argon2.js';
import { httpErrorOf } from '../../src/http/errors.js';
import { CHEAP_HASH_COST } from '../helpers/hash-cost.js';

describe('Argon2Gate', () => {
  it('runs `concurrency` at once, queues `queueMax` in order, and refuses the rest at once (a 503 to HTTP callers)', async () => {
    const hand = checkByHand();
    const gate = new Argon2Gate({ concurrency: 1, queueMax: 1 }, CHEAP_HASH_COST, hand.check);
    const outcomes: string[] = [];
    const running = attempt(gate, 'first', outcomes, 'first');
    const waiting = attempt(gate, 'second', outcomes, 'second');
    await flush();
    expect([gate.inFlight, gate.queued, hand.running()]).toEqual([1, 1, ['first']]);

    const refused = await gate.verify('third', 'presented').catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(VerificationsBusy);
    expect(refused).toMatchObject({ kind: 'overloaded', retryAfterSeconds: 1, detail: { running: 1, waiting: 1 } });
    expect(httpErrorOf(refused)).toMatchObject({ status: 503, error: 'temporarily_unavailable', headers: { 'Retry-After': '1' } });

    await hand.answer(true);
    await running;
    expect([gate.inFlight, gate.queued, hand.running()]).toEqual([1, 0, ['second']]);
    await hand.answer(false);
    await waiting;
    expect(outcomes).toEqual(['first: yes', 'second: no']);
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

/**
 * A HashCheck the test answers by hand: each check waits until `answer` settles the oldest one
 * still open, so what runs, in which order, is decided by the test alone.
 */
function checkByHand() {
  const open: { hash: string; settle: (matched: boolean) => void }[] = [];
  let opened = () => {};
  const check = (hash: string) =>
    new Promise<boolean>((settle) => {
      open.push({ hash, settle });
      opened();
    });
  return {
    check,
    /** Makes the gate's dummy hash (real argon2, at the cheap cost) before a test needs it at once. */
    prime: async (gate: Argon2Gate) => {
      const started = new Promise<void>((resolve) => (opened = resolve));
      const primer = gate.verify(undefined, 'presented');
      await started;
      open.shift()!.settle(false);
      await primer;
    },
    /** The hashes being checked now, oldest first. */
    running: () => open.map(({ hash }) => hash),
    /** Ends the oldest check with `matched`, and lets the gate pass its place on. */
    answer: async (matched: boolean) => {
      open.shift()!.settle(matched);
      await flush();
    },
  };
}

/** Lets every promise chain that can move move: the gate's hand-overs take a few turns. */
const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Starts a verification and records how it ends: 'yes', 'no' or the HTTP status of its refusal. */
function attempt(gate: Argon2Gate, hash: string | undefined, outcomes: string[], label: string) {
  return gate.verify(hash, 'presented').then(
    (matched) => void outcomes.push(`${label}: ${matched ? 'yes' : 'no'}`),
    (err: unknown) => void outcomes.push(`${label}: ${httpErrorOf(err)?.status}`),
  );
}

describe('Argon2Gate under a flood', () => {
  it("lets a hash with no recent failure past a flood on one that failed: first in line, taking the newest guess's place", async () => {
    const hand = checkByHand();
    const gate = new Argon2Gate({ concurrency: 1, queueMax: 2 }, CHEAP_HASH_COST, hand.check);
    const outcomes: string[] = [];
    const all = [attempt(gate, 'flooded', outcomes, 'guess 0')];
    await flush();
    await hand.answer(false);
    // The flooded hash has failed: one guess running, two waiting, the fourth refused at once.
    for (const n of [1, 2, 3, 4]) all.push(attempt(gate, 'flooded', outcomes, `guess ${n}`));
    await flush();
    expect([gate.inFlight, gate.queued, outcomes]).toEqual([1, 2, ['guess 0: no', 'guess 4: 503']]);

    all.push(attempt(gate, 'new client', outcomes, 'new client'));
    await flush();
    expect([gate.inFlight, gate.queued, outcomes.at(-1)]).toEqual([1, 2, 'guess 3: 503']);
    await hand.answer(false);
    expect(hand.running()).toEqual(['new client']);
    await hand.answer(true);
    await hand.answer(false);
    await Promise.all(all);
    expect(outcomes).toEqual(['guess 0: no', 'guess 4: 503', 'guess 3: 503', 'guess 1: no', 'new client: yes', 'guess 2: no']);
    expect(gate.stats).toEqual({ verifications: 4, refusals: 2 });
  });

  it('serves many new hashes before guesses at unknown names and at many failed hashes, however many', async () => {
    const hand = checkByHand();
    const gate = new Argon2Gate({ concurrency: 1, queueMax: 4 }, CHEAP_HASH_COST, hand.check);
    await hand.prime(gate);
    const outcomes: string[] = [];
    const failed = ['a', 'b', 'c'];
    for (const hash of failed) {
      const first = attempt(gate, hash, outcomes, hash);
      await flush();
      await hand.answer(false);
      await first;
    }
    // A flood from everywhere: the failed hashes, and ids that do not exist (the dummy hash).
    const flood = Array.from({ length: 30 }, (_, n) => attempt(gate, n % 2 ? failed[n % 3] : undefined, outcomes, `guess ${n}`));
    await flush();
    expect([gate.inFlight, gate.queued]).toEqual([1, 4]);
    const newcomers = ['n1', 'n2', 'n3'].map((hash) => attempt(gate, hash, outcomes, hash));
    await flush();
    expect(gate.queued).toBe(4);
    for (let i = 0; i < 5; i++) await hand.answer(false);
    await Promise.all([...flood, ...newcomers]);
    expect(outcomes.filter((outcome) => /^n\d/.test(outcome))).toEqual(['n1: no', 'n2: no', 'n3: no']);
    // One guess was running; the newcomers were served next, before the one guess still waiting.
    expect(outcomes.slice(-5).map((outcome) => outcome.replace(/^guess \d+/, 'guess'))).toEqual(['guess: no', 'n1: no', 'n2: no', 'n3: no', 'guess: no']);
    expect(gate.stats.refusals).toBe(30 - 2);
    expect(gate.stats.verifications).toBe(1 + 3 + 5);
  });

  it('gives a hash with no failure yet one place in the first line: a burst of guesses on it waits with the suspects', async () => {
    const hand = checkByHand();
    const gate = new Argon2Gate({ concurrency: 1, queueMax: 3 }, CHEAP_HASH_COST, hand.check);
    await hand.prime(gate);
    const outcomes: string[] = [];
    const blocker = attempt(gate, undefined, outcomes, 'unknown id');
    await flush();
    const burst = [0, 1, 2, 3, 4].map((n) => attempt(gate, 'not yet failed', outcomes, `burst ${n}`));
    await flush();
    expect(outcomes).toEqual(['burst 3: 503', 'burst 4: 503']);
    const newcomer = attempt(gate, 'new client', outcomes, 'new client');
    await flush();
    expect(outcomes.at(-1)).toBe('burst 2: 503');
    for (let i = 0; i < 4; i++) await hand.answer(i === 2);
    await Promise.all([blocker, ...burst, newcomer]);
    expect(outcomes.slice(3)).toEqual(['unknown id: no', 'burst 0: no', 'new client: yes', 'burst 1: no']);
  });

  it('queues new hashes among themselves in order, and refuses them, not one another, when the queue is full', async () => {
    const hand = checkByHand();
    const gate = new Argon2Gate({ concurrency: 1, queueMax: 1 }, CHEAP_HASH_COST, hand.check);
    const outcomes: string[] = [];
    const all = ['x', 'y', 'z'].map((hash) => attempt(gate, hash, outcomes, hash));
    await flush();
    expect(outcomes).toEqual(['z: 503']);
    await hand.answer(true);
    await hand.answer(true);
    await Promise.all(all);
    expect(outcomes).toEqual(['z: 503', 'x: yes', 'y: yes']);
  });

  it('forgets a failure once the secret is verified, and remembers at most FAILURE_MEMORY failed hashes', async () => {
    const hand = checkByHand();
    const gate = new Argon2Gate({ concurrency: 1, queueMax: 1 }, CHEAP_HASH_COST, hand.check);
    await hand.prime(gate);
    const verified = async (hash: string | undefined, matched: boolean) => {
      const outcome = gate.verify(hash, 'presented');
      await flush();
      await hand.answer(matched);
      return outcome;
    };
    /** Whether a verification against `hash` takes a waiting suspect's place: a clear hash does. */
    const isClear = async (hash: string) => {
      const outcomes: string[] = [];
      const blocker = gate.verify(undefined, 'presented');
      await flush();
      const suspect = attempt(gate, undefined, outcomes, 'suspect');
      await flush();
      const probe = attempt(gate, hash, outcomes, 'probe');
      await flush();
      await hand.answer(false);
      if (outcomes.length === 1) await hand.answer(false);
      await Promise.all([blocker, suspect, probe]);
      return outcomes[0] === 'suspect: 503';
    };
    await verified('rotated', false);
    expect(await isClear('rotated')).toBe(false);
    await verified('rotated', true);
    expect(await isClear('rotated')).toBe(true);

    await verified('first', false);
    for (let n = 0; n < FAILURE_MEMORY; n++) await verified(`hash ${n}`, false);
    expect(await isClear(`hash ${FAILURE_MEMORY - 1}`)).toBe(false);
    expect(await isClear('first')).toBe(true);
  });
});
