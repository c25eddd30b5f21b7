// Diagnostic (not part of `npm run bench`): client-side CPU per token-table statement, Prisma's
// query builder against raw SQL through the same client. Run: DATABASE_URL=... npx tsx bench/query-cost.mts
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openDatabase, type Prisma } from '../src/db/database.js';

const base = new URL(process.env.DATABASE_URL!);
const name = `tollgate_querycost_${process.pid}`;
const admin = new pg.Client({ connectionString: base.href });
await admin.connect();
await admin.query(`CREATE DATABASE ${name}`);
const url = new URL(base.href);
url.pathname = `/${name}`;
const db = await openDatabase({ url: url.href });
await db.migrate();

const payload = { iat: 1, exp: 2, accountId: undefined, clientId: 'bench-client', kind: 'ClientCredentials', scope: 'read', aud: 'http://x', extra: { sub: 'bench-client' } } as unknown as Prisma.InputJsonObject;
const id = () => randomBytes(32).toString('base64url');
const expiresAt = () => new Date(Date.now() + 300_000);
const pool = new pg.Pool({ connectionString: url.href, max: 4 });
const ops: Record<string, () => Promise<unknown>> = {
  'pg prepared upsert': () =>
    pool.query({
      name: 'upsert',
      text: `INSERT INTO oidc_payloads (model, id, payload, grant_id, uid, user_code, client_id, expires_at)
        VALUES ('ClientCredentials', $1, $2, NULL, NULL, NULL, 'bench-client', $3)
        ON CONFLICT (model, id) DO UPDATE SET payload = EXCLUDED.payload, expires_at = EXCLUDED.expires_at`,
      values: [id(), JSON.stringify(payload), expiresAt()],
    }),
  'pg prepared select': () =>
    pool.query({ name: 'select', text: `SELECT payload, consumed_at FROM oidc_payloads WHERE model = 'ClientCredentials' AND id = $1 AND (expires_at IS NULL OR expires_at > now())`, values: [id()] }),
  'prisma upsert': () => {
    const key = { model: 'ClientCredentials', id: id() };
    const data = { payload, grantId: null, uid: null, userCode: null, clientId: 'bench-client', expiresAt: expiresAt() };
    return db.prisma.oidcPayload.upsert({ where: { model_id: key }, create: { ...key, ...data }, update: data });
  },
  'raw upsert': () =>
    db.prisma.$executeRaw`INSERT INTO oidc_payloads (model, id, payload, grant_id, uid, user_code, client_id, expires_at)
      VALUES ('ClientCredentials', ${id()}, ${JSON.stringify(payload)}::jsonb, NULL, NULL, NULL, 'bench-client', ${expiresAt()})
      ON CONFLICT (model, id) DO UPDATE SET payload = EXCLUDED.payload, expires_at = EXCLUDED.expires_at`,
  'prisma findFirst': () => db.prisma.oidcPayload.findFirst({ where: { id: id(), model: 'ClientCredentials', OR: [{ expiresAt: null }, { expiresAt: { gt: new Date() } }] } }),
  'raw select': () => db.prisma.$queryRaw`SELECT payload, consumed_at FROM oidc_payloads WHERE model = 'ClientCredentials' AND id = ${id()} AND (expires_at IS NULL OR expires_at > now())`,
};
for (const [op, run] of Object.entries(ops)) {
  for (let i = 0; i < 200; i += 1) await run();
  const n = 2000;
  const cpu = process.cpuUsage();
  for (let i = 0; i < n; i += 1) await run();
  const used = process.cpuUsage(cpu);
  console.log(`${op}: ${((used.user + used.system) / n).toFixed(0)} µs CPU per statement`);
}
await pool.end();
await db.close();
await admin.query(`DROP DATABASE ${name} WITH (FORCE)`);
await admin.end();
