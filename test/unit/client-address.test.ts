// The client address the pipeline derives (Exchange.ip), from the TCP peer and X-Forwarded-For.
import type { IncomingMessage } from 'node:http';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { clientAddressOf, type TrustedProxies } from '../../src/http/client-address.js';
import { checkProperty } from '../helpers/property.js';

const request = (peer: string, forwardedFor?: string) =>
  ({ socket: { remoteAddress: peer }, headers: forwardedFor === undefined ? {} : { 'x-forwarded-for': forwardedFor } }) as unknown as IncomingMessage;
const addressOf = (trusted: TrustedProxies, peer: string, forwardedFor?: string) => clientAddressOf(trusted)(request(peer, forwardedFor));

describe('clientAddressOf', () => {
  it('is the TCP peer when no proxy is trusted, whatever X-Forwarded-For says', () => {
    expect(addressOf([], '198.51.100.1', '203.0.113.9')).toBe('198.51.100.1');
    expect(addressOf(0, '198.51.100.1', '203.0.113.9')).toBe('198.51.100.1');
    expect(addressOf([], '::ffff:198.51.100.1')).toBe('198.51.100.1');
  });

  it('walks from the peer leftwards while the hop is a trusted proxy', () => {
    const trusted = ['10.0.0.0/8', '127.0.0.1'];
    expect(addressOf(trusted, '127.0.0.1', 'spoofed, 203.0.113.9, 10.1.2.3')).toBe('203.0.113.9');
    expect(addressOf(trusted, '127.0.0.1', '10.9.9.9, 10.1.2.3')).toBe('10.9.9.9');
    expect(addressOf(trusted, '127.0.0.1')).toBe('127.0.0.1');
    // A peer that is not a trusted proxy is the client, whatever it forwards.
    expect(addressOf(trusted, '198.51.100.1', '203.0.113.9')).toBe('198.51.100.1');
    expect(addressOf(['loopback'], '::1', '2001:db8::1')).toBe('2001:db8::1');
  });

  it('with a hop count, skips that many entries from the right', () => {
    expect(addressOf(1, '192.0.2.1', '203.0.113.1, 203.0.113.2')).toBe('203.0.113.2');
    expect(addressOf(2, '192.0.2.1', '203.0.113.1, 203.0.113.2')).toBe('203.0.113.1');
    expect(addressOf(3, '192.0.2.1', '203.0.113.1, 203.0.113.2')).toBe('203.0.113.1');
  });

  it('never takes an entry that is no address: the proxy that reported it is the client then', () => {
    expect(addressOf(['127.0.0.1'], '127.0.0.1', 'not-an-address')).toBe('127.0.0.1');
    expect(addressOf(2, '192.0.2.1', 'junk, 203.0.113.2')).toBe('203.0.113.2');
    expect(addressOf(['127.0.0.1'], '127.0.0.1', '203.0.113.9:4711')).toBe('203.0.113.9');
    expect(addressOf(['127.0.0.1'], '127.0.0.1', '[2001:db8::1]:4711')).toBe('2001:db8::1');
    expect(addressOf(['127.0.0.1'], '127.0.0.1', ',, ,')).toBe('127.0.0.1');
  });

  it('whatever a client sends left of what the trusted proxy appended, the address is what the proxy saw', async () => {
    await checkProperty(
      fc.property(fc.string({ maxLength: 200 }), (sent) => {
        expect(addressOf(['127.0.0.1'], '127.0.0.1', `${sent}, 203.0.113.7`)).toBe('203.0.113.7');
        expect(addressOf(1, '127.0.0.1', `${sent}, 203.0.113.7`)).toBe('203.0.113.7');
      }),
    );
  });
});
