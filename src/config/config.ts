// The only reader of process.env: every setting is checked here once, at start-up.
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import proxyaddr from 'proxy-addr';
import { z } from 'zod';
import { DEFAULT_HASH_COST, type HashCost } from '../clients/secrets.js';

export const MAX_ACCESS_TOKEN_TTL = 3600;
/** Longest refresh-token lifetime (idle or absolute) Tollgate accepts: two years. */
export const MAX_REFRESH_TOKEN_TTL = 2 * 366 * 86400;
export const MAX_REFRESH_REUSE_GRACE = 60;

const integer = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const bool = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');

/** What TRUST_PROXY=true means: a proxy on the same host or a private network (proxy-addr's names for them). */
export const PRIVATE_PROXIES = ['loopback', 'linklocal', 'uniquelocal'] as const;

/**
 * TRUSTED_PROXIES: a number of proxy hops in front of Tollgate, or a comma-separated list of the
 * proxies' addresses and CIDR ranges (and proxy-addr's names loopback, linklocal, uniquelocal).
 */
const trustedProxies = z
  .string()
  .transform((value, ctx) => {
    if (/^\d{1,2}$/.test(value.trim())) return Number(value);
    const entries = value.split(',').map((entry) => entry.trim()).filter(Boolean);
    try {
      proxyaddr.compile(entries);
      return entries;
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: `must be a hop count or a list of IP addresses and CIDR ranges (${(err as Error).message})` });
      return z.NEVER;
    }
  });

