// Every test's fetch opens a connection of its own and closes it after the answer. Reusing an idle
// keep-alive connection races the server closing it (Node's servers after 5 s idle): on a busy
// machine the client's own idle timer fires late, a request goes out on a connection the server is
// closing, and fetch fails with ECONNRESET though the server did nothing wrong. Tests about
// keep-alive connections make them on purpose (node:http agents, raw sockets), so nothing is lost.
// Node's own fetch uses the dispatcher undici's setGlobalDispatcher sets.
import { Agent, setGlobalDispatcher } from 'undici';

// pipelining 0: undici sends `Connection: close` and never reuses a connection.
setGlobalDispatcher(new Agent({ pipelining: 0 }));
