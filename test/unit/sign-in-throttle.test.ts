import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import pino from 'pino';
import { addressKey, RateLimits } from '../../src/rate-limit/limits.js';
import { loginDelaySeconds, SignInThrottle } from '../../src/users/sign-in-throttle.js';

describe('the sign-in throttle', () => {
  it('counts an IPv6 address as its /64, and IPv4 (mapped or not) as it is', () => {
    expect(addressKey('203.0.113.7')).toBe('203.0.113.7');
    expect(addressKey('::ffff:203.0.113.7')).toBe('203.0.113.7');
    for (const ip of ['2001:db8:0:1::1', '2001:0DB8:0000:0001:ffff:ffff:ffff:ffff', '2001:db8:0:1::', '2001:db8:0:1:1:2:3.4.5.6']) {
      expect(addressKey(ip), ip).toBe('2001:db8:0:1::/64');
    }
    expect(addressKey('2001:db8:0:2::1')).toBe('2001:db8:0:2::/64');
    expect(addressKey('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
    expect(addressKey('::1')).toBe('0:0:0:0::/64');
  });

  it('waits 1 s after the user’s budget of failures, doubling up to the maximum; never with the budget off', () => {
    const { rateLimit } = loadConfig({});
    expect([0, 4, 5, 6, 7, 10, 11, 12, 1000].map((failures) => loginDelaySeconds(failures, rateLimit))).toEqual([0, 0, 1, 2, 4, 32, 60, 60, 60]);
    expect(loginDelaySeconds(7, { ...rateLimit, loginMaxDelaySeconds: 3 })).toBe(3);
    expect(loginDelaySeconds(1000, { ...rateLimit, loginFailuresPerUser: 0 })).toBe(0);
  });

  it('lifts the hold of an attempt whose password was never judged, so its address does not wait', async () => {
    const config = loadConfig({ RATE_LIMIT_LOGIN_FAILURES_PER_USER: '1' });
    const throttle = new SignInThrottle(new RateLimits(config, pino({ level: 'silent' })), config.rateLimit);
    await throttle.failed('user-1', '198.51.100.1'); // the user's budget is spent from elsewhere
    await throttle.check('user-1', '203.0.113.9'); // may fail into a wait: its address is held
    await expect(throttle.check('user-1', '203.0.113.9')).rejects.toMatchObject({ kind: 'rate_limited' });
    await throttle.abandoned('user-1', '203.0.113.9'); // e.g. the argon2 gate answered 503
    await expect(throttle.check('user-1', '203.0.113.9')).resolves.toBeUndefined();
  });
});
