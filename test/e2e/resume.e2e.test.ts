// Resume end to end with real processes: kill either side with SIGKILL at random points, then
// resume; the file arrives identical, and nothing incomplete ever sits under its final name.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, statSync, utimesSync, writeFileSync, openSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { makePeer, runCli, spawnCli, startReceiver, type Peer, type RunningReceiver } from '../support/cli.js';
import { sha256File, writeRandomFile } from '../support/files.js';

const MiB = 1024 * 1024;
/** Slow enough that a kill lands mid-transfer: 16 MiB at 6 MB/s takes about 2.8 s. */
const RATE = '6MB';
const SIZE = 16 * MiB;
const PIECES = SIZE / MiB;

interface StatusRecord {
  status: string;
  piecesDone: number;
  pieceCount: number;
  wireBytes: number;
  attempts: number;
}

async function status(peer: Peer, id: string): Promise<StatusRecord | undefined> {
  const r = await runCli(['status', '--transfer-id', id, '--json'], peer.env);
  if (r.code !== 0) return undefined;
  return (JSON.parse(r.stdout) as StatusRecord[])[0];
}

/** Watches the final name: records any moment it exists with the wrong size. */
function watchFinalName(path: string, size: number) {
  const wrong: string[] = [];
  const timer = setInterval(() => {
    try {
      const s = statSync(path);
      if (s.size !== size) wrong.push(`${path} seen with ${s.size} of ${size} bytes`);
    } catch {
      // not there yet: fine
    }
  }, 20);
  return { stop: () => clearInterval(timer), wrong };
}

/**
 * After a sender's SIGKILL the receiver ends that session only once it reads the connection's
 * end, behind the data still buffered for it (slowly, under the rate limit). A resume before that
 * is refused with E_BUSY, rightly; the tests wait for the receiver to let go first.
 */
async function receiverLetGo(peer: Peer, id: string): Promise<void> {
  for (let waited = 0; waited < 30_000; waited += 100) {
    if ((await status(peer, id))?.status !== 'in-progress') return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`the receiver still works on ${id} 30 s after the sender was killed`);
}

const partials = (dir: string) => (existsSync(dir) ? readdirSync(dir).filter((n) => n.endsWith('.part')) : []);
const randomDelay = (min: number, max: number) => Math.floor(min + Math.random() * (max - min));
const sendArgs = (r: RunningReceiver, file: string) => ['--host', '127.0.0.1', '--port', String(r.port), '--file', file];

async function startSend(sender: Peer, r: RunningReceiver, file: string) {
  const send = spawnCli(['send', ...sendArgs(r, file)], sender.env);
  const id = (await send.waitFor(/transfer ([0-9a-f-]{36}): sending/))[1]!;
  return { send, id };
}

describe('resume after the sender is killed', { timeout: 300_000 }, () => {
  const receiverPeer = makePeer('receiver-kill-sender');
  const sender = makePeer('sender-killed');
  let receiver: RunningReceiver;
  after(() => receiver?.stop());

  for (let round = 1; round <= 3; round++) {
    it(`completes an identical file after SIGKILL at a random point (round ${round})`, async () => {
      receiver ??= await startReceiver(receiverPeer, undefined, { ST_RATE_LIMIT_BYTES_PER_SEC: RATE });
      const source = join(sender.dir, `killed-sender-${round}.bin`);
      writeRandomFile(source, SIZE);
      const final = join(receiverPeer.dir, 'received', `killed-sender-${round}.bin`);
      const watch = watchFinalName(final, SIZE);
      try {
        const { send, id } = await startSend(sender, receiver, source);
        const delay = randomDelay(200, 2200);
        await new Promise((r) => setTimeout(r, delay));
        send.process.kill('SIGKILL');
        await send.exited;
        await receiverLetGo(receiverPeer, id);
        const resumed = await runCli(['resume', '--transfer-id', id, ...sendArgs(receiver, source)], sender.env);
        if (resumed.code !== 0 && /E_ALREADY_COMPLETE/.test(resumed.stderr)) {
          // The kill came after the receiver finished: nothing to resume, the file must be whole.
          assert.ok(existsSync(final), `killed after ${delay} ms: the receiver says complete but there is no file`);
        } else {
          assert.equal(resumed.code, 0, `killed after ${delay} ms:\n${resumed.stdout}\n${resumed.stderr}`);
        }
        assert.equal(await sha256File(final), await sha256File(source), `killed after ${delay} ms`);
        assert.deepEqual(watch.wrong, []);
        assert.deepEqual(partials(join(receiverPeer.dir, 'received')), []);
      } finally {
        watch.stop();
      }
    });
  }
});