const schema = z
  .object({
    PORT: integer(0, 65535).default(3000),
    HOST: z.string().min(1).default('127.0.0.1'),
    ISSUER: z
      .url({ protocol: /^https?$/, error: 'must be an http or https URL' })
      .refine((v) => !/[?#]/.test(v), 'must not have a query or fragment')
      .optional(),
    DATABASE_URL: z
      .string()
      .regex(/^postgres(ql)?:\/\//, 'must be a postgresql:// URL')
      .optional(),
    DATA_DIR: z.string().min(1).default('./data'),
    ACCESS_TOKEN_TTL: integer(1, MAX_ACCESS_TOKEN_TTL).default(300),
    ADMIN_CLIENT_ID: z.string().regex(/^[\w.~-]{1,64}$/, 'must be 1-64 of A-Z a-z 0-9 . _ ~ -').default('tollgate-admin'),
    ADMIN_CLIENT_SECRET: z.string().regex(/^[\x21-\x7e]{32,256}$/, 'must be 32-256 printable ASCII characters').optional(),
    CLEANUP_INTERVAL_SECONDS: integer(1, 86400).default(300),
    SECRET_CACHE_SIZE: integer(0, 1_000_000).default(10_000),
    // argon2 verifications (client secrets, user passwords) at once, and how many may wait; beyond
    // that a request is answered 503 temporarily_unavailable at once. A verification keeps a core
    // busy; by default one core is left to the event loop, which serves everything else.
    ARGON2_CONCURRENCY: integer(1, 1024).optional(),
    ARGON2_QUEUE_MAX: integer(0, 100_000).default(16),
    TRUSTED_PROXIES: trustedProxies.optional(),
    TRUST_PROXY: bool.optional(),
    // A refresh-token family dies after this long unused, and in any case this long after sign-in.
    REFRESH_TOKEN_IDLE_TTL: integer(60, MAX_REFRESH_TOKEN_TTL).default(14 * 86400),
    REFRESH_TOKEN_ABSOLUTE_TTL: integer(60, MAX_REFRESH_TOKEN_TTL).default(90 * 86400),
    REFRESH_REUSE_GRACE_SECONDS: integer(0, MAX_REFRESH_REUSE_GRACE).default(0),
    // How long a sign-in on the login page lasts in the browser before the user is asked again.
    SESSION_TTL: integer(60, 30 * 86400).default(8 * 3600),
    DPOP_REQUIRE_NONCE: bool.default(false),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    // Operations. Rate limits count requests per RATE_LIMIT_WINDOW_SECONDS; 0 turns one off.
    RATE_LIMIT_ENABLED: bool.default(true),
    RATE_LIMIT_WINDOW_SECONDS: integer(1, 3600).default(60),
    RATE_LIMIT_TOKEN_PER_CLIENT: integer(0, 1_000_000).default(600),
    RATE_LIMIT_TOKEN_PER_IP: integer(0, 1_000_000).default(1200),
    RATE_LIMIT_INTROSPECT_PER_CLIENT: integer(0, 1_000_000).default(6000),
    RATE_LIMIT_INTROSPECT_PER_IP: integer(0, 1_000_000).default(12000),
    RATE_LIMIT_REVOKE_PER_CLIENT: integer(0, 1_000_000).default(600),
    RATE_LIMIT_REVOKE_PER_IP: integer(0, 1_000_000).default(1200),
    RATE_LIMIT_ADMIN_PER_CLIENT: integer(0, 1_000_000).default(600),
    RATE_LIMIT_ADMIN_PER_IP: integer(0, 1_000_000).default(600),
    // Failed authentications (client secrets, user passwords) per RATE_LIMIT_FAILURE_WINDOW_SECONDS;
    // past the limit, attempts that would need an argon2 verification are refused until the window ends.
    RATE_LIMIT_FAILURE_WINDOW_SECONDS: integer(1, 86400).default(900),
    // Wrong client secrets per client id and address, and failed client authentications per address.
    RATE_LIMIT_CLIENT_AUTH_FAILURES: integer(0, 1_000_000).default(20),
    RATE_LIMIT_CLIENT_AUTH_FAILURES_PER_IP: integer(0, 1_000_000).default(50),
    // Failed token-endpoint requests of callers that did not authenticate, recorded in the audit
    // trail per address and RATE_LIMIT_WINDOW_SECONDS; beyond it they are only counted.
    RATE_LIMIT_AUDITED_FAILURES_PER_IP: integer(0, 1_000_000).default(60),
    RATE_LIMIT_LOGIN_FAILURES_PER_USER: integer(0, 1_000_000).default(5),
    RATE_LIMIT_LOGIN_FAILURES_PER_IP: integer(0, 1_000_000).default(20),
    // Sign-in failures refuse an address, or a user at one address, but never a user everywhere:
    // past RATE_LIMIT_LOGIN_FAILURES_PER_USER (from any address) each address that fails for the
    // user waits before its next attempt, 1 s doubling up to RATE_LIMIT_LOGIN_MAX_DELAY_SECONDS.
    RATE_LIMIT_LOGIN_FAILURES_PER_USER_IP: integer(0, 1_000_000).default(10),
    RATE_LIMIT_LOGIN_MAX_DELAY_SECONDS: integer(1, 3600).default(60),
    REDIS_URL: z
      .string()
      .regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL')
      .optional(),
    REDIS_KEY_PREFIX: z.string().regex(/^[\w:.-]{1,64}$/, 'must be 1-64 of A-Z a-z 0-9 _ : . -').default('tollgate:rl:'),
    REDIS_TIMEOUT_MS: integer(10, 10_000).default(500),
    METRICS_PORT: integer(0, 65535).optional(),
    METRICS_HOST: z.string().min(1).default('127.0.0.1'),
    METRICS_TOKEN: z.string().regex(/^[\x21-\x7e]{32,256}$/, 'must be 32-256 printable ASCII characters').optional(),
    AUDIT_RETENTION_DAYS: integer(0, 36500).default(90),
    AUDIT_FLUSH_INTERVAL_MS: integer(10, 60_000).default(1000),
    AUDIT_QUEUE_MAX: integer(100, 10_000_000).default(100_000),
    SHUTDOWN_TIMEOUT_SECONDS: integer(1, 600).default(10),
    DB_POOL_MAX: integer(1, 1000).default(10),
    DB_CONNECT_TIMEOUT_MS: integer(100, 60_000).default(3000),
    // At start-up an unreachable database is tried again for this long (containers start before their database).
    DB_STARTUP_TIMEOUT_SECONDS: integer(0, 3600).default(30),
    DB_STATEMENT_TIMEOUT_MS: integer(100, 600_000).default(10_000),
    // Performance: worker processes sharing the port, and the in-process caches' bounds.
    WEB_CONCURRENCY: integer(1, 64).default(1),
    TOKEN_CACHE_SIZE: integer(0, 10_000_000).default(100_000),
    CLIENT_CACHE_SIZE: integer(0, 1_000_000).default(10_000),
  })
  // The embedded database is a folder one process opens; only PostgreSQL can be shared by workers.
  .refine((env) => env.WEB_CONCURRENCY === 1 || env.DATABASE_URL, {
    path: ['WEB_CONCURRENCY'],
    message: 'above 1 needs DATABASE_URL: the embedded database (DATA_DIR) can be opened by one process only',
  })
  .refine((env) => !env.TRUST_PROXY || env.TRUSTED_PROXIES === undefined, {
    path: ['TRUST_PROXY'],
    message: 'and TRUSTED_PROXIES are both set: set TRUSTED_PROXIES only',
  })
  .transform((env) => ({
    port: env.PORT,
    host: env.HOST,
    issuer: (env.ISSUER ?? `http://localhost:${env.PORT}`).replace(/\/$/, ''),
    /** The issuer's path ('' for none): every path Tollgate serves is under it. */
    issuerPath: new URL(env.ISSUER ?? 'http://localhost').pathname.replace(/\/$/, ''),
    databaseUrl: env.DATABASE_URL,
    dataDir: env.DATA_DIR,
    accessTokenTtl: env.ACCESS_TOKEN_TTL,
    adminClientId: env.ADMIN_CLIENT_ID,
    adminClientSecret: env.ADMIN_CLIENT_SECRET,
    cleanupIntervalSeconds: env.CLEANUP_INTERVAL_SECONDS,
    secretCacheSize: env.SECRET_CACHE_SIZE,
    argon2: { concurrency: env.ARGON2_CONCURRENCY ?? Math.max(1, availableParallelism() - 1), queueMax: env.ARGON2_QUEUE_MAX },
    /** Proxies whose X-Forwarded-For entries are believed: a hop count, or addresses and ranges (src/http/client-address.ts). */
    trustedProxies: env.TRUSTED_PROXIES ?? (env.TRUST_PROXY ? [...PRIVATE_PROXIES] : []),
    refreshTokenIdleTtl: env.REFRESH_TOKEN_IDLE_TTL,
    refreshTokenAbsoluteTtl: env.REFRESH_TOKEN_ABSOLUTE_TTL,
    refreshReuseGraceSeconds: env.REFRESH_REUSE_GRACE_SECONDS,
    sessionTtl: env.SESSION_TTL,
    dpopRequireNonce: env.DPOP_REQUIRE_NONCE,
    logLevel: env.LOG_LEVEL,
    rateLimit: {
      enabled: env.RATE_LIMIT_ENABLED,
      windowSeconds: env.RATE_LIMIT_WINDOW_SECONDS,
      tokenPerClient: env.RATE_LIMIT_TOKEN_PER_CLIENT,
      tokenPerIp: env.RATE_LIMIT_TOKEN_PER_IP,
      introspectPerClient: env.RATE_LIMIT_INTROSPECT_PER_CLIENT,
      introspectPerIp: env.RATE_LIMIT_INTROSPECT_PER_IP,
      revokePerClient: env.RATE_LIMIT_REVOKE_PER_CLIENT,
      revokePerIp: env.RATE_LIMIT_REVOKE_PER_IP,
      adminPerClient: env.RATE_LIMIT_ADMIN_PER_CLIENT,
      adminPerIp: env.RATE_LIMIT_ADMIN_PER_IP,
      failureWindowSeconds: env.RATE_LIMIT_FAILURE_WINDOW_SECONDS,
      clientAuthFailures: env.RATE_LIMIT_CLIENT_AUTH_FAILURES,
      clientAuthFailuresPerIp: env.RATE_LIMIT_CLIENT_AUTH_FAILURES_PER_IP,
      auditedFailuresPerIp: env.RATE_LIMIT_AUDITED_FAILURES_PER_IP,
      loginFailuresPerUser: env.RATE_LIMIT_LOGIN_FAILURES_PER_USER,
      loginFailuresPerIp: env.RATE_LIMIT_LOGIN_FAILURES_PER_IP,
      loginFailuresPerUserIp: env.RATE_LIMIT_LOGIN_FAILURES_PER_USER_IP,
      loginMaxDelaySeconds: env.RATE_LIMIT_LOGIN_MAX_DELAY_SECONDS,
    },
    redis: env.REDIS_URL ? { url: env.REDIS_URL, keyPrefix: env.REDIS_KEY_PREFIX, timeoutMs: env.REDIS_TIMEOUT_MS } : undefined,
    metrics: { port: env.METRICS_PORT, host: env.METRICS_HOST, token: env.METRICS_TOKEN },
    audit: {
      retentionDays: env.AUDIT_RETENTION_DAYS,
      flushIntervalMs: env.AUDIT_FLUSH_INTERVAL_MS,
      queueMax: env.AUDIT_QUEUE_MAX,
    },
    shutdownTimeoutSeconds: env.SHUTDOWN_TIMEOUT_SECONDS,
    // Deliberately not read from the environment, so no deployment can weaken it by accident; only
    // code that builds a Config itself (the tests, to hash hundreds of secrets cheaply) sets another.
    hashCost: DEFAULT_HASH_COST as HashCost,
    dbPool: {
      max: env.DB_POOL_MAX,
      connectTimeoutMs: env.DB_CONNECT_TIMEOUT_MS,
      statementTimeoutMs: env.DB_STATEMENT_TIMEOUT_MS,
    },
    dbStartupTimeoutSeconds: env.DB_STARTUP_TIMEOUT_SECONDS,
    webConcurrency: env.WEB_CONCURRENCY,
    tokenCacheSize: env.TOKEN_CACHE_SIZE,
    clientCacheSize: env.CLIENT_CACHE_SIZE,
  }));

export type Config = Readonly<z.output<typeof schema>>;

export class ConfigError extends Error {}

/** Reads the configuration from `env`; an empty value counts as unset. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const result = schema.safeParse(present);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const name = String(issue.path[0]);
    throw new ConfigError(`invalid configuration: ${name} ${issue.message} (got ${JSON.stringify(present[name] === undefined ? null : /_SECRET$|_TOKEN$|^DATABASE_URL$|^REDIS_URL$/.test(name) ? '<redacted>' : present[name])})`);
  }
  return Object.freeze(result.data);
}

/** Reads ./.env, if there is one, into the environment; variables already set win. */
export function loadDotEnv(path = '.env'): void {
  if (existsSync(path)) process.loadEnvFile(path);
}
