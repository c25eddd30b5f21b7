// npx tsx bench/profile-components.ts [bench/results/latest.json]
//
// After `npm run bench -- --cpu-prof`: Tollgate's profile (bench/results/profiles, named by its
// process id) cut to each scenario's measured runs (their windows in latest.json; V8 stamps samples
// with the same monotonic clock), each sample given to the component of the innermost frame that
// names one, and the scenario's CPU per request shared out in that proportion. An estimate: the
// profiler's own overhead is in the samples, and a sample is given to the innermost component, so
// a metrics call inside the log line's function counts as metrics.
import { readdirSync, readFileSync } from 'node:fs';

interface Frame {
  functionName: string;
  url: string;
}
interface ProfileNode {
  id: number;
  callFrame: Frame;
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

const COMPONENTS = ['HTTP', 'parsing', 'authentication', 'policy', 'handler', 'store', 'token minting', 'log line', 'metrics', 'audit', 'GC', 'other'] as const;
type Component = (typeof COMPONENTS)[number];

/** Functions of src/http/pipeline.ts that are the form's parsing rather than the exchange around it. */
const PARSING_FUNCTIONS = new Set(['readBody', 'formParameters', 'checkFormParameters', 'parse', 'basicCredentials']);

/** The component a frame's code belongs to, or undefined for code (Node's internals, builtins) that is its caller's. */
function componentOf({ url, functionName }: Frame): Component | undefined {
  if (functionName === '(garbage collector)') return 'GC';
  if (/node_modules\/(pino|sonic-boom|fast-redact|quick-format-unescaped|on-exit-leak-free|thread-stream)\//.test(url)) return 'log line';
  if (/src\/http\/logger|src\/http\/middleware/.test(url) && /log|Line/i.test(functionName)) return 'log line';
  if (/node_modules\/(prom-client|tdigest|bintrees)\/|src\/metrics\//.test(url)) return 'metrics';
  if (/src\/audit\/|src\/oidc\/operations/.test(url)) return 'audit';
  if (/src\/http\/(basic-auth|bodies)|node:querystring|node:internal\/querystring/.test(url)) return /basic-auth/.test(url) ? 'authentication' : 'parsing';
  if (/src\/http\/pipeline/.test(url) && PARSING_FUNCTIONS.has(functionName)) return 'parsing';
  if (/src\/clients\/|src\/tokens\/caller|argon2/.test(url)) return 'authentication';
  if (/src\/tokens\/policy|src\/gateway\/(rules|request-path|original-request)/.test(url)) return 'policy';
  if (/src\/tokens\/[\w-]+-handler|src\/gateway\/(check|directory|listener|dpop)/.test(url)) return 'handler';
  if (/src\/db\/|src\/cache\/|src\/tokens\/.*store|node_modules\/(@prisma|prisma|pg|pg-protocol|pg-pool|@electric-sql)\//.test(url)) return 'store';
  if (/node_modules\/(oidc-provider|jose|nanoid|koa|@koa)\/|src\/oidc\//.test(url)) return 'token minting';
  if (/src\/|node:(_http|net|stream|internal\/(http|streams|net|stream_base))/.test(url) || /^node:http/.test(url)) return 'HTTP';
  return undefined;
}

const resultsFile = process.argv[2] ?? 'bench/results/latest.json';
const results = JSON.parse(readFileSync(resultsFile, 'utf8')) as {
  tollgate: Record<string, Record<string, { cpuUs?: number; window?: [number, number] }>>;
  tollgatePids: Record<string, number>;
};
const dir = 'bench/results/profiles';

for (const [workers, pid] of Object.entries(results.tollgatePids)) {
  const file = readdirSync(dir).find((name) => name.includes(`.${pid}.`) && name.endsWith('.cpuprofile'));
  if (!file) throw new Error(`no profile of process ${pid} in ${dir}: run npm run bench -- --cpu-prof`);
  const profile = JSON.parse(readFileSync(`${dir}/${file}`, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const componentOfNode = new Map<number, Component | 'idle'>();
  const classify = (id: number): Component | 'idle' => {
    const known = componentOfNode.get(id);
    if (known) return known;
    const frame = byId.get(id)!.callFrame;
    let component: Component | 'idle' | undefined = frame.functionName === '(idle)' ? 'idle' : componentOf(frame);
    if (!component) {
      const up = parent.get(id);
      component = up === undefined || byId.get(up)!.callFrame.functionName === '(root)' ? 'other' : classify(up);
    }
    componentOfNode.set(id, component);
    return component;
  };
  // Each sample's time stamp.
  let at = profile.startTime;
  const stamped = profile.samples.map((id, i) => {
    at += profile.timeDeltas[i]!;
    return { id, at };
  });
  console.log(`\n### WEB_CONCURRENCY=${workers}: ${file}\n`);
  console.log(`| scenario | CPU µs/req | ${COMPONENTS.join(' | ')} |`);
  console.log(`|---|---:|${COMPONENTS.map(() => '---:').join('|')}|`);
  for (const [scenario, measured] of Object.entries(results.tollgate[workers] ?? {})) {
    if (!measured.window || measured.cpuUs === undefined) continue;
    const windows = [measured.window];
    const counts = new Map<Component, number>();
    let busy = 0;
    for (const { id, at } of stamped) {
      if (!windows.some(([from, to]) => at >= from && at <= to)) continue;
      const component = classify(id);
      if (component === 'idle') continue;
      counts.set(component, (counts.get(component) ?? 0) + 1);
      busy += 1;
    }
    if (!busy) continue;
    const cells = COMPONENTS.map((component) => Math.round(((counts.get(component) ?? 0) / busy) * measured.cpuUs!));
    console.log(`| ${scenario} | ${measured.cpuUs} | ${cells.join(' | ')} |`);
  }
}
