// `npm run admin -- <family> <command> …`: runCli (src/admin/run-cli.ts) on this process's command
// line, streams and environment (and ./.env).
import { readFileSync } from 'node:fs';
import { loadConfig, loadDotEnv } from '../config/config.js';
import { runCli } from './run-cli.js';

function write(stream: NodeJS.WriteStream, text: string): Promise<void> {
  // Waits for the write, so nothing is lost when the process exits with output still in a pipe.
  return new Promise((resolve) => stream.write(text, () => resolve()));
}

const code = await runCli(
  process.argv.slice(2),
  {
    stdout: (text) => write(process.stdout, text),
    stderr: (text) => write(process.stderr, text),
    stdin: () => (process.stdin.isTTY ? undefined : readFileSync(0, 'utf8')),
  },
  {
    loadConfig() {
      loadDotEnv();
      return loadConfig();
    },
  },
);
process.exit(code);
