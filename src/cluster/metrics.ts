// /metrics for a cluster: every worker counts for itself, and a scrape answers the sum over all of
// them. The primary asks each ready worker for its registry (as JSON, over the cluster's IPC) and
// merges them with prom-client's AggregatorRegistry, each metric by its `aggregator` (sum unless
// its definition says otherwise, src/metrics/metrics.ts). The primary answers METRICS_PORT itself;
// a worker asked on the main port (METRICS_TOKEN) asks the primary.
import cluster, { type Worker } from 'node:cluster';
import { AggregatorRegistry, type Registry } from 'prom-client';

const WORKER_METRICS = 'tollgate:worker-metrics';
const CLUSTER_METRICS = 'tollgate:cluster-metrics';
/** A worker that has not answered by then is stuck; the scrape fails rather than hang. */
const TIMEOUT_MS = 5000;

interface Request {
  type: string;
  id: number;
}
interface Reply extends Request {
  metrics?: object[];
  text?: string;
  error?: string;
}

const isMessage = (message: unknown, type: string): message is Reply =>
  typeof message === 'object' && message !== null && (message as Request).type === type && typeof (message as Request).id === 'number';

/** Asks over IPC, pairing each reply with its request by id; rejects after TIMEOUT_MS. */
class Asker {
  #next = 0;
  readonly #pending = new Map<number, { resolve(reply: Reply): void; reject(err: Error): void; timer: NodeJS.Timeout }>();

  /** `send` sends the request with this id. */
  ask(send: (id: number) => void): Promise<Reply> {
    const id = this.#next++;
    return new Promise<Reply>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error('no metrics in time from a cluster process'));
      }, TIMEOUT_MS);
      this.#pending.set(id, { resolve, reject, timer });
      send(id);
    });
  }

  answer(reply: Reply): void {
    const pending = this.#pending.get(reply.id);
    if (!pending) return;
    this.#pending.delete(reply.id);
    clearTimeout(pending.timer);
    if (reply.error === undefined) pending.resolve(reply);
    else pending.reject(new Error(reply.error));
  }
}

/**
 * In the primary: the aggregate of the workers in `ready` (those still starting have no metrics
 * yet, and a worker's counts leave with it), and the answer to workers that ask for it.
 */
export function aggregateWorkerMetrics(ready: () => Worker[]): { contentType: string; scrape(): Promise<string> } {
  const asker = new Asker();
  const scrape = async (): Promise<string> => {
    const replies = await Promise.all(
      ready()
        .filter((worker) => worker.isConnected())
        .map((worker) => asker.ask((id) => toWorker(worker, { type: WORKER_METRICS, id }))),
    );
    return AggregatorRegistry.aggregate(replies.map((reply) => reply.metrics ?? [])).metrics();
  };
  cluster.on('message', (worker, message: unknown) => {
    if (isMessage(message, WORKER_METRICS)) asker.answer(message);
    else if (isMessage(message, CLUSTER_METRICS))
      scrape().then(
        (text) => toWorker(worker, { type: CLUSTER_METRICS, id: message.id, text }),
        (err: Error) => toWorker(worker, { type: CLUSTER_METRICS, id: message.id, error: err.message }),
      );
  });
  return { contentType: AggregatorRegistry.PROMETHEUS_CONTENT_TYPE, scrape };
}

/**
 * In a worker: answers the primary's requests for `registry`, and returns the scrape a worker
 * answers with, the primary's aggregate of every worker.
 */
export function shareWorkerMetrics(registry: Registry): () => Promise<string> {
  const asker = new Asker();
  process.on('message', (message: unknown) => {
    if (isMessage(message, CLUSTER_METRICS)) asker.answer(message);
    else if (isMessage(message, WORKER_METRICS)) {
      const { id } = message;
      registry.getMetricsAsJSON().then(
        (metrics) => toPrimary({ type: WORKER_METRICS, id, metrics }),
        (err: Error) => toPrimary({ type: WORKER_METRICS, id, error: err.message }),
      );
    }
  });
  return async () => (await asker.ask((id) => toPrimary({ type: CLUSTER_METRICS, id }))).text ?? '';
}

/**
 * A message to a worker that may be going away: sent only while its channel is open, and a failed
 * send is left to the asker's timeout instead of becoming an 'error' event nobody hears.
 */
function toWorker(worker: Worker, message: object): void {
  if (worker.isConnected()) worker.send(message, undefined, () => {});
}

/** A message to the primary, likewise. */
function toPrimary(message: object): void {
  if (process.connected) process.send!(message, undefined, undefined, () => {});
}
