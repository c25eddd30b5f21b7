// Every test's fetch opens a connection of its own and closes it after the answer. Reusing an idle
// keep-alive connection races the server closing it (Node's servers after 5 s idle): on a busy
// machine the client's own idle timer fires late, a request goes out on a connection the server is
// closing, and fetch fails with ECONNRESET though the server did nothing wrong. Tests about
// keep-alive connections make them on purpose (node:http agents, raw sockets), so nothing is lost.
//
// Node's fetch takes its dispatcher from this well-known global (undici's setGlobalDispatcher writes
// the same one); its Agent class is reached through the default one, which Node creates on first use,
// so that no second copy of undici has to be installed.
const GLOBAL_DISPATCHER = Symbol.for('undici.globalDispatcher.1');

interface Dispatcher {
  constructor: new (options: { pipelining: number }) => Dispatcher;
}
const globals = globalThis as unknown as Record<symbol, Dispatcher | undefined>;

if (!(globals[GLOBAL_DISPATCHER] as { oneConnectionPerRequest?: true } | undefined)?.oneConnectionPerRequest) {
  // Port 0 refuses at once; the request exists only to make Node create its default dispatcher.
  await fetch('http://127.0.0.1:0/').catch(() => undefined);
  const Agent = globals[GLOBAL_DISPATCHER]?.constructor;
  if (!Agent) throw new Error("Node's fetch has no global dispatcher to replace");
  // pipelining 0: undici sends `Connection: close` and never reuses a connection.
  globals[GLOBAL_DISPATCHER] = Object.assign(new Agent({ pipelining: 0 }), { oneConnectionPerRequest: true as const });
}
