import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/config.js';

function configError(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error(`loadConfig accepted ${JSON.stringify(env)}`);
}

describe('loadConfig', () => {
  it('has safe defaults for the core settings', () => {
    // Other settings (rate limits, refresh tokens, ...) are checked by their own domains' tests.
    expect(loadConfig({})).toMatchObject({
      port: 3000,
      host: '127.0.0.1',
      issuer: 'http://localhost:3000',
      databaseUrl: undefined,
      dataDir: './data',
      accessTokenTtl: 300,
      adminClientId: 'tollgate-admin',
      adminClientSecret: undefined,
      cleanupIntervalSeconds: 300,
      secretCacheSize: 10_000,
      trustedProxies: [],
      metrics: { port: undefined, host: '127.0.0.1', token: undefined },
      logLevel: 'info',
    });
  });

  it('reads TRUSTED_PROXIES as a hop count or a list of addresses and ranges; TRUST_PROXY=true trusts the private ranges', () => {
    expect(loadConfig({ TRUSTED_PROXIES: '2' }).trustedProxies).toBe(2);
    expect(loadConfig({ TRUSTED_PROXIES: '10.0.0.0/8, 127.0.0.1,::1,fd00::/8' }).trustedProxies).toEqual(['10.0.0.0/8', '127.0.0.1', '::1', 'fd00::/8']);
    expect(loadConfig({ TRUST_PROXY: 'true' }).trustedProxies).toEqual(['loopback', 'linklocal', 'uniquelocal']);
    expect(loadConfig({ TRUST_PROXY: 'false' }).trustedProxies).toEqual([]);
    expect(loadConfig({ TRUST_PROXY: 'false', TRUSTED_PROXIES: '1' }).trustedProxies).toBe(1);
    expect(configError({ TRUST_PROXY: 'true', TRUSTED_PROXIES: '1' }).message).toMatch(/^invalid configuration: TRUST_PROXY .*TRUSTED_PROXIES only/);
  });

  it("puts every path under the issuer's path", () => {
    expect(loadConfig({ ISSUER: 'https://example.com/auth/' })).toMatchObject({ issuer: 'https://example.com/auth', issuerPath: '/auth' });
    expect(loadConfig({ ISSUER: 'https://example.com' }).issuerPath).toBe('');
  });

  it('reads every variable, treats empty values as unset and returns a frozen object', () => {
    const config = loadConfig({
      PORT: '8080',
      HOST: '0.0.0.0',
      ISSUER: 'https://auth.example.com/',
      DATABASE_URL: 'postgresql://u:p@db:5432/tollgate',
      DATA_DIR: '/var/lib/tollgate',
      ACCESS_TOKEN_TTL: '3600',
      ADMIN_CLIENT_ID: 'ops.admin',
      ADMIN_CLIENT_SECRET: 'x'.repeat(32),
      CLEANUP_INTERVAL_SECONDS: '60',
      SECRET_CACHE_SIZE: '0',
      TRUST_PROXY: '1',
      METRICS_PORT: '9464',
      METRICS_HOST: '10.0.0.5',
      METRICS_TOKEN: 't'.repeat(32),
      LOG_LEVEL: '',
      UNRELATED: 'ignored',
    });
    expect(config).toMatchObject({
      port: 8080,
      host: '0.0.0.0',
      issuer: 'https://auth.example.com',
      accessTokenTtl: 3600,
      secretCacheSize: 0,
      logLevel: 'info',
    });
    expect(config.trustedProxies).toEqual(['loopback', 'linklocal', 'uniquelocal']);
    expect(config.metrics).toEqual({ port: 9464, host: '10.0.0.5', token: 't'.repeat(32) });
    expect(Object.isFrozen(config)).toBe(true);
    expect(loadConfig({ PORT: '4000' }).issuer).toBe('http://localhost:4000');
  });

  it.each([
    ['PORT', 'abc'],
    ['PORT', '65536'],
    ['PORT', '-1'],
    ['PORT', '80.5'],
    ['ISSUER', 'not a url'],
    ['ISSUER', 'ftp://auth.example.com'],
    ['ISSUER', 'https://auth.example.com/?tenant=1'],
    ['ISSUER', 'https://auth.example.com/#x'],
    ['ACCESS_TOKEN_TTL', 'abc'],
    ['ACCESS_TOKEN_TTL', '0'],
    ['ACCESS_TOKEN_TTL', '3601'],
    ['ACCESS_TOKEN_TTL', '1.5'],
    ['ADMIN_CLIENT_ID', 'has space'],
    ['ADMIN_CLIENT_ID', 'x'.repeat(65)],
    ['CLEANUP_INTERVAL_SECONDS', '0'],
    ['CLEANUP_INTERVAL_SECONDS', '86401'],
    ['SECRET_CACHE_SIZE', '-1'],
    ['SECRET_CACHE_SIZE', '1000001'],
    ['TRUST_PROXY', 'yes'],
    ['TRUSTED_PROXIES', '10.0.0.0/33'],
    ['TRUSTED_PROXIES', 'proxy.example.com'],
    ['TRUSTED_PROXIES', '-1'],
    ['LOG_LEVEL', 'verbose'],
  ])('refuses %s=%s, naming the variable and the value', (name, value) => {
    const { message } = configError({ [name]: value });
    expect(message).toMatch(new RegExp(`^invalid configuration: ${name} `));
    expect(message).toContain(JSON.stringify(value));
  });

  it.each([
    ['ADMIN_CLIENT_SECRET', 'too-short-secret-1234'],
    ['ADMIN_CLIENT_SECRET', `${'s'.repeat(40)} with spaces`],
    ['ADMIN_CLIENT_SECRET', 'ü'.repeat(40)],
    ['DATABASE_URL', 'mysql://tollgate:hunter2-db-password@db.internal:3306/tollgate'],
    ['DATABASE_URL', 'hunter2-db-password'],
    ['METRICS_TOKEN', 'hunter2-short'],
    ['REDIS_URL', 'http://:hunter2@redis.internal:6379'],
  ])('refuses %s without echoing its value', (name, value) => {
    const { message } = configError({ [name]: value });
    expect(message).toMatch(new RegExp(`^invalid configuration: ${name} `));
    expect(message).toContain('<redacted>');
    expect(message).not.toContain(value);
    expect(message).not.toContain('hunter2');
  });

  it('reports the offending variable even when others are valid', () => {
    expect(configError({ PORT: '8080', LOG_LEVEL: 'debug', ACCESS_TOKEN_TTL: 'abc' }).message).toMatch(/^invalid configuration: ACCESS_TOKEN_TTL /);
  });
});