describe('resume after the receiver is killed', { timeout: 300_000 }, () => {
  for (let round = 1; round <= 3; round++) {
    it(`completes an identical file after the receiver's SIGKILL and restart (round ${round})`, async () => {
      const receiverPeer = makePeer(`receiver-killed-${round}`);
      const sender = makePeer(`sender-kill-receiver-${round}`);
      const env = { ST_RATE_LIMIT_BYTES_PER_SEC: RATE };
      const first = await startReceiver(receiverPeer, undefined, env);
      const source = join(sender.dir, 'killed-receiver.bin');
      writeRandomFile(source, SIZE);
      const final = join(receiverPeer.dir, 'received', 'killed-receiver.bin');
      const watch = watchFinalName(final, SIZE);
      let second: RunningReceiver | undefined;
      try {
        const { send, id } = await startSend(sender, first, source);
        const delay = randomDelay(200, 2200);
        await new Promise((r) => setTimeout(r, delay));
        first.process.kill('SIGKILL');
        const code = await send.exited;
        if (code === 0) {
          // The transfer finished before the kill landed.
          assert.equal(await sha256File(final), await sha256File(source));
          return;
        }
        assert.equal(existsSync(final), false, `killed after ${delay} ms: a final name without verification`);
        second = await startReceiver(receiverPeer, first.port, env);
        assert.equal(second.fingerprint, first.fingerprint, 'the host key survives the restart');
        const resumed = await runCli(['resume', '--transfer-id', id, ...sendArgs(second, source)], sender.env);
        assert.equal(resumed.code, 0, `killed after ${delay} ms:\n${resumed.stdout}\n${resumed.stderr}`);
        assert.equal(await sha256File(final), await sha256File(source));
        assert.deepEqual(watch.wrong, []);
        assert.equal((await status(receiverPeer, id))?.attempts, 2);
      } finally {
        watch.stop();
        await second?.stop();
        if (first.process.exitCode === null && first.process.signalCode === null) await first.stop();
      }
    });
  }

  it('marks transfers in flight interrupted on SIGTERM, exits 0, and resumes them after a restart', async () => {
    const receiverPeer = makePeer('receiver-sigterm');
    const sender = makePeer('sender-sigterm');
    const env = { ST_RATE_LIMIT_BYTES_PER_SEC: RATE };
    const first = await startReceiver(receiverPeer, undefined, env);
    const source = join(sender.dir, 'sigterm.bin');
    writeRandomFile(source, SIZE);
    const { send, id } = await startSend(sender, first, source);
    await send.waitFor(/./, 5_000);
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal(await first.stop(), 0, 'a clean shutdown exits 0');
    assert.equal(await send.exited, 1);
    const recorded = await status(receiverPeer, id);
    assert.equal(recorded?.status, 'interrupted');
    assert.ok(recorded.piecesDone > 0 && recorded.piecesDone < PIECES, `pieces recorded at shutdown: ${recorded.piecesDone}`);
    const second = await startReceiver(receiverPeer, first.port, env);
    try {
      const resumed = await runCli(['resume', '--transfer-id', id, ...sendArgs(second, source)], sender.env);
      assert.equal(resumed.code, 0, resumed.stderr);
      assert.match(resumed.stdout, new RegExp(`${recorded.piecesDone} pieces already held`));
      assert.equal(await sha256File(join(receiverPeer.dir, 'received', 'sigterm.bin')), await sha256File(source));
    } finally {
      await second.stop();
    }
  });
});

