// The receiver as an anonymous attacker finds it (docs/defences.md), with real processes: a small
// file system mounted for the test (tmpfs, as root), many loopback addresses, a database whose
// disk fills up, sessions that trickle. Each case checks that the receiver refuses with a code,
// stays up, keeps its memory and records bounded, and still serves an honest sender.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ZstdNapiCodec } from '../../src/adapters/codec/zstd-napi-codec.js';
import { openSqliteDataSource } from '../../src/adapters/persistence/typeorm/sqlite-data-source.js';
import { encodeManifest } from '../../src/domain/transfer/manifest.js';
import { encodePieceHeader, encodeTransferComplete, PieceEncoding } from '../../src/domain/wire/messages.js';
import { transferRootInput } from '../../src/domain/transfer/transfer-root.js';
import { makePeer, runCli, startReceiver, type Peer, type RunningReceiver } from '../support/cli.js';
import { sha256File, writeRandomFile } from '../support/files.js';
import { acceptedTransfer, connectFrom, crypto, handshakeWith, nextMessage, sendWhole, testManifest } from '../support/hostile-client.js';

const MiB = 1024 * 1024;

/** A tmpfs of the given size, mounted for real (the tests run as root, as CI does). */
function mountSmallDisk(sizeMiB: number): { dir: string; unmount(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'st-smalldisk-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeMiB}m,mode=0700`, 'tmpfs', dir]);
  return {
    dir,
    unmount: () => {
      execFileSync('umount', ['-l', dir]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const rssMiB = (pid: number) => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;

async function auditRows(peer: Peer, address?: string): Promise<{ type: string; code?: string; detail?: string }[]> {
  const r = await runCli(['audit', ...(address ? ['--address', address] : []), '--limit', '100000', '--json'], peer.env);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as { type: string; code?: string; detail?: string }[];
}

async function honestSend(receiver: RunningReceiver, name: string, size = MiB) {
  const honest = makePeer(`honest-${name}`);
  const source = join(honest.dir, name);
  writeRandomFile(source, size);
  const sent = await runCli(['send', '--host', '127.0.0.1', '--port', String(receiver.port), '--file', source], honest.env);
  return { sent, source };
}

describe('abuse: the disk', { timeout: 300_000 }, () => {
  const disk = mountSmallDisk(48);
  after(() => disk.unmount());

  it('refuses 20 senders declaring 5 GB each, and concurrent honest-sized ones beyond the budget, filling nothing else', async () => {
    const peer = makePeer('abuse-disk', { ST_OUTPUT_DIR: join(disk.dir, 'received'), ST_MIN_FREE_SPACE: '8MiB', ST_MAX_SESSIONS: '64' });
    const r = await startReceiver(peer);
    try {
      const huge = await Promise.all(
        Array.from({ length: 20 }, async (_, i) => {
          const m = testManifest({ fileName: `huge-${i}.bin`, fileSize: 5e9, pieceSize: 2 * MiB });
          const s = await handshakeWith(`127.0.1.${i + 1}`, r.port, encodeManifest(m));
          const answer = await nextMessage(s.channel, m);
          s.connection.destroy();
          return answer;
        }),
      );
      assert.ok(
        huge.every((a) => a?.type === 'close' && a.code === 'E_INSUFFICIENT_SPACE'),
        JSON.stringify(huge.map((a) => a?.type)),
      );

      // 20 senders of 4 MiB at once into 40 MiB that may be promised: at most 10 fit.
      const sessions = await Promise.all(
        Array.from({ length: 20 }, async (_, i) => {
          const m = testManifest({ fileName: `fits-${i}.bin`, fileSize: 4 * MiB, pieceSize: MiB });
          const s = await handshakeWith(`127.0.2.${i + 1}`, r.port, encodeManifest(m));
          return { ...s, manifest: m, first: await nextMessage(s.channel, m) };
        }),
      );
      const accepted = sessions.filter((s) => s.first?.type === 'accept');
      const refused = sessions.filter((s) => s.first?.type === 'close');
      console.log(`# disk budget: ${accepted.length} of 20 accepted, ${refused.length} refused`);
      assert.ok(accepted.length >= 1 && accepted.length <= 10, `${accepted.length} accepted`);
      assert.ok(refused.every((s) => s.first?.type === 'close' && s.first.code === 'E_INSUFFICIENT_SPACE'));
      assert.equal(accepted.length + refused.length, 20);
      const answers = await Promise.all(accepted.map((s) => sendWhole(s.channel, s.manifest, new Uint8Array(crypto.randomBytes(4 * MiB)))));
      assert.ok(
        answers.every((a) => a?.type === 'verified'),
        'every accepted transfer completes',
      );
      for (const s of sessions) s.connection.destroy();
      // Someone else on the same file system still has the floor the receiver kept free.
      const free = statfsSync(disk.dir);
      assert.ok(free.bavail * free.bsize >= 8 * MiB - 64 * 1024, `${free.bavail * free.bsize} bytes left`);
      writeFileSync(join(disk.dir, 'someone-else.bin'), new Uint8Array(6 * MiB));
      rmSync(join(disk.dir, 'someone-else.bin'));
      assert.equal(
        readdirSync(join(disk.dir, 'received')).filter((n) => n.startsWith('.securetransfer-')).length,
        0,
        'no partial files left',
      );
      assert.equal(r.process.exitCode, null, 'still running');
    } finally {
      await r.stop();
    }
  });
});

describe('abuse: the rate limit counts bytes written', { timeout: 120_000 }, () => {
  it('writes pieces of zeros at the configured rate, within 15%', async () => {
    const peer = makePeer('abuse-zeros');
    const rate = 1e6;
    const r = await startReceiver(peer, undefined, { ST_RATE_LIMIT_BYTES_PER_SEC: String(rate) });
    try {
      const size = 6 * MiB;
      const m = testManifest({ fileName: 'zeros.bin', fileSize: size, pieceSize: MiB, compression: 'zstd' });
      const { channel, connection } = await acceptedTransfer('127.0.0.1', r.port, m);
      const codec = new ZstdNapiCodec();
      const piece = new Uint8Array(MiB);
      const hash = crypto.sha256(piece);
      const compressed = codec.compress(piece, 3);
      const hashes = new Uint8Array(32 * m.pieceCount);
      const started = performance.now();
      for (let i = 0; i < m.pieceCount; i++) {
        hashes.set(hash, 32 * i);
        await channel.sendMessages([
          encodePieceHeader({ index: i, offset: i * MiB, rawLength: MiB, encoding: PieceEncoding.ZSTD, hash }, compressed.length),
          compressed,
        ]);
      }
      await channel.sendMessages([encodeTransferComplete(crypto.sha256(transferRootInput({ fileSize: size }, hashes)))]);
      let answer;
      do answer = await nextMessage(channel, m);
      while (answer?.type === 'ack');
      const seconds = (performance.now() - started) / 1000;
      connection.destroy();
      assert.equal(answer?.type, 'verified');
      const burst = Math.max(64 * 1024, rate / 10);
      const written = size / seconds;
      console.log(
        `# ${size} bytes of zeros (${compressed.length * m.pieceCount} on the wire) written in ${seconds.toFixed(2)} s: ${(written / 1e6).toFixed(2)} MB/s at a 1 MB/s limit`,
      );
      assert.ok(seconds >= ((size - burst) / rate) * 0.85, `${seconds.toFixed(2)} s is faster than the limit allows`);
      assert.ok(written <= rate * 1.15, `${written.toFixed(0)} bytes/s written`);
    } finally {
      await r.stop();
    }
  });
});

describe('abuse: the database disk fills', { timeout: 300_000 }, () => {
  const disk = mountSmallDisk(4);
  after(() => disk.unmount());

  it('keeps running and refusing with a code while the database cannot write, and recovers by itself', async () => {
    const dbPath = join(disk.dir, 'securetransfer.db');
    const peer = makePeer('abuse-dbfull', { DB_PATH: dbPath, ST_HOST_KEY_PATH: join(tmpdir(), `st-hk-${process.pid}-${Date.now()}`) });
    const r = await startReceiver(peer);
    try {
      // The write-ahead log keeps space it once had: empty it, then fill the file system.
      const db = await openSqliteDataSource(dbPath);
      await db.query('PRAGMA wal_checkpoint(TRUNCATE)');
      await db.destroy();
      const filler = join(disk.dir, 'filler');
      try {
        execFileSync('dd', ['if=/dev/zero', `of=${filler}`, 'bs=64k'], { stdio: 'ignore' });
      } catch {
        // dd stops with an error at "No space left on device": that is the point.
      }
      const tries = await Promise.all(
        Array.from({ length: 10 }, async (_, i) => {
          const m = testManifest({ fileName: `while-full-${i}.bin` });
          const s = await handshakeWith(`127.0.3.${i + 1}`, r.port, encodeManifest(m));
          const answer = await nextMessage(s.channel, m);
          s.connection.destroy();
          return answer;
        }),
      );
      const codes = tries.map((a) => (a?.type === 'close' ? a.code : a?.type));
      console.log(`# with the database's disk full: ${JSON.stringify(codes)}`);
      assert.ok(
        codes.every((c) => c === 'E_UNAVAILABLE'),
        JSON.stringify(codes),
      );
      await new Promise((resolve) => setTimeout(resolve, 500));
      assert.equal(r.process.exitCode, null, 'the receiver is still running');
      rmSync(filler);
      const { sent, source } = await honestSend(r, 'after-space-returns.bin');
      assert.equal(sent.code, 0, sent.stderr);
      assert.equal(await sha256File(join(peer.dir, 'received', 'after-space-returns.bin')), await sha256File(source));
    } finally {
      await r.stop();
    }
  });
});

describe('abuse: handshake slots and slow sessions', { timeout: 300_000 }, () => {
  it('serves an honest sender while 15 addresses hold 5 stalled handshakes each', async () => {
    const peer = makePeer('abuse-stall');
    const r = await startReceiver(peer, undefined, { ST_HANDSHAKE_TIMEOUT_SEC: '30' });
    try {
      const stalled = (
        await Promise.all(Array.from({ length: 15 * 5 }, (_, i) => connectFrom(`127.0.0.${2 + (i % 15)}`, r.port).catch(() => undefined)))
      ).filter((c) => c !== undefined);
      await new Promise((resolve) => setTimeout(resolve, 300));
      const { sent, source } = await honestSend(r, 'beside-the-stalled.bin');
      assert.equal(sent.code, 0, `the honest sender was not served:\n${sent.stderr}`);
      assert.equal(await sha256File(join(peer.dir, 'received', 'beside-the-stalled.bin')), await sha256File(source));
      for (const c of stalled) c.destroy();
    } finally {
      await r.stop();
    }
  });

  it('closes 200 sessions that trickle a byte every 2 s, with bounded memory', async () => {
    const peer = makePeer('abuse-trickle');
    const r = await startReceiver(peer, undefined, {
      ST_MAX_CONCURRENT_PER_IP: '100',
      ST_MAX_HANDSHAKES_PER_IP: '100',
      ST_MAX_SESSIONS: '256',
      ST_IDLE_TIMEOUT_SEC: '5',
      ST_PROGRESS_INTERVAL_SEC: '3',
      ST_MIN_PROGRESS_BYTES: '4KiB',
    });
    try {
      const pid = r.process.pid!;
      const before = rssMiB(pid);
      const sessions = [];
      for (let batch = 0; batch < 4; batch++) {
        sessions.push(
          ...(await Promise.all(
            Array.from({ length: 50 }, (_, i) =>
              acceptedTransfer(
                `127.0.4.${batch * 50 + i + 1}`,
                r.port,
                testManifest({ fileName: `trickle-${batch}-${i}.bin`, fileSize: 16 * MiB, pieceSize: MiB }),
              ),
            ),
          )),
        );
      }
      const started = Date.now();
      let peak = rssMiB(pid);
      // A frame header, then one byte of a record every 2 s: each read restarts an idle timer.
      const trickles = sessions.map(async ({ connection }) => {
        const header = Uint8Array.of(FRAME_RECORD, 0xff, 0xf0);
        for (let i = 0; ; i++) {
          try {
            await connection.write(i === 0 ? header : Uint8Array.of(i & 0xff));
          } catch {
            return Date.now() - started;
          }
          await new Promise((resolve) => setTimeout(resolve, 2_000));
          if (Date.now() - started > 60_000) return Infinity;
        }
      });
      const closedAfter = await Promise.all([
        ...trickles,
        (async () => {
          for (let i = 0; i < 20; i++) {
            peak = Math.max(peak, rssMiB(pid));
            await new Promise((resolve) => setTimeout(resolve, 500));
          }
          return 0;
        })(),
      ]);
      const slowest = Math.max(...closedAfter);
      console.log(
        `# 200 trickling sessions closed within ${(slowest / 1000).toFixed(1)} s; receiver RSS ${before.toFixed(0)} MiB before, peak ${peak.toFixed(0)} MiB`,
      );
      assert.ok(slowest < 30_000, `a trickling session stayed open ${slowest} ms`);
      assert.ok(peak < 400, `peak RSS ${peak} MiB`);
      const events = await auditRows(peer);
      assert.ok(events.filter((e) => e.type === 'transfer.failed' && e.code === 'E_TOO_SLOW').length >= 1);
      assert.deepEqual(
        readdirSync(join(peer.dir, 'received')).filter((n) => n.startsWith('.securetransfer-')),
        [],
        'no partial file left by sessions that never sent a piece',
      );
    } finally {
      await r.stop();
    }
  });
});

describe('abuse: bounded audit records', { timeout: 300_000 }, () => {
  it('1,000 connect-and-close from one address leave a bounded number of audit rows', async () => {
    const peer = makePeer('abuse-flood');
    const r = await startReceiver(peer);
    try {
      for (let i = 0; i < 1000; i += 5) {
        await Promise.all(
          Array.from({ length: 5 }, async () => {
            const c = await connectFrom('127.0.5.1', r.port).catch(() => undefined);
            c?.destroy();
          }),
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
      const rows = await auditRows(peer, '127.0.5.1');
      console.log(`# 1000 connect-and-close: ${rows.length} audit rows for the address`);
      assert.ok(rows.length > 0 && rows.length <= 60, `${rows.length} rows`);
      assert.ok(
        rows.some((e) => e.type === 'ban'),
        'the flood earned a ban',
      );
      const { sent } = await honestSend(r, 'after-the-flood.bin');
      assert.equal(sent.code, 0, sent.stderr);
    } finally {
      await r.stop();
    }
  });
});

const FRAME_RECORD = 0x04;
