// docs/gateway.md shows the nginx and Caddy configurations the gateway tests run: the very files
// in docs/gateway/, which this keeps identical to the blocks the page shows.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DOCUMENTED } from '../helpers/gateways.js';

const docs = fileURLToPath(new URL('../../docs/', import.meta.url));
const page = readFileSync(`${docs}gateway.md`, 'utf8');

/** The fenced blocks of `language` on the page. */
function blocks(language: string): string[] {
  return [...page.matchAll(new RegExp(`^\`\`\`${language}\\n([\\s\\S]*?)^\`\`\`$`, 'gm'))].map((match) => match[1]!);
}

describe('docs/gateway.md', () => {
  for (const [language, file] of [
    ['nginx', 'nginx.conf'],
    ['caddy', 'Caddyfile'],
  ] as const) {
    it(`shows docs/gateway/${file} as the tests run it`, () => {
      expect(blocks(language)).toEqual([readFileSync(`${docs}gateway/${file}`, 'utf8')]);
    });
  }

  it('uses the same documented addresses and key in every example', () => {
    for (const example of [...blocks('yaml').slice(-2), ...blocks('nginx'), ...blocks('caddy')]) {
      expect(example).toContain(DOCUMENTED.gateway.split(':')[1]);
      expect(example).toContain(DOCUMENTED.key);
    }
  });
});
