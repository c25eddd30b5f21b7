// Every relative link in README.md and docs/*.md must reach an existing file, and its #anchor a
// heading of that file, as GitHub renders them (headings slugged by GitHub's rules).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));

/** GitHub's heading anchor: lower case, punctuation dropped (not `-` or `_`), each space a hyphen. */
function slug(heading: string): string {
  return heading
    .replace(/`/g, '')
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\p{M}\p{Pc} -]/gu, '')
    .replace(/ /g, '-');
}

/** The Markdown outside fenced code blocks, line by line (a `# comment` in a shell block is no heading). */
function proseLines(markdown: string): string[] {
  let fence: string | undefined;
  const lines: string[] = [];
  for (const line of markdown.split('\n')) {
    const marker = /^\s*(```+|~~~+)/.exec(line)?.[1];
    if (marker && (fence === undefined || marker.startsWith(fence))) {
      fence = fence === undefined ? marker : undefined;
      continue;
    }
    if (fence === undefined) lines.push(line);
  }
  return lines;
}

/** The anchors a file's headings get, the second of a name with `-1` appended, and so on. */
function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const result = new Set<string>();
  for (const line of proseLines(markdown)) {
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line)?.[1];
    if (heading === undefined) continue;
    const base = slug(heading);
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    result.add(count ? `${base}-${count}` : base);
  }
  return result;
}

/** The link targets of a file's prose, inline code left out. */
function linkTargets(markdown: string): string[] {
  const targets: string[] = [];
  for (const line of proseLines(markdown)) {
    const prose = line.replace(/`[^`]*`/g, '');
    for (const match of prose.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) targets.push(match[1]!);
    const reference = /^\s*\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)/.exec(prose)?.[1];
    if (reference) targets.push(reference);
  }
  return targets;
}

/** The broken relative links of `file`, each as `file: target (why)`. */
function brokenLinks(file: string, read: (path: string) => string = (path) => readFileSync(path, 'utf8')): string[] {
  const broken: string[] = [];
  const name = relative(root, file);
  for (const target of linkTargets(read(file))) {
    if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto:: not relative
    const [path = '', anchor] = target.split('#', 2);
    const linked = path ? resolve(dirname(file), decodeURIComponent(path)) : file;
    if (!existsSync(linked)) {
      broken.push(`${name}: ${target} (no such file)`);
      continue;
    }
    if (anchor === undefined || !linked.endsWith('.md')) continue;
    if (!anchors(read(linked)).has(decodeURIComponent(anchor).toLowerCase())) broken.push(`${name}: ${target} (no such heading)`);
  }
  return broken;
}

const documents = [
  join(root, 'README.md'),
  ...readdirSync(join(root, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => join(root, 'docs', f)),
];

describe('documentation links', () => {
  it('slugs headings as GitHub does', () => {
    expect(slug('Operations: rate limits, audit trail, metrics, shutdown')).toBe('operations-rate-limits-audit-trail-metrics-shutdown');
    expect(slug('GET /.well-known/oauth-authorization-server and /.well-known/openid-configuration')).toBe(
      'get-well-knownoauth-authorization-server-and-well-knownopenid-configuration',
    );
    expect(slug('Rotation, reuse detection and concurrent refreshes')).toBe('rotation-reuse-detection-and-concurrent-refreshes');
    expect(slug('`DATA_DIR` and keys.json')).toBe('data_dir-and-keysjson');
    expect([...anchors('# A\n\n```sh\n# not a heading\n```\n## A\n')]).toEqual(['a', 'a-1']);
  });

  it('reports a missing file and a missing heading', () => {
    const files: Record<string, string> = {
      [join(root, 'docs', 'admin.md')]: '# A\n[ok](#a) [gone](#b) [readme](../README.md) [missing](missing.md) `[code](nowhere.md)`\n',
    };
    expect(brokenLinks(join(root, 'docs', 'admin.md'), (path) => files[path] ?? readFileSync(path, 'utf8'))).toEqual([
      'docs/admin.md: #b (no such heading)',
      'docs/admin.md: missing.md (no such file)',
    ]);
  });

  it('every relative link in README.md and docs/ resolves, anchors included', () => {
    expect(documents.length).toBeGreaterThan(5);
    expect(documents.flatMap((file) => brokenLinks(file))).toEqual([]);
  });
});
