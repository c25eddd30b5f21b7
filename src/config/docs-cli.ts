// `npm run config:docs` writes docs/configuration.md's table of variables and .env.example from the
// documentation in src/config/config.ts; `npm run config:docs -- --check` exits 2 when they differ.
import { fileURLToPath } from 'node:url';
import { PROJECT_ROOT } from '../project-root.js';
import { checkGeneratedFiles, writeGeneratedFiles } from './docs.js';

const root = fileURLToPath(PROJECT_ROOT);
const arg = process.argv[2];
if (arg !== undefined && arg !== '--check') {
  console.error('usage: npm run config:docs [-- --check]');
  process.exit(64);
}

try {
  if (arg === '--check') {
    const stale = await checkGeneratedFiles(root);
    if (stale.length) {
      console.error(`${stale.join(' and ')} ${stale.length > 1 ? 'differ' : 'differs'} from src/config/config.ts: run npm run config:docs`);
    }
    process.exit(stale.length ? 2 : 0);
  }
  const written = await writeGeneratedFiles(root);
  console.log(written.length ? `wrote ${written.join(' and ')}` : 'docs/configuration.md and .env.example are current: nothing to write.');
} catch (err) {
  // An undocumented variable, a secret with a default, lost markers: one line, no stack trace.
  console.error(`config:docs: ${(err as Error).message}`);
  process.exit(1);
}
