import { readFileSync } from 'node:fs';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseEnv } from 'node:util';
import { describe, expect, it } from 'vitest';
import { GROUPS, doc, loadConfig, variables } from '../../src/config/config.js';
import {
  CONFIGURATION_MD,
  ENV_EXAMPLE,
  checkGeneratedFiles,
  documentedVariables,
  envExample,
  variablesTable,
  writeGeneratedFiles,
} from '../../src/config/docs.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

describe('configuration docs generated from the schema', () => {
  it('docs/configuration.md and .env.example are what `npm run config:docs` writes', async () => {
    expect(await checkGeneratedFiles(root), 'run npm run config:docs').toEqual([]);
  });

  it('documents every variable with a description of its own and one of the groups', () => {
    for (const [name, variable] of Object.entries(variables)) {
      const meta = doc.get(variable);
      expect(meta?.description.trim(), name).toBeTruthy();
      expect(Object.keys(GROUPS), name).toContain(meta?.group);
    }
    // Registering one schema object for two variables would give both the second one's entry.
    const descriptions = documentedVariables().map((v) => v.description);
    expect(new Set(descriptions).size).toBe(descriptions.length);
    const table = variablesTable();
    const env = envExample();
    for (const name of Object.keys(variables)) {
      expect(table).toContain(`| \`${name}\` |`);
      expect(env).toMatch(new RegExp(`^(# )?${name}=`, 'm'));
    }
  });

  it('.env.example sets each variable to its default, so loading it changes nothing', () => {
    expect(loadConfig(parseEnv(readFileSync(join(root, ENV_EXAMPLE), 'utf8')))).toEqual(loadConfig({}));
  });

  it('shows no secret: secret-looking names are marked secret, and a secret has no default and only an example', () => {
    const secrets = documentedVariables().filter((v) => v.secret);
    for (const name of Object.keys(variables).filter((n) => /_SECRET$|_TOKEN$|_PASSWORD$|_KEY$|_URL$/.test(n))) {
      expect(
        secrets.map((v) => v.name),
        name,
      ).toContain(name);
    }
    const env = envExample();
    for (const v of secrets) {
      expect(v.default, v.name).toBeUndefined();
      expect(env).toContain(`\n# ${v.name}=${v.example ?? ''}\n`);
    }
  });

  it('finds a stale file, writes it afresh and keeps the prose around the table', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tollgate-config-docs-'));
    try {
      await cp(join(root, CONFIGURATION_MD), join(dir, CONFIGURATION_MD));
      await writeGeneratedFiles(dir);
      const markdown = await readFile(join(dir, CONFIGURATION_MD), 'utf8');
      const edited = `${markdown.replace('| `PORT` | `3000` |', '| `PORT` | `8080` |')}\nHand-written prose after the table.\n`;
      await writeFile(join(dir, CONFIGURATION_MD), edited);
      expect(await checkGeneratedFiles(dir)).toEqual([CONFIGURATION_MD]);

      await writeFile(join(dir, ENV_EXAMPLE), envExample().replace('PORT=3000', 'PORT=8080'));
      expect(await checkGeneratedFiles(dir)).toEqual([CONFIGURATION_MD, ENV_EXAMPLE]);

      expect(await writeGeneratedFiles(dir)).toEqual([CONFIGURATION_MD, ENV_EXAMPLE]);
      expect(await checkGeneratedFiles(dir)).toEqual([]);
      expect(await readFile(join(dir, CONFIGURATION_MD), 'utf8')).toBe(`${markdown}\nHand-written prose after the table.\n`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
