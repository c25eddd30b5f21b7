// Diagnostic (not part of `npm run bench`): CPU per audit event written by Prisma's createMany and
// by insertAuditEvents (src/audit/insert-events.ts), on a fresh database next to DATABASE_URL.
// Run: DATABASE_URL=... npx tsx bench/audit-cost.mts
import pg from 'pg';
import { insertAuditEvents } from '../src/audit/insert-events.js';
import { openDatabase, type Prisma } from '../src/db/database.js';

const base = new URL(process.env.DATABASE_URL!);
const name = `tollgate_auditcost_${process.pid}`;
const admin = new pg.Client({ connectionString: base.href });
await admin.connect();
await admin.query(`CREATE DATABASE ${name}`);
const url = new URL(base.href);
url.pathname = `/${name}`;
const db = await openDatabase({ url: url.href });
await db.migrate();

const event = (): Prisma.AuditEventCreateManyInput => ({
  time: new Date(),
  type: 'token.introspected',
  outcome: 'success',
  actor: 'resource-server',
  clientId: 'bench-client',
  sourceIp: '127.0.0.1',
  requestId: '9499563a-bfe3-49b6-87ca-e6a23460388d',
  details: { token_id: 'abcdefabcdef', active: true },
});
const writers = {
  createMany: (batch: Prisma.AuditEventCreateManyInput[]) => db.prisma.auditEvent.createMany({ data: batch }).then(() => {}),
  insertAuditEvents: (batch: Prisma.AuditEventCreateManyInput[]) => insertAuditEvents(db, batch),
};
for (const [writer, write] of Object.entries(writers)) {
  for (let round = 0; round < 3; round += 1) {
    const events = 5000;
    const cpu = process.cpuUsage();
    for (let i = 0; i < events; i += 500) await write(Array.from({ length: 500 }, event));
    const used = process.cpuUsage(cpu);
    console.log(`${writer}: ${((used.user + used.system) / events).toFixed(1)} µs CPU per event`);
  }
}
await db.close();
await admin.query(`DROP DATABASE ${name} WITH (FORCE)`);
await admin.end();
