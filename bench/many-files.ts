// The many-files case: a folder of 2,000 text-like files of about 26 KB (52 MB) sent whole, by
// securetransfer to a fresh receiver, by rsync -a over ssh and by scp -r to a running sshd, in
// interleaved rounds. What it measures is what a folder costs beyond its bytes: listing,
// opening, creating and syncing many files, and round trips per file where a tool has them.
import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { makeTextFile } from './files.js';
import { measure, signal, waitForOutput, type Usage } from './measure.js';
import { freshSide } from './side.js';
import type { ThrowawaySshd } from './sshd.js';

export const MANY_FILES = 2000;
export const MANY_FILE_BYTES = 26 * 1024;

export interface ManyFilesRow {
  readonly tool: string;
  readonly round: number;
  readonly wallSec: number;
  readonly sender: Usage;
}

/** The folder, made once per machine from the seeded text generator: distinct contents in 20 folders of 100. */
export function makeManyFiles(root: string): string {
  const dir = join(root, `many-${MANY_FILES}x${MANY_FILE_BYTES}`);
  if (existsSync(join(dir, 'part-19', 'file-01999.log'))) return dir;
  rmSync(dir, { recursive: true, force: true });
  const blob = join(root, 'many-files-source.log');
  makeTextFile(blob, MANY_FILES * MANY_FILE_BYTES);
  const fd = openSync(blob, 'r');
  try {
    for (let i = 0; i < MANY_FILES; i++) {
      const folder = join(dir, `part-${String(Math.floor(i / 100)).padStart(2, '0')}`);
      if (i % 100 === 0) mkdirSync(folder, { recursive: true });
      const bytes = Buffer.alloc(MANY_FILE_BYTES);
      readSync(fd, bytes, 0, MANY_FILE_BYTES, i * MANY_FILE_BYTES);
      writeFileSync(join(folder, `file-${String(i).padStart(5, '0')}.log`), bytes);
    }
  } finally {
    closeSync(fd);
  }
  return dir;
}

function countFiles(dir: string): number {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) n += e.isDirectory() ? countFiles(join(dir, e.name)) : 1;
  return n;
}

async function ours(cli: string, work: string, folder: string, port: number, round: number): Promise<ManyFilesRow> {
  const receiverSide = freshSide(work, 'many-receiver');
  const senderSide = freshSide(work, 'many-sender');
  const receiver = measure(
    process.execPath,
    [cli, 'receive', '--host', '127.0.0.1', '--port', String(port)],
    receiverSide.env,
    join(receiverSide.dir, 'r.time'),
  );
  await waitForOutput(receiver, /host key fingerprint/);
  const sender = measure(
    process.execPath,
    [cli, 'send', '--host', '127.0.0.1', '--port', String(port), '--file', folder],
    senderSide.env,
    join(senderSide.dir, 's.time'),
  );
  const sent = await sender.done;
  signal(receiver, 'SIGTERM');
  await receiver.done;
  if (sent.code !== 0) throw new Error(`folder send failed:\n${sender.output()}`);
  const arrived = countFiles(join(receiverSide.env['ST_OUTPUT_DIR']!, basename(folder)));
  if (arrived !== MANY_FILES) throw new Error(`${arrived} files arrived of ${MANY_FILES}`);
  return { tool: 'securetransfer', round, wallSec: sent.usage.wallSec, sender: sent.usage };
}

async function copyWith(tool: string, command: string, args: string[], dest: string, round: number): Promise<ManyFilesRow> {
  const m = measure(command, args, process.env, join(dest, '..', `${tool.replace(/\W/g, '')}-${round}.time`));
  const done = await m.done;
  if (done.code !== 0) throw new Error(`${tool} failed:\n${m.output()}`);
  const arrived = countFiles(dest);
  if (arrived !== MANY_FILES) throw new Error(`${tool}: ${arrived} files arrived of ${MANY_FILES}`);
  return { tool, round, wallSec: done.usage.wallSec, sender: done.usage };
}

/** Interleaved rounds of the three tools; rsync and scp only where sshd and rsync exist. */
export async function manyFilesRounds(
  cli: string,
  root: string,
  sshd: ThrowawaySshd | undefined,
  rounds: number,
  port: () => number,
  settle: () => void,
): Promise<ManyFilesRow[]> {
  const folder = makeManyFiles(root);
  const haveRsync = sshd !== undefined && commandExists('rsync');
  const rows: ManyFilesRow[] = [];
  // Every copy stays until the end: ext4 makes a file slowly while many inodes were deleted in
  // the last seconds (perf: recently_deleted under __ext4_new_inode), which would penalise
  // whichever tool runs right after a removal.
  const work = mkdtempSync(join(root, 'many-work-'));
  try {
    for (let round = 1; round <= rounds; round++) {
      settle();
      rows.push(await ours(cli, work, folder, port(), round));
      if (!sshd) continue;
      if (haveRsync) {
        settle();
        const dest = mkdtempSync(join(work, 'rsync-'));
        rows.push(await copyWith('rsync -a', 'rsync', ['-a', '-e', sshd.sshCommand(), `${folder}/`, sshd.remote(`${dest}/`)], dest, round));
      }
      settle();
      const dest = mkdtempSync(join(work, 'scp-r-'));
      rows.push(await copyWith('scp -r', 'scp', ['-r', ...sshd.scpArgs(), folder, sshd.remote(dest)], dest, round));
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return rows;
}

function commandExists(name: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