describe('start-up with a bad value', () => {
  it('prints one line naming the variable and exits non-zero, without a stack trace', async () => {
    const main = fileURLToPath(new URL('../../src/main.ts', import.meta.url));
    const tsx = fileURLToPath(new URL('../../node_modules/.bin/tsx', import.meta.url));
    // An empty working directory: no .env to read and no data folder to create.
    const cwd = await mkdtemp(join(tmpdir(), 'tollgate-config-'));
    try {
      const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
        const child = spawn(tsx, [main], { cwd, env: { PATH: process.env.PATH, ACCESS_TOKEN_TTL: 'abc' }, stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        let err = '';
        child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
        child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
        child.once('error', reject);
        child.once('close', (exitCode) => resolve({ code: exitCode, stdout: out, stderr: err }));
      });
      // oidc-provider warns about Node 20 when it is imported; that line is not Tollgate's.
      const lines = stderr.split('\n').filter((line) => line && !line.startsWith('oidc-provider WARNING: Unsupported runtime'));
      expect(lines, stderr).toHaveLength(1);
      expect(lines[0]).toMatch(/^tollgate: invalid configuration: ACCESS_TOKEN_TTL .*"abc"/);
      expect(stderr).not.toMatch(/^\s+at /m);
      expect(stdout).toBe('');
      expect(code).toBe(78);
    } finally {
      await rm(cwd, { recursive: true, force: true });
    }
  });
});
