// Runs the compiled tests (`node --test` with the arguments given) with TMPDIR pointing at a
// folder of this run's own, removed when the run ends, passed or failed: the tests make peers,
// databases, PostgreSQL clusters and files of hundreds of MiB under the temporary folder, and a
// suite that left them behind filled /tmp by about 1.3 GB a run.
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = mkdtempSync(join(tmpdir(), 'securetransfer-tests-'));
// Readable by others: PostgreSQL runs as its own user inside a folder the tests give it here.
chmodSync(root, 0o755);

const child = spawn(process.execPath, ['--test', ...process.argv.slice(2)], {
  stdio: 'inherit',
  env: { ...process.env, TMPDIR: root },
});
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));

child.on('exit', (code, signal) => {
  try {
    rmSync(root, { recursive: true, force: true, maxRetries: 3 });
  } catch (e) {
    // A failed test may have left a file system mounted inside it: name the folder, not hide it.
    console.error(`could not remove the tests' temporary folder ${root}: ${e.message}`);
  }
  process.exit(code ?? (signal ? 1 : 0));
});
