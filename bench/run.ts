// npm run bench [-- --duration 10 --runs 3 --connections 50 --pin --workers 1,2 --log-level info --cpu-prof --only issuance,jwt]
//
// Starts Tollgate (embedded store, or PostgreSQL when DATABASE_URL is set), a bare oidc-provider
// baseline and the floor (bare node:http sending Tollgate's answers back), drives them with the same
// autocannon scenarios after a warm-up, prints Markdown tables with Tollgate's CPU per request as a
// multiple of the floor's and as a ratio to the baseline's, and writes bench/results/latest.json. A
// benchmark, not a test: nothing here passes or fails on speed.
import { execFile, execFileSync } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import autocannon, { type Request } from 'autocannon';
import { BASELINE_CLIENT, BENCH_ADMIN } from './constants.js';
import { refreshRotation, signInChains } from './refresh.js';
import {
  basic,
  type Credentials,
  GATEWAY_API,
  gatewayCheck,
  introspectActive,
  introspectUnknown,
  issuance,
  issueOne,
  JWT_RESOURCES,
  jwtIssuance,
  revocation,
  type Target,
} from './scenarios.js';
import { startBaseline, startFloor, startTollgate, type Started } from './servers.js';

const { values: args } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    /** Measured runs per scenario; the median CPU per request is reported (and the req/s of that run). */
    runs: { type: 'string', default: '3' },
    warmup: { type: 'string', default: '3' },
    connections: { type: 'string', default: '50' },
    pin: { type: 'boolean', default: false },
    workers: { type: 'string', default: '1' },
    'log-level': { type: 'string', default: 'info' },
    'cpu-prof': { type: 'boolean', default: false },
    'no-baseline': { type: 'boolean', default: false },
    /** Skips measuring bare node:http (bench/floor-server.ts), the least any server on Node could cost. */
    'no-floor': { type: 'boolean', default: false },
    /** Comma-separated subset, e.g. "issuance,active" (for profiling one path); "jwt": JWT access tokens (RS256, ES256). */
    only: { type: 'string', default: 'issuance,jwt,active,unknown,refresh,revocation,flood,gateway' },
    /** The wrong-secret flood of the flood scenario: its connections and requests per second. */
    'flood-connections': { type: 'string', default: '64' },
    'flood-rate': { type: 'string', default: '200' },
  },
});
const duration = Number(args.duration);
const repeats = Math.max(1, Number(args.runs));
const warmup = Number(args.warmup);
const connections = Number(args.connections);
const workerCounts = args.workers.split(',').map(Number);
const RESULTS = 'bench/results';
const KEEP_TOKENS = 50_000;
const only = new Set(args.only.split(','));

interface Measured {
  rps: number;
  p50: number;
  p99: number;
  /** Server CPU (all its processes) per request, µs: what a request costs, however busy the machine. */
  cpuUs: number;
  non2xx: number;
  errors: number;
  /** When the run was, in µs of the system's monotonic clock (V8's profiles use the same): bench/profile-components.ts reads it. */
  window: [number, number];
  /** The floor's median, measured in the rounds between Tollgate's runs of the scenario. */
  floor?: Measured;
}

async function measure(server: Started, requests: Request[], seconds: number, amount?: number, url = server.url): Promise<Measured> {
  const cpuBefore = server.cpuMs();
  const from = monotonicUs();
  const result = await autocannon({ url, connections, requests, ...(amount ? { amount } : { duration: seconds }) });
  return {
    window: [from, monotonicUs()],
    rps: Math.round(result.requests.total / result.duration),
    p50: result.latency.p50,
    p99: result.latency.p99,
    cpuUs: Math.round(((server.cpuMs() - cpuBefore) * 1000) / Math.max(1, result.requests.total)),
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
  };
}

const monotonicUs = () => Number(process.hrtime.bigint() / 1000n);

/** The run with the median CPU per request: one run swings with the neighbours. */
function medianOf(results: Measured[]): Measured {
  return [...results].sort((a, b) => a.cpuUs - b.cpuUs)[Math.floor(results.length / 2)]!;
}

/** Tollgate's server, or the baseline's, with the floor beside Tollgate's. */
type Measurable = Target & { server: Started; register?: Register; floor?: Started };

