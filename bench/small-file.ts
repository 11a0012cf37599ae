// The small-file case: a 100 kB file to a receiver that is already running, against scp to an
// sshd that is already running, in interleaved pairs. What it measures is everything but the
// bulk path: process start, key loading, connect, handshake, the database, the final rename.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { measure, signal, waitForOutput, type Measured } from './measure.js';
import type { Side } from './side.js';
import type { ThrowawaySshd } from './sshd.js';

export const SMALL_FILE_BYTES = 100 * 1000;

export interface SmallFileTimes {
  readonly ours: { readonly wallSec: number; readonly cpuSec: number | undefined }[];
  readonly scp: { readonly wallSec: number; readonly cpuSec: number | undefined }[];
}

export async function smallFilePairs(
  cli: string,
  root: string,
  sides: { readonly receiver: Side; readonly sender: Side },
  port: number,
  sshd: ThrowawaySshd | undefined,
  pairs: number,
): Promise<SmallFileTimes> {
  const receiver: Measured = measure(
    process.execPath,
    [cli, 'receive', '--host', '127.0.0.1', '--port', String(port)],
    sides.receiver.env,
    join(sides.receiver.dir, 'receiver.time'),
  );
  await waitForOutput(receiver, /host key fingerprint/);
  const work = mkdtempSync(join(root, 'small-'));
  const times: SmallFileTimes = { ours: [], scp: [] };
  try {
    // One send first: the sender's key is made and the receiver's recorded, as for any later send.
    for (let i = 0; i <= pairs; i++) {
      // A receiver never overwrites: each round sends a file of its own name.
      const file = join(work, `small-${i}.bin`);
      writeFileSync(file, randomBytes(SMALL_FILE_BYTES));
      const sent = measure(
        process.execPath,
        [cli, 'send', '--host', '127.0.0.1', '--port', String(port), '--file', file],
        sides.sender.env,
        join(work, `send-${i}.time`),
      );
      const done = await sent.done;
      if (done.code !== 0) throw new Error(`small send failed:\n${sent.output()}`);
      if (i === 0) continue;
      times.ours.push({ wallSec: done.usage.wallSec, cpuSec: done.usage.cpuSec });
      if (!sshd) continue;
      const copied = measure(
        'scp',
        [...sshd.scpArgs(), file, sshd.remote(join(work, `copy-${i}`))],
        process.env,
        join(work, `scp-${i}.time`),
      );
      const scp = await copied.done;
      if (scp.code !== 0) throw new Error(`small scp failed:\n${copied.output()}`);
      times.scp.push({ wallSec: scp.usage.wallSec, cpuSec: scp.usage.cpuSec });
    }
  } finally {
    signal(receiver, 'SIGTERM');
    await receiver.done;
    rmSync(work, { recursive: true, force: true });
  }
  return times;
}
