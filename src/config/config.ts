// The only reader of process.env: every setting is checked here once, at start-up.
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import proxyaddr from 'proxy-addr';
import { z } from 'zod';
import { DEFAULT_HASH_COST, type HashCost } from '../crypto/argon2.js';
import { ENDPOINT_BUDGETS, type BudgetVariable, type EndpointBudget } from '../http/endpoints.js';

export const MAX_ACCESS_TOKEN_TTL = 3600;
/** How long a sign-in page (an interaction) stays usable. */
export const INTERACTION_TTL = 30 * 60;
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
const trustedProxies = z.string().transform((value, ctx) => {
  if (/^\d{1,2}$/.test(value.trim())) return Number(value);
  const entries = value
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
  try {
    proxyaddr.compile(entries);
    return entries;
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: `must be a hop count or a list of IP addresses and CIDR ranges (${(err as Error).message})` });
    return z.NEVER;
  }
});

/**
 * KEYS_ENCRYPTION_KEY: 32 random bytes, as 64 hex digits or 43 base64url characters. Checked here,
 * so a key of the wrong length stops start-up with one line instead of at the first decryption.
 */
const keyEncryptionKey = z.string().transform((value, ctx) => {
  const text = value.trim();
  const bytes = /^[0-9a-fA-F]{64}$/.test(text) ? Buffer.from(text, 'hex') : /^[\w-]{43}=?$/.test(text) ? Buffer.from(text, 'base64url') : undefined;
  if (bytes?.length === 32) return bytes;
  ctx.addIssue({ code: 'custom', message: 'must be 32 random bytes written as 64 hex digits or 43 base64url characters (openssl rand -hex 32)' });
  return z.NEVER;
});

/** The sections of docs/configuration.md and .env.example, in order, each with what it says of all its variables. */
export const GROUPS = {
  Server: '',
  Storage: '',
  'Tokens and clients': '',
  'Refresh tokens, sign-in, DPoP': '',
  'Rate limits': 'Requests per window; `0` turns one limit off. Over a limit: `429` with `Retry-After`.',
  'Audit trail': '',
  'Signing keys': 'See [Signing keys and rotation](resource-servers.md#signing-keys-and-rotation).',
} as const;

/**
 * What docs/configuration.md and .env.example say of a variable (Markdown); `npm run config:docs`
 * writes them from this and the schema's defaults.
 */
export interface VariableDoc {
  group: keyof typeof GROUPS;
  description: string;
  /** Without a default: what Tollgate does when the variable is unset, if more than "unset". */
  unset?: string;
  /** Without a default: a value for .env.example's commented-out line. */
  example?: string;
  /** Never shown: redacted in error messages; such a variable has no default. */
  secret?: true;
}
export const doc = z.registry<VariableDoc>();

const budgetSize = (size: number) => integer(0, 1_000_000).default(size);

/** RATE_LIMIT_<ENDPOINT>_PER_CLIENT and _PER_IP, for each budget an endpoint declares (src/http/endpoints.ts). */
const endpointBudgetVariables = Object.fromEntries(
  ENDPOINT_BUDGETS.map(({ variable, size, description }) => [variable, budgetSize(size).register(doc, { group: 'Rate limits', description })]),
) as Record<BudgetVariable, ReturnType<typeof budgetSize>>;

