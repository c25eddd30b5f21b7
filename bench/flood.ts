// The wrong-secret flood of `npm run bench`'s flood scenario, in a process of its own so that its
// load generator does not slow the one measuring: `tsx bench/flood.ts <url> <client id>
// <connections> <seconds> <requests per second>` sends client_credentials requests naming the
// client with a new wrong secret each, then prints {"rps":…,"statuses":{"401":…,"503":…}} on stdout.
import autocannon from 'autocannon';
import { wrongSecrets } from './scenarios.js';

const [url, id, connections, seconds, rate] = process.argv.slice(2);
const result = await autocannon({
  url: url!,
  connections: Number(connections),
  duration: Number(seconds),
  overallRate: Number(rate),
  requests: wrongSecrets({ name: 'tollgate', url: url!, client: { id: id!, secret: '' }, introspector: { id: id!, secret: '' } }),
});
const statuses = Object.fromEntries(Object.entries(result.statusCodeStats ?? {}).map(([status, { count }]) => [status, count]));
console.log(JSON.stringify({ rps: Math.round(result.requests.average), statuses }));
