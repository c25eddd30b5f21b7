// What a frozen or dead Redis costs the requests: the compiled server (as `npm start`) keeps its rate
// limits in a redis-server of this script's own, which is healthy, then frozen (SIGSTOP), thawed,
// killed and started again. Each phase sends the same token requests from a few concurrent loops and
// prints their latency; how long Redis took to be used again is printed too.
//   npx tsc -p tsconfig.build.json && npx tsx bench/redis-freeze.ts [--requests 400] [--concurrency 4]
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { clientCredentialsToken, registerClient } from '../test/helpers/oauth.js';
import { metricValue } from '../test/helpers/ops.js';
import { redisServerProgram, startRedisServer } from '../test/helpers/redis-server.js';
import { startTollgate } from './servers.js';

const { values } = parseArgs({ options: { requests: { type: 'string', default: '400' }, concurrency: { type: 'string', default: '4' } } });
const REQUESTS = Number(values.requests);
const CONCURRENCY = Number(values.concurrency);
const METRICS_TOKEN = 'bench-metrics-token-0123456789abcdefghijklmnopqrstuvwxyz';

const program = redisServerProgram();
if (!program) throw new Error('redis-server is not installed');
const redis = await startRedisServer(program);
const server = await startTollgate(
  // The limits are counted (in Redis, or in memory while it is down) but set out of the way of the load.
  {
    RATE_LIMIT_ENABLED: 'true',
    RATE_LIMIT_TOKEN_PER_IP: '1000000',
    RATE_LIMIT_TOKEN_PER_CLIENT: '1000000',
    REDIS_URL: redis.url,
    METRICS_TOKEN,
    LOG_LEVEL: 'info',
  },
  { logFile: '/tmp/tollgate-redis-freeze.log' },
);

async function store() {
  const text = await (await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).text();
  return `store_up ${metricValue(text, 'tollgate_rate_limit_store_up')}, timeouts ${metricValue(text, 'tollgate_rate_limit_store_timeouts_total') ?? '(no such metric)'}`;
}

async function backInUse(what: string): Promise<void> {
  const started = performance.now();
  while (!(await store()).startsWith('store_up 1')) {
    if (performance.now() - started > 30_000) throw new Error(`Redis not used again 30 s after it was ${what}`);
    await sleep(10);
  }
  console.log(`${what}: Redis in use again after ${(performance.now() - started).toFixed(0)} ms`);
}

/** REQUESTS token requests from CONCURRENCY loops: each one's latency in ms, in the order they were sent. */
async function phase(name: string, id: string, secret: string): Promise<void> {
  const latencies: number[] = [];
  const statuses = new Map<number, number>();
  let sent = 0;
  const loop = async () => {
    while (sent < REQUESTS) {
      const index = sent++;
      const started = performance.now();
      const { status } = await clientCredentialsToken(server.url, id, secret);
      latencies[index] = performance.now() - started;
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, loop));
  const elapsed = performance.now() - started;
  const sorted = [...latencies].sort((x, y) => x - y);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!.toFixed(1);
  const slow = latencies.filter((ms) => ms >= 100).length;
  console.log(
    `${name.padEnd(9)} ${REQUESTS} requests in ${(elapsed / 1000).toFixed(2)} s: p50 ${at(0.5)} ms, p99 ${at(0.99)} ms, max ${sorted.at(-1)!.toFixed(1)} ms; ` +
      `${slow} took 100 ms or more; first 8: ${latencies
        .slice(0, 8)
        .map((ms) => ms.toFixed(0))
        .join(' ')} ms; ` +
      `statuses ${JSON.stringify(Object.fromEntries(statuses))}; ${await store()}`,
  );
}

try {
  const client = await registerClient(server.url);
  await phase('warm-up', client.client_id, client.client_secret);
  await phase('healthy', client.client_id, client.client_secret);
  redis.freeze();
  await phase('frozen', client.client_id, client.client_secret);
  await phase('frozen', client.client_id, client.client_secret);
  redis.thaw();
  await backInUse('thawed');
  await phase('thawed', client.client_id, client.client_secret);
  await redis.kill();
  await phase('killed', client.client_id, client.client_secret);
  await redis.restart();
  await backInUse('restarted');
  await phase('restarted', client.client_id, client.client_secret);
} finally {
  await server.stop();
  await redis.close();
}