const schema = z
  .object({
    PORT: integer(0, 65535).default(3000).register(doc, { group: 'Server', description: 'Port to listen on (`0`: any free port).' }),
    HOST: z.string().min(1).default('127.0.0.1').register(doc, {
      group: 'Server',
      description: 'Address to bind. `0.0.0.0` in a container or behind a proxy on another host.',
    }),
    ISSUER: z
      .url({ protocol: /^https?$/, error: 'must be an http or https URL' })
      .refine((v) => !/[?#]/.test(v), 'must not have a query or fragment')
      .optional()
      .register(doc, {
        group: 'Server',
        description:
          'Public base URL: `iss` and `aud` of every token, and the only source of every URL Tollgate makes (discovery, endpoints, ' +
          'sign-in redirects, cookie paths; `Host` and `X-Forwarded-*` headers are never read). http(s), no query or fragment; ' +
          'a trailing `/` is dropped. With a path (`https://example.com/auth`) every path is served under it (`/auth/token`, ' +
          '`/auth/admin/…`, `/auth/healthz`); see [Behind a reverse proxy](operations.md#behind-a-reverse-proxy). ' +
          'With https, every cookie is `Secure`.',
        unset: '`http://localhost:$PORT`',
        example: 'https://auth.example.com',
      }),
    DATABASE_URL: z
      .string()
      .regex(/^postgres(ql)?:\/\//, 'must be a postgresql:// URL')
      .optional()
      .register(doc, {
        group: 'Storage',
        description: '`postgresql://…` to use PostgreSQL. Unset: the embedded PGlite database in `DATA_DIR`.',
        example: 'postgresql://postgres@127.0.0.1:5432/tollgate',
        secret: true,
      }),
    DATA_DIR: z
      .string()
      .min(1)
      .default('./data')
      .register(doc, {
        group: 'Storage',
        description:
          'The embedded database, `tollgate.lock`, the admin socket, and, without `KEYS_ENCRYPTION_KEY`, the generated key-encryption key ' +
          '`keys-encryption-key`. Kept private: the folder 0700 and its files 0600 whatever the umask; a folder other users can write ' +
          'to, or owned by another user, stops start-up. A `keys.json` of an earlier version found here is imported into the database once.',
      }),
    EMBEDDED_DURABILITY: z
      .enum(['fsync', 'none'])
      .default('fsync')
      .register(doc, {
        group: 'Storage',
        description:
          'How the embedded database writes a commit. `fsync`: on disk (fsync) before the answer, so a power cut or OS crash loses ' +
          "nothing acknowledged. `none`: in the OS's cache only, as PGlite does by default: a crash of Tollgate loses nothing, " +
          'but a power cut or OS crash may lose the last seconds of issued and revoked tokens, or corrupt the database. ' +
          'See [Durability](operations.md#durability-of-the-embedded-database). Ignored with `DATABASE_URL`.',
      }),
    KEYS_ENCRYPTION_KEY: keyEncryptionKey.optional().register(doc, {
      group: 'Signing keys',
      description:
        'The key-encryption key: 32 random bytes (`openssl rand -hex 32`, or 43 base64url characters). Signing keys, cookie keys ' +
        'and the DPoP nonce secret are stored in the database encrypted with it (AES-256-GCM). Every instance sharing a ' +
        'database needs the same one; starting with another stops with one line. Set it in production, kept apart from the ' +
        'database and its backups.',
      unset: 'generated once into `DATA_DIR/keys-encryption-key` (mode 0600); with `DATABASE_URL`, a warning at start-up',
      example: '<64 hex digits>',
      secret: true,
    }),
    KEY_ROTATION_DAYS: integer(0, 3650)
      .default(0)
      .register(doc, {
        group: 'Signing keys',
        description:
          'Start a key rotation (signing and cookie keys) every this many days; the new keys are published `JWKS_CACHE_SECONDS` ' +
          'before they sign, so the period must be longer than twice that. `0`: only when asked (`POST /admin/keys/rotate`, `npm run admin -- keys rotate`).',
      }),
    JWKS_CACHE_SECONDS: integer(0, 7 * 86400)
      .default(600)
      .register(doc, {
        group: 'Signing keys',
        description:
          '`Cache-Control: max-age` of `/jwks`, and so how long a new key is published before it signs: a verifier that ' +
          'fetched the key set just before a rotation knows the new key when it first sees it.',
      }),
    ACCESS_TOKEN_TTL: integer(1, MAX_ACCESS_TOKEN_TTL).default(300).register(doc, {
      group: 'Tokens and clients',
      description: "Default access-token lifetime in seconds, 1–3600. A client's `access_token_ttl` overrides it (max 3600).",
    }),
    DEFAULT_RESOURCE: z
      .string()
      .max(2000)
      .refine((value) => URL.canParse(value) && !value.includes('#'), 'must be an absolute URI without a fragment')
      .optional()
      .register(doc, {
        group: 'Tokens and clients',
        description:
          'The `identifier` of a resource server that token requests without `resource` (RFC 8707) are for: their tokens get its ' +
          "audience, scopes, format and lifetime. Requests for scope `admin` stay the issuer's (the admin API).",
        unset: 'a token request without `resource` gets an opaque token whose audience is the issuer.',
        example: 'https://api.example.com',
      }),
    ADMIN_CLIENT_ID: z
      .string()
      .regex(/^[\w.~-]{1,64}$/, 'must be 1-64 of A-Z a-z 0-9 . _ ~ -')
      .default('tollgate-admin')
      .register(doc, {
        group: 'Tokens and clients',
        description: 'Id of the admin client created on first start.',
      }),
    ADMIN_CLIENT_SECRET: z
      .string()
      .regex(/^[\x21-\x7e]{32,256}$/, 'must be 32-256 printable ASCII characters')
      .optional()
      .register(doc, {
        group: 'Tokens and clients',
        description:
          "The admin client's secret (32–256 printable ASCII). Unset: generated and shown once, on stderr when it is a terminal, " +
          'otherwise in `DATA_DIR/admin-client-secret.txt` (mode 0600; the log names it). Used only when the admin client is created.',
        secret: true,
      }),
    CLEANUP_INTERVAL_SECONDS: integer(1, 86400).default(300).register(doc, {
      group: 'Storage',
      description: 'How often expired tokens, grants and sessions are deleted.',
    }),
    SECRET_CACHE_SIZE: integer(0, 1_000_000)
      .default(10_000)
      .register(doc, {
        group: 'Tokens and clients',
        description:
          'Successful secret verifications remembered in memory (keyed by client and SHA-256 of the secret), so argon2id runs once ' +
          'per client and secret, not per request. `0`: verify every time.',
      }),
    ARGON2_CONCURRENCY: integer(1, 1024)
      .optional()
      .register(doc, {
        group: 'Tokens and clients',
        description:
          'argon2 verifications (client secrets, user passwords) run at once. Each keeps a core busy (~150 ms of CPU at the ' +
          'production cost); the default leaves one core to the event loop, which serves everything else.',
        unset: 'cores − 1 (at least 1)',
        example: '2',
      }),
    ARGON2_QUEUE_MAX: integer(0, 100_000)
      .default(16)
      .register(doc, {
        group: 'Tokens and clients',
        description:
          'argon2 verifications that may wait for a place; past it a request that needs one gets `503 temporarily_unavailable` ' +
          'with `Retry-After: 1` at once. A remembered secret needs none.',
      }),
    TRUSTED_PROXIES: trustedProxies.optional().register(doc, {
      group: 'Server',
      description:
        'The reverse proxies whose `X-Forwarded-For` entries are believed, for the client address (rate limits, audit): a ' +
        'comma-separated list of addresses and CIDR ranges (`10.0.0.0/8,127.0.0.1,::1`; also `loopback`, `linklocal`, ' +
        '`uniquelocal`), or a number of proxy hops (`1`). The address is the rightmost entry not added by a trusted proxy. ' +
        "Unset: the TCP peer's address.",
      example: '127.0.0.1,::1',
    }),
    TRUST_PROXY: bool.optional().register(doc, {
      group: 'Server',
      description:
        'The older switch: `true` is `TRUSTED_PROXIES=loopback,linklocal,uniquelocal` (127.0.0.0/8, ::1, 10.0.0.0/8, ' +
        '172.16.0.0/12, 192.168.0.0/16, 169.254.0.0/16, fc00::/7, fe80::/10). Not together with `TRUSTED_PROXIES`.',
      unset: '`false`',
      example: 'true',
    }),
    REFRESH_TOKEN_IDLE_TTL: integer(60, MAX_REFRESH_TOKEN_TTL)
      .default(14 * 86400)
      .register(doc, {
        group: 'Refresh tokens, sign-in, DPoP',
        description: 'A refresh-token family dies after this many seconds unused, and in any case `REFRESH_TOKEN_ABSOLUTE_TTL` after sign-in.',
      }),
    REFRESH_TOKEN_ABSOLUTE_TTL: integer(60, MAX_REFRESH_TOKEN_TTL)
      .default(90 * 86400)
      .register(doc, {
        group: 'Refresh tokens, sign-in, DPoP',
        description: 'A refresh-token family dies this many seconds after sign-in, however recently it was used.',
      }),
    REFRESH_REUSE_GRACE_SECONDS: integer(0, MAX_REFRESH_REUSE_GRACE).default(0).register(doc, {
      group: 'Refresh tokens, sign-in, DPoP',
      description: '0–60: how long a just-rotated refresh token may be used once more without revoking its grant.',
    }),
    SESSION_TTL: integer(60, 30 * 86400)
      .default(8 * 3600)
      .register(doc, {
        group: 'Refresh tokens, sign-in, DPoP',
        description: 'How long a browser sign-in lasts before the user is asked again.',
      }),
    CONSOLE_SESSION_TTL: integer(60, 86400)
      .default(1800)
      .register(doc, {
        group: 'Refresh tokens, sign-in, DPoP',
        description:
          'Seconds a web console session lasts from sign-in; then the administrator enters the password again. ' + 'See [Web console](console.md#web-console).',
      }),
    DPOP_REQUIRE_NONCE: bool.default(false).register(doc, {
      group: 'Refresh tokens, sign-in, DPoP',
      description: 'Require server-issued nonces in DPoP proofs (RFC 9449).',
    }),
    LOG_LEVEL: z
      .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
      .default('info')
      .register(doc, {
        group: 'Server',
        description:
          '`fatal`, `error`, `warn`, `info`, `debug`, `trace` or `silent`. At `info`, one JSON line per request: method, path ' +
          '(a route by its pattern, such as `/admin/clients/:id`, whatever the status; `/admin/*` for an unknown path under a ' +
          "router's prefix; in any other path, a segment longer than 16 characters or unusual as `:redacted`), status, duration and request id.",
      }),
    RATE_LIMIT_ENABLED: bool.default(true).register(doc, { group: 'Rate limits', description: 'Master switch for all limits.' }),
    RATE_LIMIT_WINDOW_SECONDS: integer(1, 3600).default(60).register(doc, { group: 'Rate limits', description: 'Window of the request limits below.' }),
    ...endpointBudgetVariables,
    RATE_LIMIT_ADMIN_PER_CLIENT: integer(0, 1_000_000).default(600).register(doc, { group: 'Rate limits', description: '`/admin` per admin client.' }),
    RATE_LIMIT_ADMIN_PER_IP: integer(0, 1_000_000).default(600).register(doc, { group: 'Rate limits', description: '`/admin` per source address.' }),
    RATE_LIMIT_FAILURE_WINDOW_SECONDS: integer(1, 86400)
      .default(900)
      .register(doc, {
        group: 'Rate limits',
        description:
          'Window of the failure limits below (failed client authentications and sign-ins); past one, attempts that need a ' +
          'secret or password verified are refused until the window ends. A remembered client secret is still accepted.',
      }),
    RATE_LIMIT_CLIENT_AUTH_FAILURES: integer(0, 1_000_000).default(20).register(doc, {
      group: 'Rate limits',
      description: 'Wrong secrets per client id and source address (never per client alone: nobody elsewhere can lock a client out).',
    }),
    RATE_LIMIT_CLIENT_AUTH_FAILURES_PER_IP: integer(0, 1_000_000).default(50).register(doc, {
      group: 'Rate limits',
      description: 'Failed client authentications (unknown ids and missing credentials too) per source address.',
    }),
    RATE_LIMIT_AUDITED_FAILURES_PER_IP: integer(0, 1_000_000)
      .default(60)
      .register(doc, {
        group: 'Rate limits',
        description:
          'Failed token, introspection and revocation requests of callers that did not authenticate, recorded in the audit ' +
          'trail per source address and `RATE_LIMIT_WINDOW_SECONDS`; past it they are only counted.',
      }),
    RATE_LIMIT_LOGIN_FAILURES_PER_USER: integer(0, 1_000_000)
      .default(5)
      .register(doc, {
        group: 'Rate limits',
        description:
          'Failed sign-ins per user (by name or e-mail address), from any address, before each address failing for the user ' +
          'must wait between attempts. Never refuses the user.',
      }),
    RATE_LIMIT_LOGIN_FAILURES_PER_IP: integer(0, 1_000_000).default(20).register(doc, {
      group: 'Rate limits',
      description: 'Failed sign-ins per source address (an IPv6 address: its /64), unknown logins too.',
    }),
    RATE_LIMIT_LOGIN_FAILURES_PER_USER_IP: integer(0, 1_000_000).default(10).register(doc, {
      group: 'Rate limits',
      description: 'Failed sign-ins per user and source address; past it that user is refused from that address.',
    }),
    RATE_LIMIT_LOGIN_MAX_DELAY_SECONDS: integer(1, 3600)
      .default(60)
      .register(doc, {
        group: 'Rate limits',
        description:
          'Longest wait after a failure, 1–3600: past `RATE_LIMIT_LOGIN_FAILURES_PER_USER` an address waits 1 s after its ' +
          'failure for the user, doubling with each further failure.',
      }),
    REDIS_URL: z
      .string()
      .regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL')
      .optional()
      .register(doc, {
        group: 'Rate limits',
        description:
          '`redis://` or `rediss://`: keep rate-limit counters in Redis, shared by all instances. Unset: in memory. If Redis ' +
          'fails, in-memory limits take over.',
        example: 'redis://127.0.0.1:6379',
        secret: true,
      }),
    REDIS_KEY_PREFIX: z
      .string()
      .regex(/^[\w:.-]{1,64}$/, 'must be 1-64 of A-Z a-z 0-9 _ : . -')
      .default('tollgate:rl:')
      .register(doc, {
        group: 'Rate limits',
        description: "Prefix of Tollgate's Redis keys.",
      }),
    REDIS_TIMEOUT_MS: integer(10, 10_000)
      .default(500)
      .register(doc, {
        group: 'Rate limits',
        description:
          'A Redis call slower than this many milliseconds is answered by the in-memory limiter; after two such calls in a row ' +
          'Redis counts as down (connection dropped, memory answers at once) until it answers again.',
      }),
    METRICS_PORT: integer(0, 65535).optional().register(doc, {
      group: 'Server',
      description: 'Serve `GET /metrics` on this port only, on `METRICS_HOST`, without a token.',
      example: '9464',
    }),
    METRICS_HOST: z.string().min(1).default('127.0.0.1').register(doc, { group: 'Server', description: 'Address the `METRICS_PORT` listener binds.' }),
    METRICS_TOKEN: z
      .string()
      .regex(/^[\x21-\x7e]{32,256}$/, 'must be 32-256 printable ASCII characters')
      .optional()
      .register(doc, {
        group: 'Server',
        description:
          'Without `METRICS_PORT`: `GET /metrics` on the main port answers only requests with `Authorization: Bearer <METRICS_TOKEN>` ' +
          '(32–256 printable ASCII; `401` otherwise). Unset, and without `METRICS_PORT`, `/metrics` is not served (`404`).',
        secret: true,
      }),
    GATEWAY_PORT: integer(0, 65535)
      .optional()
      .register(doc, {
        group: 'Server',
        description:
          'Serve the gateway check (`/gateway/check`, for nginx `auth_request`, Caddy `forward_auth`, Traefik ForwardAuth, Envoy `ext_authz`) ' +
          "on this port only, on `GATEWAY_HOST`; its callers' forwarded headers are believed. See [Checking tokens at your gateway](gateway.md).",
        unset: 'no gateway check is served (the main port answers `404` for `/gateway/*` either way)',
        example: '3002',
      }),
    GATEWAY_HOST: z.string().min(1).default('127.0.0.1').register(doc, { group: 'Server', description: 'Address the `GATEWAY_PORT` listener binds.' }),
    GATEWAY_KEY: z
      .string()
      .regex(/^[\x21-\x7e]{32,256}$/, 'must be 32-256 printable ASCII characters')
      .optional()
      .register(doc, {
        group: 'Server',
        description: 'Callers of `GATEWAY_PORT` must send `X-Gateway-Key: <GATEWAY_KEY>` (32–256 printable ASCII; `401` otherwise).',
        unset: 'any caller that reaches `GATEWAY_PORT` may ask',
        secret: true,
      }),
    AUDIT_RETENTION_DAYS: integer(0, 36500).default(90).register(doc, {
      group: 'Audit trail',
      description: 'Days audit events are kept (`0`: forever); pruned hourly.',
    }),
    AUDIT_FLUSH_INTERVAL_MS: integer(10, 60_000)
      .default(200)
      .register(doc, {
        group: 'Audit trail',
        description:
          'Audit events are written in batches this often, in milliseconds, or at once when 500 are queued (and on shutdown): ' +
          'what a crash can lose is the events of this interval.',
      }),
    AUDIT_QUEUE_MAX: integer(100, 10_000_000).default(100_000).register(doc, {
      group: 'Audit trail',
      description: 'Most events queued in memory; past it the oldest are dropped and logged.',
    }),
    AUDIT_INTROSPECTIONS: z
      .enum(['aggregate', 'each'])
      .default('aggregate')
      .register(doc, {
        group: 'Audit trail',
        description:
          '`aggregate`: active introspection answers and the gateway checks let through are recorded as one row per caller, ' +
          'token client, audience and minute, with their `count` and first and last times, written when the minute is over ' +
          '(and on shutdown); `each`: one row per answer. Inactive answers and failures are one row each either way.',
      }),
    SHUTDOWN_TIMEOUT_SECONDS: integer(1, 600).default(10).register(doc, {
      group: 'Server',
      description: 'On SIGTERM/SIGINT, how long in-flight requests may finish before their connections are closed.',
    }),
    DB_POOL_MAX: integer(1, 1000).default(10).register(doc, { group: 'Storage', description: 'PostgreSQL connections per process.' }),
    DB_CONNECT_TIMEOUT_MS: integer(100, 60_000).default(3000).register(doc, {
      group: 'Storage',
      description: 'Give up waiting for a PostgreSQL connection after this many milliseconds (requests then get 503).',
    }),
    DB_STARTUP_TIMEOUT_SECONDS: integer(0, 3600)
      .default(30)
      .register(doc, {
        group: 'Storage',
        description:
          'At start-up, an unreachable PostgreSQL (refused, timed out, starting up, database not created yet) is tried again with ' +
          'backoff for this long, each attempt logged as a warning; then start-up stops with one line saying what failed. ' +
          '`0`: try once. See [Start-up](operations.md#start-up).',
      }),
    DB_STATEMENT_TIMEOUT_MS: integer(100, 600_000).default(10_000).register(doc, {
      group: 'Storage',
      description: 'PostgreSQL cancels a statement running longer than this many milliseconds.',
    }),
    WEB_CONCURRENCY: integer(1, 64)
      .default(1)
      .register(doc, {
        group: 'Server',
        description:
          'Worker processes sharing the port (node:cluster). Above 1 needs `DATABASE_URL`. The workers share the in-memory ' +
          "rate limits (each budget is the instance's) and `/metrics` (their sum); each has its own `DB_POOL_MAX` connections.",
      }),
    TOKEN_CACHE_SIZE: integer(0, 10_000_000)
      .default(100_000)
      .register(doc, {
        group: 'Tokens and clients',
        description:
          'Active tokens kept in memory for fast introspection. A revocation evicts the token here at once and on the other ' +
          'instances through PostgreSQL `LISTEN/NOTIFY`. `0`: off.',
      }),
    CLIENT_CACHE_SIZE: integer(0, 1_000_000).default(10_000).register(doc, {
      group: 'Tokens and clients',
      description: 'Enabled clients kept in memory for token and introspection requests. `0`: off (always read the database).',
    }),
  })
  // The embedded database is a folder one process opens; only PostgreSQL can be shared by workers.
  .refine((env) => env.WEB_CONCURRENCY === 1 || env.DATABASE_URL, {
    path: ['WEB_CONCURRENCY'],
    message: 'above 1 needs DATABASE_URL: the embedded database (DATA_DIR) can be opened by one process only',
  })
  // A scheduled rotation starts JWKS_CACHE_SECONDS before its keys sign: it must fit in the period.
  .refine((env) => env.KEY_ROTATION_DAYS === 0 || env.KEY_ROTATION_DAYS * 86400 > 2 * env.JWKS_CACHE_SECONDS, {
    path: ['KEY_ROTATION_DAYS'],
    message: 'must be 0 or longer than twice JWKS_CACHE_SECONDS (new keys are published that long before they sign)',
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
    embeddedDurability: env.EMBEDDED_DURABILITY,
    keys: { encryptionKey: env.KEYS_ENCRYPTION_KEY, rotationDays: env.KEY_ROTATION_DAYS, jwksCacheSeconds: env.JWKS_CACHE_SECONDS },
    accessTokenTtl: env.ACCESS_TOKEN_TTL,
    /** The resource server a token request without `resource` is for (RFC 8707); undefined: the issuer. */
    defaultResource: env.DEFAULT_RESOURCE,
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
    consoleSessionTtl: env.CONSOLE_SESSION_TTL,
    dpopRequireNonce: env.DPOP_REQUIRE_NONCE,
    logLevel: env.LOG_LEVEL,
    rateLimit: {
      enabled: env.RATE_LIMIT_ENABLED,
      windowSeconds: env.RATE_LIMIT_WINDOW_SECONDS,
      /** The endpoints' budgets (src/http/endpoints.ts), by limit name. */
      endpoints: Object.fromEntries(ENDPOINT_BUDGETS.map(({ name, variable }) => [name, env[variable]])) as Record<EndpointBudget, number>,
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
    gateway: { port: env.GATEWAY_PORT, host: env.GATEWAY_HOST, key: env.GATEWAY_KEY },
    audit: {
      retentionDays: env.AUDIT_RETENTION_DAYS,
      flushIntervalMs: env.AUDIT_FLUSH_INTERVAL_MS,
      queueMax: env.AUDIT_QUEUE_MAX,
      introspections: env.AUDIT_INTROSPECTIONS,
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

/** Every environment variable Tollgate reads, by name. */
export const variables = schema.in.shape;
const secretVariables = new Set(
  Object.entries(variables)
    .filter(([, variable]) => doc.get(variable)?.secret)
    .map(([name]) => name),
);

export class ConfigError extends Error {}

/** Reads the configuration from `env`; an empty value counts as unset. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const result = schema.safeParse(present);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const name = String(issue.path[0]);
    throw new ConfigError(
      `invalid configuration: ${name} ${issue.message} (got ${JSON.stringify(present[name] === undefined ? null : secretVariables.has(name) ? '<redacted>' : present[name])})`,
    );
  }
  return Object.freeze(result.data);
}

/** Reads ./.env, if there is one, into the environment; variables already set win. */
export function loadDotEnv(path = '.env'): void {
  if (existsSync(path)) process.loadEnvFile(path);
}