describe('what a resume sends', { timeout: 300_000 }, () => {
  it('sends about the missing half after a transfer cut at half way, read from the receiver status', async () => {
    // The receiver is the one cut: what it recorded is exactly what it holds. (Cutting the
    // sender also works, but the kernel still delivers what sat in its socket buffers.)
    const receiverPeer = makePeer('receiver-half');
    const sender = makePeer('sender-half');
    // Larger and slower than the other cases: the cut must land well before the end even when
    // the machine is busy and each status call takes a while.
    const env = { ST_RATE_LIMIT_BYTES_PER_SEC: '4MB' };
    const size = 32 * MiB;
    const pieces = size / MiB;
    const first = await startReceiver(receiverPeer, undefined, env);
    let second: RunningReceiver | undefined;
    try {
      const source = join(sender.dir, 'half.bin');
      writeRandomFile(source, size);
      const { send, id } = await startSend(sender, first, source);
      for (;;) {
        const s = await status(receiverPeer, id);
        if (s && s.piecesDone >= pieces / 2) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      first.process.kill('SIGKILL');
      await send.exited;
      const before = (await status(receiverPeer, id))!;
      assert.ok(before.piecesDone >= pieces / 2 && before.piecesDone < pieces, `held ${before.piecesDone}`);
      second = await startReceiver(receiverPeer, first.port, env);
      const resumed = await runCli(['resume', '--transfer-id', id, ...sendArgs(second, source)], sender.env);
      assert.equal(resumed.code, 0, resumed.stderr);
      assert.match(resumed.stdout, new RegExp(`${before.piecesDone} pieces already held`));
      const afterResume = (await status(receiverPeer, id))!;
      const missing = (pieces - before.piecesDone) * MiB;
      const sent = afterResume.wireBytes - before.wireBytes;
      // Random data does not compress: the resume carries the missing pieces plus framing.
      assert.ok(sent >= missing && sent < missing + 256 * 1024, `resume sent ${sent} bytes for ${missing} missing`);
      assert.ok(sent <= 0.5 * size + 256 * 1024, `resume sent ${sent} of ${size}`);
      assert.equal(await sha256File(join(receiverPeer.dir, 'received', 'half.bin')), await sha256File(source));
    } finally {
      await second?.stop();
    }
  });
});

const WHOLE_SECOND = 1_764_000_000;

/** A send cut by the sender's SIGKILL once the receiver has recorded at least two pieces. */
async function cutTransfer(name: string) {
  const receiverPeer = makePeer(`receiver-${name}`);
  const sender = makePeer(`sender-${name}`);
  const r = await startReceiver(receiverPeer, undefined, { ST_RATE_LIMIT_BYTES_PER_SEC: RATE });
  const source = join(sender.dir, `${name}.bin`);
  writeRandomFile(source, SIZE);
  utimesSync(source, WHOLE_SECOND, WHOLE_SECOND); // a time the test can restore exactly
  const { send, id } = await startSend(sender, r, source);
  for (;;) {
    const s = await status(receiverPeer, id);
    if (s && s.piecesDone >= 2) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  send.process.kill('SIGKILL');
  await send.exited;
  await receiverLetGo(receiverPeer, id);
  return { receiverPeer, sender, r, source, id };
}

describe('a partial file damaged between attempts', { timeout: 300_000 }, () => {
  it('sends the damaged held piece again while the rest flows, and completes an identical file', async () => {
    const { receiverPeer, sender, r, source, id } = await cutTransfer('damaged');
    try {
      const recorded = (await status(receiverPeer, id))!.piecesDone;
      const partial = join(receiverPeer.dir, 'received', `.securetransfer-${id}.part`);
      const fd = openSync(partial, 'r+');
      writeSync(fd, Buffer.from('bit rot'), 0, 7, MiB + 100); // inside piece 1, which the receiver recorded
      closeSync(fd);
      const resumed = await runCli(['resume', '--transfer-id', id, ...sendArgs(r, source)], sender.env);
      assert.equal(resumed.code, 0, resumed.stderr);
      // Every recorded piece but the damaged one counts as held; that one was sent again.
      assert.match(resumed.stdout, new RegExp(`${recorded - 1} pieces already held`));
      assert.equal(await sha256File(join(receiverPeer.dir, 'received', 'damaged.bin')), await sha256File(source));
      // The receiver audits the damage once its check ends, which may be a moment after the
      // sender has its answer.
      let audited = '';
      for (let waited = 0; !/E_HELD_PIECE_DAMAGED/.test(audited) && waited < 10_000; waited += 200) {
        audited = (await runCli(['audit', '--transfer-id', id], receiverPeer.env)).stdout;
        if (!/E_HELD_PIECE_DAMAGED/.test(audited)) await new Promise((resolve) => setTimeout(resolve, 200));
      }
      assert.match(audited, /E_HELD_PIECE_DAMAGED.*1 of \d+ recorded pieces no longer matched/);
    } finally {
      await r.stop();
    }
  });
});

describe('a source that changed between attempts', { timeout: 300_000 }, () => {
  it('refuses a source with another size before connecting', async () => {
    const { receiverPeer, sender, r, source, id } = await cutTransfer('grown');
    try {
      writeFileSync(source, 'x', { flag: 'a' });
      const resumed = await runCli(['resume', '--transfer-id', id, ...sendArgs(r, source)], sender.env);
      assert.equal(resumed.code, 1);
      assert.match(resumed.stderr, /E_SOURCE_CHANGED: .*changed since the first attempt: it is \d+ bytes/);
      assert.equal(existsSync(join(receiverPeer.dir, 'received', 'grown.bin')), false);
    } finally {
      await r.stop();
    }
  });

  it('refuses a source whose held piece changed even with its size and time restored', async () => {
    const { receiverPeer, sender, r, source, id } = await cutTransfer('edited');
    try {
      const fd = openSync(source, 'r+');
      writeSync(fd, Buffer.from('edited'), 0, 6, 10); // inside piece 0, which the receiver holds
      closeSync(fd);
      utimesSync(source, WHOLE_SECOND, WHOLE_SECOND);
      const resumed = await runCli(['resume', '--transfer-id', id, ...sendArgs(r, source)], sender.env);
      assert.equal(resumed.code, 1);
      assert.match(resumed.stderr, /E_SOURCE_CHANGED: piece 0 of the source differs from what the receiver holds/);
      assert.equal(existsSync(join(receiverPeer.dir, 'received', 'edited.bin')), false);
    } finally {
      await r.stop();
    }
  });
});
