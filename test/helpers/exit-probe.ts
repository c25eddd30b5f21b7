// Loaded into a CLI under test with `--import`: if the event loop turns again after the CLI's last
// output, something still holds the process open, and the probe writes what (Node's active
// resources) to the file EXIT_PROBE_REPORT names. A CLI that exits once it has said it is done
// never gives the probe's unref'd timer a turn, however slow the machine.
import { writeFileSync } from 'node:fs';

const report = process.env.EXIT_PROBE_REPORT;
if (!report) throw new Error('exit-probe: EXIT_PROBE_REPORT names no file');

let check: NodeJS.Timeout | undefined;
function afterOutput(): void {
  clearTimeout(check);
  // unref'd: the probe never keeps the process alive itself, it only reports what does.
  check = setTimeout(() => writeFileSync(report!, JSON.stringify(process.getActiveResourcesInfo())), 0).unref();
}

for (const stream of [process.stdout, process.stderr]) {
  const write = stream.write.bind(stream) as (...args: unknown[]) => boolean;
  stream.write = ((...args: unknown[]) => {
    const written = write(...args);
    afterOutput();
    return written;
  }) as typeof stream.write;
}
