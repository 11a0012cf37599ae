// npm run bench [-- --quick] [-- --rounds N] [-- --profile] [-- --stores] [-- --many-files]: the real CLI over loopback
// against scp on the same files in the same run, interleaved. Prints MB/s, wall and CPU seconds, the cores both
// processes kept busy, peak RSS of each side, bytes on the wire, a 100 kB file to a running
// receiver against scp, a folder of 2,000 files against rsync -a and scp -r (--many-files runs
// only that), the handshake latency and a resume after a cut at half way; --stores runs
// bench/stores.ts instead (SQLite against PostgreSQL, one receiver against two). Never part of
// npm test: it takes minutes and its figures depend on the machine.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { RECEIVER_WAITS, SENDER_WAITS, type WaitReport } from '../src/application/pipeline-waits.js';
import { makeRandomFile, makeTextFile } from './files.js';
import { measure, signal, waitForOutput, type Usage } from './measure.js';
import { SSHD, startSshd, type ThrowawaySshd } from './sshd.js';
import { aeadFigures } from './aead.js';
import { handshakeLatencies } from './handshake-latency.js';
import { makeLink, type Link } from './link.js';
import { mainThreadProfile, STEPS, stepsOf } from './profile.js';
import { freshSide as freshSideIn } from './side.js';
import { smallFilePairs, SMALL_FILE_BYTES, type SmallFileTimes } from './small-file.js';
import { storesMain } from './stores.js';
import { MANY_FILE_BYTES, MANY_FILES, manyFilesRounds, type ManyFilesRow } from './many-files.js';

const CLI = resolve('dist/bundle/securetransfer.js');
const MiB = 1024 * 1024;

const args = process.argv.slice(2);
const linkSpec = args.includes('--link') ? args[args.indexOf('--link') + 1] : undefined;
// On an emulated link 1 GiB takes minutes per run: the quick size is the default there.
const quick = args.includes('--quick') || (linkSpec !== undefined && !args.includes('--full'));
const rounds = Number(args[args.indexOf('--rounds') + 1]) || 2;
const size = quick ? 100 * MiB : 1024 * MiB;
/** Where each side runs: loopback by default, the two ends of an emulated link with --link. */
let link: Link | undefined;
/** Where the receiver's side listens, and what the sender's side dials to reach it. */
const bindHost = () => link?.bindHost ?? '127.0.0.1';
const host = () => link?.receiverHost ?? '127.0.0.1';
const onSender = (command: string, a: string[]): [string, string[]] => link?.sender(command, a) ?? [command, a];
const onReceiver = (command: string, a: string[]): [string, string[]] => link?.receiver(command, a) ?? [command, a];
const root = join(tmpdir(), 'securetransfer-bench');
mkdirSync(root, { recursive: true });

interface Row {
  readonly label: string;
  readonly tool: string;
  readonly mbps: number;
  readonly wallSec: number;
  readonly sender?: Usage;
  readonly receiver?: Usage;
  readonly wireBytes?: number;
  /** Where each side's pipeline waited (their --json completion events), for our rows. */
  readonly waits?: { readonly sender?: WaitReport<string>; readonly receiver?: WaitReport<string> };
}

/** The waits a side reported in its --json completion event, if it did. */
function waitsIn(output: string, event: string): WaitReport<string> | undefined {
  for (const line of output.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const e = JSON.parse(line) as { event?: string; waits?: WaitReport<string> };
      if (e.event === event) return e.waits;
    } catch {
      // a log line that happens to start with a brace
    }
  }
  return undefined;
}

const fmt = (n: number | undefined, digits = 1) => (n === undefined ? '-' : n.toFixed(digits));
/** Small-file sends, each paired with an scp of the same file. */
const SMALL_FILE_PAIRS = 10;

/** CPU seconds of both processes per wall second of the transfer: how many of the cores it kept busy. */
function coresBusy(r: Row): number | undefined {
  if (r.sender?.cpuSec === undefined || r.receiver?.cpuSec === undefined) return undefined;
  return (r.sender.cpuSec + r.receiver.cpuSec) / r.wallSec;
}

const freshSide = (name: string) => freshSideIn(root, name);

function freePort(): number {
  return 20000 + Math.floor(Math.random() * 20000);
}

async function startReceiver(side: ReturnType<typeof freshSide>, port: number, nodeFlags: string[] = []) {
  const m = measure(
    ...onReceiver(process.execPath, [...nodeFlags, CLI, 'receive', '--json', '--host', bindHost(), '--port', String(port)]),
    side.env,
    join(side.dir, 'receiver.time'),
  );
  await waitForOutput(m, /"event":"listening"/);
  await link?.expose(port);
  return m;
}

