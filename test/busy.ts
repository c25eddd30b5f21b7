// `npm run test:busy [-- --runs=N] [vitest arguments]`: the whole suite (or the files named) N times
// in a row (1 by default) while two processes burn a CPU each, as a CI neighbour or a developer's
// build would. The suite must stay green on a busy machine: nothing in it may depend on how fast
// the machine is. Stops at the first failed run; prints each run's duration.
import { spawn, type ChildProcess } from 'node:child_process';
import { performance } from 'node:perf_hooks';

const BURNERS = 2;
const runsArg = process.argv.slice(2).find((arg) => arg.startsWith('--runs='));
const runs = runsArg ? Number(runsArg.slice('--runs='.length)) : 1;
if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs wants a positive integer, not ${runsArg}`);
const vitestArgs = process.argv.slice(2).filter((arg) => arg !== runsArg);

const burners: ChildProcess[] = Array.from({ length: BURNERS }, () => spawn(process.execPath, ['-e', 'for (;;);'], { stdio: 'ignore' }));
const stopBurners = () => {
  for (const burner of burners) burner.kill('SIGKILL');
};
process.on('exit', stopBurners);
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => process.exit(130));

let failed = false;
for (let run = 1; run <= runs && !failed; run += 1) {
  const started = performance.now();
  const vitest = spawn(process.execPath, ['node_modules/vitest/vitest.mjs', 'run', ...vitestArgs], { stdio: 'inherit' });
  const code = await new Promise<number | null>((resolve) => vitest.on('exit', resolve));
  failed = code !== 0;
  console.log(
    `test:busy run ${run}/${runs} beside ${BURNERS} CPU burners: ${failed ? `FAILED (exit ${code})` : 'passed'} in ${Math.round((performance.now() - started) / 1000)} s`,
  );
}
// The burners are this process's children: it ends only once they are stopped.
stopBurners();
process.exitCode = failed ? 1 : 0;
