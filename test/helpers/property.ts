// Every property test (fast-check) runs through checkProperty: one seed per run, from FC_SEED when
// set, and a failure names the seed and the counterexample's path, so
// `FC_SEED=<seed> FC_PATH=<path> npx vitest run <file>` replays it.
import fc from 'fast-check';

/** The run's seed: FC_SEED replays a run, otherwise a new one each run. */
export const FC_SEED = process.env.FC_SEED === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(process.env.FC_SEED);
if (!Number.isSafeInteger(FC_SEED)) throw new Error(`FC_SEED must be an integer, not ${process.env.FC_SEED}`);

/**
 * fc.assert with the run's seed (and FC_PATH, when set). The seed is printed before the property
 * runs, so a run that hangs or times out can be replayed too, and a failure's message begins with
 * the replay command's variables.
 */
export async function checkProperty<Ts>(property: fc.IRawProperty<Ts>, parameters: fc.Parameters<Ts> = {}): Promise<void> {
  const path = process.env.FC_PATH;
  console.info(`fast-check: FC_SEED=${FC_SEED}${path === undefined ? '' : ` FC_PATH=${path}`}`);
  try {
    await fc.assert(property, { ...parameters, seed: FC_SEED, ...(path === undefined ? {} : { path }) });
  } catch (err) {
    if (err instanceof Error) {
      const failedPath = /path: "([^"]*)"/.exec(err.message)?.[1];
      err.message = `replay: FC_SEED=${FC_SEED}${failedPath ? ` FC_PATH=${failedPath}` : ''}\n${err.message}`;
    }
    throw err;
  }
}