/**
 * `--runs` rounds of `run` against the target (run `round` of them); with a floor, each round is
 * followed by a run of the floor answering `floorRequests` with a copy of the target's answer to
 * `sample`, so both are measured in the same minutes. The medians of each.
 */
async function rounds(
  target: Measurable,
  run: (round: number) => Promise<Measured>,
  floorAs?: { sample: HttpRequest; requests: Request[] },
): Promise<Measured> {
  const { floor } = target;
  const compared = floor && floorAs ? floorAs : undefined;
  if (floor && compared) {
    await copyAnswer(floor, compared.sample);
    await measure(floor, compared.requests, warmup);
  }
  const own: Measured[] = [];
  const floors: Measured[] = [];
  for (let round = 0; round < repeats; round += 1) {
    own.push(await run(round));
    if (floor && compared) floors.push(await measure(floor, compared.requests, duration));
  }
  return { ...medianOf(own), ...(floors.length ? { floor: medianOf(floors) } : {}) };
}

/** One request, as autocannon sends it, for the answer it gets. */
interface HttpRequest {
  url: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
}

/** Headers node:http writes itself, or that the floor makes per answer. */
const OWN_HEADERS = new Set(['date', 'connection', 'keep-alive', 'content-length', 'transfer-encoding', 'x-request-id']);

/** The floor answers `sample.path` as Tollgate answered `sample`: the same status, headers and body length. */
async function copyAnswer(floor: Started, sample: HttpRequest): Promise<void> {
  const answer = await send(sample);
  const headers = Object.fromEntries(Object.entries(answer.headers).filter(([name]) => !OWN_HEADERS.has(name)));
  await send({
    url: floor.url,
    method: 'PUT',
    path: '/__floor',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ path: sample.path, status: answer.status, headers, body: answer.body }),
  });
}