function status(env: NodeJS.ProcessEnv, id: string): { wireBytes: number; piecesDone: number; pieceCount: number } | undefined {
  try {
    const out = execFileSync(process.execPath, [CLI, 'status', '--transfer-id', id, '--json'], { env, encoding: 'utf8' });
    return (JSON.parse(out) as { wireBytes: number; piecesDone: number; pieceCount: number }[])[0];
  } catch {
    return undefined;
  }
}

/** With profileDir, each side runs under node --cpu-prof and writes its profiles into profileDir/<side>. */
async function runOurs(label: string, file: string, level: number | 'auto' = 'auto', profileDir?: string): Promise<Row> {
  const receiverSide = freshSide('receiver');
  const senderSide = freshSide('sender');
  const port = freePort();
  const flags = (side: string) => (profileDir === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', join(profileDir, side)]);
  const receiver = await startReceiver(receiverSide, port, flags('receiver'));
  const sender = measure(
    ...onSender(process.execPath, [
      ...flags('sender'),
      CLI,
      'send',
      '--json',
      '--host',
      host(),
      '--port',
      String(port),
      '--file',
      file,
      '--compression-level',
      String(level),
    ]),
    senderSide.env,
    join(senderSide.dir, 'sender.time'),
  );
  const sent = await sender.done;
  signal(receiver, 'SIGTERM');
  const received = await receiver.done;
  if (sent.code !== 0) throw new Error(`send failed:\n${sender.output()}`);
  const id = /"transferId":"([0-9a-f-]{36})"/.exec(sender.output())?.[1] ?? '';
  const wireBytes = status(senderSide.env, id)?.wireBytes;
  const waits = { sender: waitsIn(sender.output(), 'completed'), receiver: waitsIn(receiver.output(), 'transfer-completed') };
  rmSync(receiverSide.dir, { recursive: true, force: true });
  rmSync(senderSide.dir, { recursive: true, force: true });
  return {
    label,
    tool: `securetransfer (zstd ${level})`,
    mbps: size / MiB / sent.usage.wallSec,
    wallSec: sent.usage.wallSec,
    sender: sent.usage,
    receiver: received.usage,
    ...(wireBytes === undefined ? {} : { wireBytes }),
    waits,
  };
}

async function runScp(label: string, file: string, sshd: ThrowawaySshd, cipher?: string): Promise<Row> {
  const dest = mkdtempSync(join(root, 'scp-'));
  const serverBefore = sshd.serverCpuSec();
  const m = measure(
    ...onSender('scp', [...sshd.scpArgs(cipher), file, sshd.remote(join(dest, 'copy'))]),
    process.env,
    join(dest, 'scp.time'),
  );
  const done = await m.done;
  await new Promise((r) => setTimeout(r, 200)); // the session's sshd is reaped
  const serverAfter = sshd.serverCpuSec();
  const receiver: Usage | undefined =
    serverBefore === undefined || serverAfter === undefined
      ? undefined
      : { wallSec: done.usage.wallSec, cpuSec: serverAfter - serverBefore, peakRssMiB: undefined };
  if (done.code !== 0) throw new Error(`scp failed:\n${m.output()}`);
  if (statSync(join(dest, 'copy')).size !== size) throw new Error('scp copied a different size');
  rmSync(dest, { recursive: true, force: true });
  return {
    label,
    tool: cipher ? `scp -c ${cipher}` : 'scp (default cipher)',
    mbps: size / MiB / done.usage.wallSec,
    wallSec: done.usage.wallSec,
    sender: done.usage,
    ...(receiver ? { receiver } : {}),
  };
}

async function resumeAfterHalf(file: string): Promise<{ fullSec: number; resumeSec: number; piecesHeld: number; pieceCount: number }> {
  const receiverSide = freshSide('receiver');
  const senderSide = freshSide('sender');
  const port = freePort();
  const receiver = await startReceiver(receiverSide, port);
  try {
    const sender = measure(
      process.execPath,
      [CLI, 'send', '--host', '127.0.0.1', '--port', String(port), '--file', file],
      senderSide.env,
      join(senderSide.dir, 'a.time'),
    );
    const id = (await waitForOutput(sender, /transfer ([0-9a-f-]{36})/))[1]!;
    // Cut when the partial file reaches half the size (pieces are written in order, mostly).
    const partial = join(receiverSide.dir, 'received', `.securetransfer-${id}.part`);
    for (;;) {
      if (existsSync(partial) && statSync(partial).size >= size / 2) break;
      if (sender.child.exitCode !== null) throw new Error('the transfer finished before the cut');
      await new Promise((r) => setTimeout(r, 2));
    }
    signal(sender, 'SIGKILL');
    await sender.done;
    await new Promise((r) => setTimeout(r, 300));
    const resumed = measure(
      process.execPath,
      [CLI, 'resume', '--transfer-id', id, '--host', '127.0.0.1', '--port', String(port), '--file', file],
      senderSide.env,
      join(senderSide.dir, 'b.time'),
    );
    const done = await resumed.done;
    if (done.code !== 0) throw new Error(`resume failed:\n${resumed.output()}`);
    const held = Number(/(\d+) pieces already held/.exec(resumed.output())?.[1] ?? 0);
    const full = await runOurs('full', file);
    return { fullSec: full.wallSec, resumeSec: done.usage.wallSec, piecesHeld: held, pieceCount: Math.ceil(size / MiB) };
  } finally {
    signal(receiver, 'SIGTERM');
    await receiver.done;
    rmSync(receiverSide.dir, { recursive: true, force: true });
    rmSync(senderSide.dir, { recursive: true, force: true });
  }
}

/**
 * Writes what the last run left dirty in the page cache, untimed: scp does not sync its copy,
 * and the kernel's writeback of it would otherwise land in whichever run comes next.
 */
function settle(): void {
  execFileSync('sync');
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  // An even count has two middles: their mean, not the upper one (which flattered two rounds).
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** --profile: one profiled send of each file, and where each side's CPU time went. */
async function profileMain(files: Record<string, string>): Promise<void> {
  for (const [label, file] of Object.entries(files)) {
    settle();
    const dir = mkdtempSync(join(root, 'profile-'));
    const row = await runOurs(label, file, 'auto', dir);
    console.log(`\n${label}: ${fmt(row.mbps)} MB/s, ${fmt(row.wallSec, 2)} s (profiling slows both sides)`);
    console.log('| step | sender main thread s | receiver main thread s |');
    console.log('|---|---|---|');
    const steps = { sender: stepsOf(mainThreadProfile(join(dir, 'sender'))), receiver: stepsOf(mainThreadProfile(join(dir, 'receiver'))) };
    const busy = (side: 'sender' | 'receiver') =>
      [...steps[side]].filter(([s]) => s !== 'idle').reduce((sum, [, ms]) => sum + ms, 0) / 1000;
    for (const step of STEPS)
      console.log(`| ${step} | ${fmt(steps.sender.get(step)! / 1000, 2)} | ${fmt(steps.receiver.get(step)! / 1000, 2)} |`);
    console.log(`| main thread busy | ${fmt(busy('sender'), 2)} | ${fmt(busy('receiver'), 2)} |`);
    console.log(`| process CPU (user + system, all threads) | ${fmt(row.sender?.cpuSec, 2)} | ${fmt(row.receiver?.cpuSec, 2)} |`);
    const other = (side: 'sender' | 'receiver', cpu: number | undefined) => (cpu === undefined ? undefined : cpu - busy(side));
    console.log(
      `| other threads and their kernel time | ${fmt(other('sender', row.sender?.cpuSec), 2)} | ${fmt(other('receiver', row.receiver?.cpuSec), 2)} |`,
    );
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(
    "\n(The receiver's idle time includes waiting for the sender to start. \"Other threads\" is the process CPU less its main thread's busy time: V8's garbage-collector helpers, compression workers, the file thread pool.)",
  );
}

async function main(): Promise<void> {
  if (!existsSync(CLI)) throw new Error('run `npm run build` first');
  console.log(
    `SecureTransfer benchmark: ${size / MiB} MiB per file, ${rounds} rounds interleaved, ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}`,
  );
  if (args.includes('--stores')) return storesMain(args);
  if (args.includes('--many-files')) return manyFilesMain();
  if (args.includes('--profile')) {
    const profiled = { random: join(root, `random-${size}.bin`), text: join(root, `text-${size}.log`) };
    makeRandomFile(profiled.random, size);
    makeTextFile(profiled.text, size);
    return profileMain(profiled);
  }
  for (const f of aeadFigures()) {
    console.log(`AES-256-GCM, 64 KiB records, ST_CRYPTO=${f.adapter}: seal ${fmt(f.sealMBps, 0)} MB/s, open ${fmt(f.openMBps, 0)} MB/s`);
  }
  const files = { random: join(root, `random-${size}.bin`), text: join(root, `text-${size}.log`) };
  makeRandomFile(files.random, size);
  makeTextFile(files.text, size);

  if (linkSpec !== undefined) {
    link = makeLink(linkSpec);
    console.log(link.describe());
  }
  let sshd: ThrowawaySshd | undefined;
  if (existsSync(SSHD)) {
    const port = freePort();
    sshd = await startSshd(join(root, 'sshd'), port, bindHost(), onReceiver, host());
    await link?.expose(port);
  } else console.log(`scp comparison skipped: ${SSHD} not found (Debian: apt-get install openssh-server)`);

  const rows: Row[] = [];
  try {
    for (const [label, file] of Object.entries(files)) {
      for (let round = 1; round <= rounds; round++) {
        rows.push(await runOurs(label, file));
        settle();
        if (sshd) {
          rows.push(await runScp(label, file, sshd));
          settle();
          rows.push(await runScp(label, file, sshd, 'aes256-gcm@openssh.com'));
          settle();
        }
      }
    }
  } finally {
    sshd?.stop();
  }
  const linkRate = link?.bytesPerSec;
  if (link) {
    link.remove();
    link = undefined;
  }

  console.log(
    '\n| file | tool | MB/s | wall s | CPU s sender | CPU s receiver | cores busy | peak RSS MiB sender | peak RSS MiB receiver | bytes on the wire |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|---|');
  for (const r of rows) {
    console.log(
      `| ${r.label} | ${r.tool} | ${fmt(r.mbps)} | ${fmt(r.wallSec, 2)} | ${fmt(r.sender?.cpuSec, 2)} | ${fmt(r.receiver?.cpuSec, 2)} | ${fmt(coresBusy(r), 2)} | ${fmt(r.sender?.peakRssMiB, 0)} | ${fmt(r.receiver?.peakRssMiB, 0)} | ${r.wireBytes ?? '-'} |`,
    );
  }
  const waited = rows.filter((r) => r.waits?.sender ?? r.waits?.receiver);
  if (waited.length > 0) {
    const causes = (w: WaitReport<string> | undefined, names: readonly string[]) => names.map((n) => fmt(w?.waits[n], 2)).join(' / ');
    console.log(
      '\n| file | pieces took s | sender waited: window / source / socket | receiver waited: network / disk / buffers / socket |',
    );
    console.log('|---|---|---|---|');
    for (const r of waited) {
      console.log(
        `| ${r.label} | ${fmt(r.waits?.sender?.seconds ?? r.waits?.receiver?.seconds, 2)} | ${causes(r.waits?.sender, SENDER_WAITS)} | ${causes(r.waits?.receiver, RECEIVER_WAITS)} |`,
      );
    }
    console.log('(seconds each pipeline spent waiting, by cause, from ACCEPT to the last piece: docs/PERFORMANCE.md#waits)');
  }
  console.log(
    '\n(MB/s is MiB of file per second of the sending command\'s wall time, startup and handshake included; for scp, "CPU s sender" is the scp client, "CPU s receiver" the sshd session, RSS the client only.)',
  );
  for (const label of Object.keys(files)) {
    const ours = median(rows.filter((r) => r.label === label && r.tool.startsWith('securetransfer')).map((r) => r.mbps));
    const scp = rows.filter((r) => r.label === label && r.tool.startsWith('scp (default'));
    if (scp.length)
      console.log(
        `headline ${label}: securetransfer ${fmt(ours)} MB/s = ${fmt(ours / median(scp.map((r) => r.mbps)), 2)}x scp (medians of ${rounds})`,
      );
    const busy = rows.filter((r) => r.label === label && r.tool.startsWith('securetransfer')).map(coresBusy);
    if (busy.every((b) => b !== undefined)) {
      console.log(`cores busy ${label}: ${fmt(median(busy), 2)} (CPU seconds of both processes per wall second, median of ${rounds})`);
    }
    const wire = rows.find((r) => r.label === label && r.wireBytes !== undefined)?.wireBytes;
    if (wire !== undefined) console.log(`wire ${label}: ${fmt((100 * wire) / size)}% of the file's bytes`);
    if (linkRate !== undefined) {
      console.log(
        `link ${label}: securetransfer moves the file at ${fmt((ours * MiB) / linkRate, 2)}x the link's rate (median of ${rounds})`,
      );
    }
  }
  // The small-file, many-files, latency and resume figures are about the software: loopback only.
  if (linkSpec !== undefined) return;

  await smallFileMain();
  await manyFilesMain();

  const latencySide = freshSide('receiver');
  const latencies = await handshakeLatencies(CLI, latencySide, freePort(), 20);
  rmSync(latencySide.dir, { recursive: true, force: true });
  console.log(
    `handshake + manifest answered (connect to ACCEPT), 20 connections: median ${fmt(median(latencies), 2)} ms, max ${fmt(Math.max(...latencies), 2)} ms`,
  );

  // Each round pairs a resume with a full send made right after it: this VM's speed drifts.
  const ratios: number[] = [];
  for (let round = 1; round <= rounds; round++) {
    settle();
    const resume = await resumeAfterHalf(files.random);
    ratios.push(resume.resumeSec / resume.fullSec);
    console.log(
      `resume of the random file cut at half way, round ${round}: ${fmt(resume.resumeSec, 2)} s (receiver held ${resume.piecesHeld}/${resume.pieceCount} pieces) against ${fmt(resume.fullSec, 2)} s for a full send = ${fmt(resume.resumeSec / resume.fullSec, 2)}x`,
    );
  }
  console.log(`resume at half way: ${fmt(median(ratios), 2)}x the time of a full send (median of ${rounds})`);
}

/** The many-files case against rsync -a and scp -r over a throwaway sshd, when there is one. */
/** A 100 kB file to a receiver that is already running, against scp to a running sshd. */
async function smallFileMain(): Promise<void> {
  const sides = { receiver: freshSide('receiver'), sender: freshSide('sender') };
  const sshdSmall = existsSync(SSHD) ? await startSshd(join(root, 'sshd-small'), freePort(), host(), onReceiver) : undefined;
  try {
    const small = await smallFilePairs(CLI, root, sides, freePort(), sshdSmall, SMALL_FILE_PAIRS);
    const line = (tool: string, t: SmallFileTimes['ours']) =>
      `${tool} ${fmt(median(t.map((x) => x.wallSec)), 3)} s wall, ${fmt(median(t.map((x) => x.cpuSec ?? NaN)), 3)} CPU s`;
    console.log(
      `small file (${SMALL_FILE_BYTES / 1000} kB to a running receiver, medians of ${SMALL_FILE_PAIRS} interleaved pairs): ${line('securetransfer', small.ours)}` +
        (small.scp.length
          ? `; ${line('scp', small.scp)}; ratio ${fmt(median(small.ours.map((x) => x.wallSec)) / median(small.scp.map((x) => x.wallSec)), 2)}x`
          : ''),
    );
  } finally {
    sshdSmall?.stop();
    for (const side of Object.values(sides)) rmSync(side.dir, { recursive: true, force: true });
  }
}

async function manyFilesMain(): Promise<void> {
  const sshd = existsSync(SSHD) ? await startSshd(join(root, 'sshd-many'), freePort(), '127.0.0.1') : undefined;
  let rows: ManyFilesRow[];
  try {
    rows = await manyFilesRounds(CLI, root, sshd, rounds, freePort, settle);
  } finally {
    sshd?.stop();
  }
  const bytes = MANY_FILES * MANY_FILE_BYTES;
  console.log(`\n| many files (${MANY_FILES} x ${MANY_FILE_BYTES / 1024} KiB text) | round | wall s | MB/s | CPU s sender |`);
  console.log('|---|---|---|---|---|');
  for (const r of rows)
    console.log(`| ${r.tool} | ${r.round} | ${fmt(r.wallSec, 2)} | ${fmt(bytes / MiB / r.wallSec)} | ${fmt(r.sender.cpuSec, 2)} |`);
  const wall = (tool: string) => median(rows.filter((r) => r.tool === tool).map((r) => r.wallSec));
  const ours = wall('securetransfer');
  const against = ['rsync -a', 'scp -r']
    .filter((tool) => rows.some((r) => r.tool === tool))
    .map((tool) => `${fmt(wall(tool) / ours, 2)}x ${tool} (${fmt(wall(tool), 2)} s)`);
  console.log(
    `many files: securetransfer ${fmt(ours, 2)} s, ${fmt(bytes / MiB / ours)} MB/s` +
      (against.length ? ` = ${against.join(', ')}` : ' (no sshd here: rsync and scp skipped)') +
      ` (medians of ${rounds})`,
  );
}

await main();
