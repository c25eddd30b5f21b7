// The admin CLI run in this process: runCli with string streams and a configuration read from the
// given variables only (no ./.env), with the tests' cheap secret hashing.
import { runCli } from '../../src/admin/run-cli.js';
import { testConfig } from './prepared.js';

export interface CliRun {
  code: number;
  stdout: string;
  /** Without the note a first run prints about the migrations it applied. */
  stderr: string;
  /** stdout parsed, or {} when it is not JSON. */
  json: Record<string, unknown>;
}

/** `npm run admin -- …args`; `stdin` is what is piped in (none: a terminal). */
export async function runAdmin(env: Record<string, string>, args: string[], stdin?: string): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const io = {
    stdout: async (text: string) => void (stdout += text),
    stderr: async (text: string) => void (stderr += text),
    stdin: () => stdin,
  };
  const code = await runCli(args, io, { loadConfig: () => testConfig(env) });
  return { code, stdout, stderr: withoutMigrationNote(stderr), json: parseJson(stdout) };
}

export function withoutMigrationNote(stderr: string): string {
  return stderr.split('\n').filter((line) => line && !line.startsWith('tollgate-admin: applied database migrations')).join('\n');
}

export function parseJson(stdout: string): Record<string, unknown> {
  try {
    return stdout ? (JSON.parse(stdout) as Record<string, unknown>) : {};
  } catch {
    return {}; // the caller asserts on stdout as text
  }
}