function send({ url, method, path, headers, body }: HttpRequest): Promise<{ status: number; headers: Record<string, string>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      new URL(path, url),
      { method, headers: { ...headers, ...(body === undefined ? {} : { 'content-length': String(Buffer.byteLength(body)) }) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers as Record<string, string>, body: Buffer.concat(chunks).toString('utf8') }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** `requests`' one request as a plain HTTP request to `url`. */
function sampleOf(url: string, [request]: Request[], body?: string): HttpRequest {
  const { method = 'GET', path = '/', headers = {} } = request as { method?: string; path?: string; headers?: Record<string, string> };
  return { url, method, path, headers, body: body ?? (request as { body?: string }).body };
}

/** Every scenario against one running server; warm-up runs are thrown away. */
async function runScenarios(target: Measurable): Promise<Results> {
  const out: Results = {};
  const issued: string[] = [];
  const median = (run: () => Promise<Measured>) => rounds(target, run);
  if (only.has('issuance') || only.has('revocation')) {
    await measure(target.server, issuance(target, [], 0), warmup);
    out[ISSUANCE] = await rounds(target, () => measure(target.server, issuance(target, issued, KEEP_TOKENS), duration), {
      sample: sampleOf(target.url, issuance(target, [], 0)),
      requests: issuance(target, [], 0),
    });
  }
  if (only.has('jwt')) {
    for (const [alg, resource] of Object.entries(JWT_RESOURCES)) {
      await measure(target.server, jwtIssuance(target, resource), warmup);
      out[`client_credentials issuance, JWT ${alg}`] = await median(() => measure(target.server, jwtIssuance(target, resource), duration));
    }
  }
  if (only.has('active')) {
    const requests = introspectActive(target, await issueOne(target));
    await measure(target.server, requests, warmup);
    out[ACTIVE] = await rounds(target, () => measure(target.server, requests, duration), { sample: sampleOf(target.url, requests), requests });
  }
  if (only.has('unknown')) {
    await measure(target.server, introspectUnknown(target), warmup);
    out['introspection, unknown token'] = await median(() => measure(target.server, introspectUnknown(target), duration));
  }
  if (only.has('refresh')) {
    if (target.name === 'baseline') {
      out['refresh rotation'] = { skipped: 'the bare provider has no sign-in flow to get refresh tokens from' };
    } else {
      // One chain per connection, for the warm-up and for the run.
      const warm = await signInChains(target.url, connections);
      await measure(target.server, refreshRotation(warm), warmup);
      out['refresh rotation'] = await measure(target.server, refreshRotation(await signInChains(target.url, connections)), duration);
    }
  }
  if (only.has('revocation')) {
    // Each request revokes a different live token: the tokens issued above, a warm-up's and one share per run.
    const warm = issued.splice(0, Math.min(2000, Math.floor(issued.length / 5)));
    const share = Math.floor(issued.length / repeats);
    if (warm.length < connections || share < connections) {
      out[REVOCATION] = { skipped: `only ${issued.length + warm.length} tokens were issued` };
    } else {
      await measure(target.server, revocation(target, warm), 0, warm.length);
      const batches = Array.from({ length: repeats }, (_, i) => issued.slice(i * share, (i + 1) * share));
      const sample = sampleOf(target.url, revocation(target, []), `token=${await issueOne(target)}`);
      out[REVOCATION] = await rounds(target, (round) => measure(target.server, revocation(target, batches[round]!), 0, share), {
        sample,
        requests: revocation(target, warm),
      });
    }
  }
  if (only.has('gateway')) {
    // The same question, "may this token pass?": Tollgate's gateway check against the bare provider's introspection.
    const [requests, url] =
      target.name === 'baseline'
        ? [introspectActive(target, await issueOne(target)), target.url]
        : [gatewayCheck(await gatewayToken(target)), target.server.gatewayUrl!];
    await measure(target.server, requests, warmup, undefined, url);
    out[GATEWAY] = await rounds(target, () => measure(target.server, requests, duration, undefined, url), {
      sample: sampleOf(url, requests),
      requests,
    });
    // A JWT access token (RS256) is verified at every check, then decided from memory like an opaque one.
    if (target.name === 'baseline') {
      out[GATEWAY_JWT] = { skipped: 'the bare provider introspects no JWT access token' };
    } else {
      const jwtRequests = gatewayCheck(await gatewayToken(target, JWT_RESOURCES.RS256));
      await measure(target.server, jwtRequests, warmup, undefined, url);
      out[GATEWAY_JWT] = await median(() => measure(target.server, jwtRequests, duration, undefined, url));
    }
  }
  if (only.has('flood')) Object.assign(out, await underFlood(target));
  for (const [name, m] of Object.entries(out)) console.error(`  ${target.name} ${name}: ${JSON.stringify(m)}`);
  return out;
}

const ISSUANCE = 'client_credentials issuance';
const ACTIVE = 'introspection, active token';
const REVOCATION = 'revocation';
const GATEWAY = 'gateway check, active token (baseline: introspection)';
/** The most floors each hot endpoint's CPU per request should cost. */
const FLOOR_TARGETS: Record<string, number> = { [ACTIVE]: 2, [GATEWAY]: 2, [ISSUANCE]: 3, [REVOCATION]: 3 };
const GATEWAY_JWT = 'gateway check, active JWT access token (RS256)';
const QUIET = 'issuance, remembered secret';
const FLOODED = 'issuance, remembered secret, during a wrong-secret flood';
const NEW_CLIENTS = 'new clients with a token within a few tries, during the flood';
/** New clients that ask for their first token during the flood, and the tries each gets, a Retry-After apart. */
const NEWCOMERS = 12;
const NEWCOMER_TRIES = 5;

/**
 * Issuance for a client whose secret is remembered, alone and then while other connections send
 * the same client id with a new wrong secret each (every one an argon2 verification, or a 503
 * when the argon2 gate is full): what a flood of guesses costs the clients that know their secret.
 * Meanwhile new clients, whose secrets are not remembered yet, ask for their first token.
 */
async function underFlood(target: Target & { server: Started; register?: Register }): Promise<Results> {
  const { register } = target;
  if (target.name === 'baseline' || !register) return { [QUIET]: { skipped: 'plaintext secrets: nothing to flood' } };
  await issueOne(target);
  await measure(target.server, issuance(target, [], 0), warmup);
  const quiet = await measure(target.server, issuance(target, [], 0), duration);
  const newcomers = await Promise.all(Array.from({ length: NEWCOMERS }, () => register({ client_name: 'bench newcomer' })));
  const flood = floodProcess(target, duration + 4);
  await sleep(2000); // the flood's process starting, and the argon2 gate filling
  const firstTokens = Promise.all(newcomers.map((client) => triesToFirstToken(target, client)));
  const [flooded, tries] = await Promise.all([measure(target.server, issuance(target, [], 0), duration), firstTokens]);
  const { rps, statuses } = await flood;
  const answers = Object.entries(statuses)
    .map(([status, count]) => `${count} × ${status}`)
    .join(', ');
  const served = tries.filter((n) => n !== undefined);
  const newClients = `${served.length} of ${NEWCOMERS} within ${NEWCOMER_TRIES} tries (tries each: ${tries.map((n) => n ?? '–').join(' ')})`;
  console.error(`  flood: ${rps} req/s (${answers}); p99 during the flood / alone: ${(flooded.p99 / quiet.p99).toFixed(2)}×; new clients: ${newClients}`);
  return { [QUIET]: quiet, [FLOODED]: flooded, [NEW_CLIENTS]: { note: newClients } };
}

/** The try on which `client` got its first token, a Retry-After apart, or undefined after NEWCOMER_TRIES. */
async function triesToFirstToken(target: Target, client: Credentials): Promise<number | undefined> {
  for (let n = 1; n <= NEWCOMER_TRIES; n += 1) {
    const response = await fetch(`${target.url}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(client) },
      body: 'grant_type=client_credentials',
    });
    await response.arrayBuffer();
    if (response.ok) return n;
    await sleep(Number(response.headers.get('retry-after') ?? 1) * 1000);
  }
  return undefined;
}

/** bench/flood.ts against `target` in a child process: its req/s and answers by status. */
function floodProcess(target: Target, seconds: number): Promise<{ rps: number; statuses: Record<string, number> }> {
  return new Promise((resolve, reject) => {
    const flood = [target.url, target.client.id, args['flood-connections'], String(seconds), args['flood-rate']];
    execFile(process.execPath, ['--import', 'tsx', 'bench/flood.ts', ...flood], (err, stdout) => (err ? reject(err) : resolve(JSON.parse(stdout))));
  });
}
/**
 * A token the gateway check lets through: the bench client's, for a resource server (the bench
 * API's opaque one unless a registered JWT resource server is named) with a rule for the bench
 * API's paths.
 */
async function gatewayToken(target: Target, resource?: string): Promise<string> {
  const admin = async (method: string, path: string, body?: unknown) => {
    const init = body === undefined ? {} : { body: JSON.stringify(body) };
    const response = await fetch(`${target.url}/admin${path}`, {
      method,
      headers: { authorization: `Bearer ${await adminToken(target.url)}`, 'content-type': 'application/json' },
      ...init,
    });
    const answer = (await response.json()) as Record<string, unknown>;
    if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${JSON.stringify(answer)}`);
    return answer;
  };
  // Not the issuer's own identifier, which no resource server may take.
  const identifier = resource ?? `https://${GATEWAY_API.host}`;
  const registered = (await admin('GET', '/resource-servers')).resource_servers as { id: string; identifier: string }[] | undefined;
  const server =
    registered?.find((candidate) => candidate.identifier === identifier) ??
    (await admin('POST', '/resource-servers', { identifier, name: 'bench API', scopes: ['read'] }));
  await admin('PUT', `/resource-servers/${server.id as string}/routes`, {
    routes: [{ host: GATEWAY_API.host, path: `${GATEWAY_API.path}/**`, methods: ['GET'], scopes_all: ['read'] }],
  });
  return issueOne(target, 'read', identifier);
}

async function adminToken(url: string): Promise<string> {
  const tokenResponse = await fetch(`${url}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(BENCH_ADMIN) },
    body: 'grant_type=client_credentials&scope=admin',
  });
  return ((await tokenResponse.json()) as { access_token: string }).access_token;
}

type Register = (metadata: Record<string, unknown>) => Promise<Credentials>;

async function tollgateTarget(server: Started): Promise<Target & { register: Register }> {
  const token = await adminToken(server.url);
  const register: Register = async (metadata) => {
    const response = await fetch(`${server.url}/admin/clients`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(metadata),
    });
    const body = (await response.json()) as { client_id: string; client_secret: string };
    if (response.status !== 201) throw new Error(`register client: ${response.status} ${JSON.stringify(body)}`);
    return { id: body.client_id, secret: body.client_secret };
  };
  for (const [alg, identifier] of Object.entries(JWT_RESOURCES)) {
    const body = { identifier, name: `bench ${alg}`, scopes: ['read'], access_token_format: 'jwt', signing_alg: alg };
    const response = await fetch(`${server.url}/admin/resource-servers`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (response.status !== 201) throw new Error(`register resource server: ${response.status} ${await response.text()}`);
  }
  return {
    name: 'tollgate',
    url: server.url,
    register,
    client: await register({ client_name: 'bench client', scope: 'read' }),
    introspector: await register({ client_name: 'bench resource server', resource_server: true }),
  };
}

type Results = Record<string, Measured | { skipped: string } | { note: string }>;

function table(tollgate: Results, baseline?: Results): string {
  const rows = [
    '| scenario | Tollgate req/s | p50 ms | p99 ms | CPU µs/req | baseline req/s | p50 ms | p99 ms | CPU µs/req | ratio req/s | ratio CPU/req | floor ratio req/s |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const [name, t] of Object.entries(tollgate)) {
    const b = baseline?.[name];
    if ('skipped' in t || 'note' in t) {
      rows.push(`| ${name} | ${'skipped' in t ? `skipped: ${t.skipped}` : t.note} | | | | | | | | | | |`);
      continue;
    }
    const flag = t.non2xx || t.errors ? ` (${t.non2xx} non-2xx, ${t.errors} errors)` : '';
    const measured = b && 'rps' in b ? b : undefined;
    const base = measured
      ? `${measured.rps} | ${measured.p50} | ${measured.p99} | ${measured.cpuUs} | ${(t.rps / measured.rps).toFixed(2)}× | ${(measured.cpuUs / t.cpuUs).toFixed(2)}×`
      : '– | – | – | – | – | –';
    // The ratio bare node:http reaches against the baseline: no implementation on Node goes higher.
    const ceiling = measured && t.floor ? `${(t.floor.rps / measured.rps).toFixed(2)}×` : '–';
    rows.push(`| ${name} | ${t.rps}${flag} | ${t.p50} | ${t.p99} | ${t.cpuUs} | ${base} | ${ceiling} |`);
  }
  return rows.join('\n');
}

/** CPU per request of the three servers, Tollgate's as floors (against its target) and against the baseline. */
function floorTable(tollgate: Results, baseline?: Results): string {
  const rows = [
    '| scenario | Tollgate µs/req | bare oidc-provider µs/req | floor µs/req | Tollgate in floors | target | bare provider ÷ Tollgate (≥ 1.0) |',
    '|---|---:|---:|---:|---:|---:|---:|',
  ];
  for (const [name, t] of Object.entries(tollgate)) {
    if (!('cpuUs' in t) || !t.floor) continue;
    const b = baseline?.[name];
    const base = b && 'cpuUs' in b ? b : undefined;
    const floors = t.cpuUs / t.floor.cpuUs;
    const target = FLOOR_TARGETS[name];
    const verdict = target === undefined ? '–' : `≤ ${target.toFixed(1)} ${floors <= target ? 'met' : 'not met'}`;
    const vsBase = base ? `${(base.cpuUs / t.cpuUs).toFixed(2)}×` : '–';
    rows.push(`| ${name} | ${t.cpuUs} | ${base?.cpuUs ?? '–'} | ${t.floor.cpuUs} | **${floors.toFixed(2)}** | ${verdict} | ${vsBase} |`);
  }
  return rows.join('\n');
}

async function main() {
  await mkdir(RESULTS, { recursive: true });
  if (args.pin) execFileSync('taskset', ['-a', '-pc', String(cpus().length - 1), String(process.pid)], { stdio: 'ignore' });
  const store = process.env.DATABASE_URL ? 'postgresql' : 'embedded';
  if (workerCounts.some((n) => n > 1) && store !== 'postgresql') throw new Error('--workers above 1 needs DATABASE_URL');
  const machine = { cpus: cpus().length, cpuModel: cpus()[0]?.model, node: process.version, loadBefore: loadavg().map((l) => l.toFixed(2)) };
  console.log(
    `Tollgate bench: ${store} store, ${connections} connections, ${duration}s runs (median of ${repeats}) after ${warmup}s warm-up, pinned: ${args.pin}, load ${machine.loadBefore.join(' ')}`,
  );
  const nodeFlags = args['cpu-prof'] ? ['--cpu-prof', `--cpu-prof-dir=${RESULTS}/profiles`] : [];

  let baseline: Results | undefined;
  if (!args['no-baseline']) {
    const server = await startBaseline({ cpus: args.pin ? '0' : undefined, nodeFlags, logFile: `${RESULTS}/baseline.log` });
    try {
      baseline = await runScenarios({ name: 'baseline', server, url: server.url, client: BASELINE_CLIENT, introspector: BASELINE_CLIENT });
    } finally {
      await server.stop();
    }
  }

  // Beside Tollgate on its CPU, measured between Tollgate's runs of each scenario.
  const floor = args['no-floor'] ? undefined : await startFloor({ cpus: args.pin ? '0' : undefined, nodeFlags, logFile: `${RESULTS}/floor.log` });

  const runs: Record<string, Results> = {};
  /** Tollgate's process id per run: its --cpu-prof profile's name has it. */
  const pids: Record<string, number> = {};
  for (const workers of workerCounts) {
    const cpuList = Array.from({ length: Math.min(workers, cpus().length) }, (_, i) => i).join(',');
    const server = await startTollgate(
      { WEB_CONCURRENCY: String(workers), LOG_LEVEL: args['log-level'] },
      { cpus: args.pin ? cpuList : undefined, nodeFlags, logFile: `${RESULTS}/tollgate-${workers}.log` },
    );
    try {
      pids[`${workers}`] = server.pid;
      runs[`${workers}`] = await runScenarios({ ...(await tollgateTarget(server)), server, floor });
    } finally {
      await server.stop();
    }
    console.log(`\n### Tollgate, WEB_CONCURRENCY=${workers}${args.pin ? ` (taskset -c ${cpuList})` : ''} vs bare oidc-provider\n`);
    console.log(table(runs[`${workers}`]!, baseline));
    if (floor) console.log(`\nCPU per request, median of ${repeats} alternating rounds:\n\n${floorTable(runs[`${workers}`]!, baseline)}`);
    const quiet = runs[`${workers}`]![QUIET];
    const flooded = runs[`${workers}`]![FLOODED];
    if (quiet && flooded && 'p99' in quiet && 'p99' in flooded)
      console.log(`\nremembered-secret issuance p99 during a wrong-secret flood / alone: ${(flooded.p99 / quiet.p99).toFixed(2)}×`);
  }

  if (workerCounts.length > 1) {
    const [first, ...rest] = workerCounts;
    for (const n of rest) {
      console.log(`\n### Scaling: ${n} workers / ${first}\n\n| scenario | ratio |\n|---|---:|`);
      for (const [name, one] of Object.entries(runs[`${first}`]!)) {
        const many = runs[`${n}`]![name]!;
        if ('rps' in one && 'rps' in many) console.log(`| ${name} | ${(many.rps / one.rps).toFixed(2)}× |`);
      }
    }
  }

  await floor?.stop();
  const loadAfter = loadavg().map((l) => l.toFixed(2));
  console.log(`\nload average after: ${loadAfter.join(' ')}`);
  const json = {
    date: new Date().toISOString(),
    store,
    connections,
    duration,
    runs: repeats,
    warmup,
    pinned: args.pin,
    logLevel: args['log-level'],
    machine: { ...machine, loadAfter },
    baseline,
    tollgate: runs,
    tollgatePids: pids,
  };
  await writeFile(`${RESULTS}/latest.json`, `${JSON.stringify(json, null, 2)}\n`);
  console.log(`wrote ${RESULTS}/latest.json`);
}

await main();
