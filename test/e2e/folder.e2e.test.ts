// Folders end to end with real processes: a tree with nested and empty folders, an empty file,
// 2,000 small files, one 50 MiB file, Unicode names and modes 0600/0755 arrives identical
// (diff -r, modes, times); so it does after the sender or the receiver is killed and the
// transfer resumed; and nothing ever sits under the final name before the whole tree is checked.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { makePeer, runCli, spawnCli, startReceiver, type Peer, type RunningReceiver } from '../support/cli.js';
import { expectedArrival, makeTree, snapshotTree } from '../support/trees.js';

const MiB = 1024 * 1024;
/** Slow enough that a kill lands mid-transfer: about 56 MB at 12 MB/s takes nearly 5 s. */
const RATE = '12MB';

interface StatusRecord {
  status: string;
  piecesDone: number;
  pieceCount: number;
  entryCount: number;
  skippedCount: number;
  skippedSample: string | null;
}

async function status(peer: Peer, id: string): Promise<StatusRecord | undefined> {
  const r = await runCli(['status', '--transfer-id', id, '--json'], peer.env);
  if (r.code !== 0) return undefined;
  return (JSON.parse(r.stdout) as StatusRecord[])[0];
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  for (let waited = 0; waited < timeoutMs; waited += 100) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${what} did not happen within ${timeoutMs} ms`);
}

/** The output folder holds nothing but the receiver's own id file and, while one is unfinished, hidden partials. */
const visible = (dir: string) => (existsSync(dir) ? readdirSync(dir).filter((n) => !n.startsWith('.securetransfer-')) : []);
const partials = (dir: string) => (existsSync(dir) ? readdirSync(dir).filter((n) => /^\.securetransfer-.*\.(part|tree)$/.test(n)) : []);

function assertIdentical(source: string, received: string): void {
  const diff = spawnSync('diff', ['-r', '--no-dereference', source, received], { encoding: 'utf8' });
  // diff names what the receiver rightly lacks: the link and the pipe. Nothing else may differ.
  const lines = diff.stdout
    .split('\n')
    .filter((l) => l && !/^Only in .*: (link-to-secret|a-pipe)$/.test(l) && !/^File .*a-pipe is a fifo/.test(l));
  assert.deepEqual(lines, [], 'diff -r');
  assert.deepEqual(snapshotTree(received), expectedArrival(snapshotTree(source)), 'kinds, modes, sizes, times and contents');
}

const sendArgs = (r: RunningReceiver, file: string) => ['--host', '127.0.0.1', '--port', String(r.port), '--file', file];

describe('a folder end to end', { timeout: 600_000 }, () => {
  const sender = makePeer('sender-folder');
  const source = join(sender.dir, 'Projekt Ω');
  let skipped: string[];

  before(() => {
    ({ skipped } = makeTree(source, { smallFiles: 2000, smallSize: 2000, bigFile: 50 * MiB }));
  });

  it('arrives identical, lists what it skipped, and status shows the entries', async () => {
    const receiverPeer = makePeer('receiver-folder');
    const receiver = await startReceiver(receiverPeer);
    try {
      const sent = await runCli(['send', ...sendArgs(receiver, source)], sender.env);
      assert.equal(sent.code, 0, sent.stderr);
      assert.match(sent.stdout, /sending the folder "Projekt Ω" \(2008 files and \d+ folders/);
      for (const name of skipped) assert.match(sent.stderr, new RegExp(`Projekt Ω/${name} \\((symlink|fifo)\\)`));
      const final = join(receiverPeer.dir, 'received', 'Projekt Ω');
      assertIdentical(source, final);
      assert.deepEqual(partials(join(receiverPeer.dir, 'received')), []);
      const id = /transfer ([0-9a-f-]{36})/.exec(sent.stdout)![1]!;
      const mine = await status(sender, id);
      assert.equal(mine?.skippedCount, skipped.length);
      assert.match(mine?.skippedSample ?? '', /link-to-secret \(symlink\)/);
      const theirs = await status(receiverPeer, id);
      assert.equal(theirs?.entryCount, expectedArrival(snapshotTree(source)).size);
      const text = await runCli(['status', '--transfer-id', id], sender.env);
      assert.match(text.stdout, /skipped: \d+ entries not sent/);

      // The same folder again: its name is taken, and nothing is merged into it.
      const again = await runCli(['send', ...sendArgs(receiver, source)], sender.env);
      assert.notEqual(again.code, 0);
      assert.match(again.stderr, /E_FILE_EXISTS/);
      assertIdentical(source, final);
    } finally {
      await receiver.stop();
    }
  });

  it('resumes after the sender is killed, sending what is missing, and never shows a partial tree', async () => {
    const receiverPeer = makePeer('receiver-folder-kill-sender');
    const receiver = await startReceiver(receiverPeer, undefined, { ST_RATE_LIMIT_BYTES_PER_SEC: RATE });
    const output = join(receiverPeer.dir, 'received');
    try {
      const send = spawnCli(['send', ...sendArgs(receiver, source)], sender.env);
      const id = (await send.waitFor(/transfer ([0-9a-f-]{36}): sending/))[1]!;
      await waitFor('ten pieces recorded', async () => ((await status(receiverPeer, id))?.piecesDone ?? 0) >= 10);
      send.process.kill('SIGKILL');
      await send.exited;
      await waitFor('the receiver letting go', async () => (await status(receiverPeer, id))?.status !== 'in-progress');
      assert.deepEqual(visible(output), [], 'no tree under its final name before it is complete');
      assert.equal(partials(output).length, 1, 'the tree waits in its hidden folder');
      const held = (await status(receiverPeer, id))!.piecesDone;
      const resumed = await runCli(['resume', '--transfer-id', id, ...sendArgs(receiver, source)], sender.env);
      assert.equal(resumed.code, 0, resumed.stderr);
      assert.match(resumed.stdout, new RegExp(`${held} pieces already held`));
      assertIdentical(source, join(output, 'Projekt Ω'));
      assert.deepEqual(partials(output), []);
    } finally {
      await receiver.stop();
    }
  });

  it('resumes after the receiver is killed and restarted', async () => {
    const receiverPeer = makePeer('receiver-folder-killed');
    const env = { ST_RATE_LIMIT_BYTES_PER_SEC: RATE };
    const first = await startReceiver(receiverPeer, undefined, env);
    const output = join(receiverPeer.dir, 'received');
    let second: RunningReceiver | undefined;
    try {
      const send = spawnCli(['send', ...sendArgs(first, source)], sender.env);
      const id = (await send.waitFor(/transfer ([0-9a-f-]{36}): sending/))[1]!;
      await waitFor('ten pieces recorded', async () => ((await status(receiverPeer, id))?.piecesDone ?? 0) >= 10);
      first.process.kill('SIGKILL');
      assert.equal(await send.exited, 1);
      assert.deepEqual(visible(output), [], 'no tree under its final name before it is complete');
      second = await startReceiver(receiverPeer, first.port, env);
      const resumed = await runCli(['resume', '--transfer-id', id, ...sendArgs(second, source)], sender.env);
      assert.equal(resumed.code, 0, resumed.stderr);
      assert.match(resumed.stdout, /pieces already held/);
      assertIdentical(source, join(output, 'Projekt Ω'));
    } finally {
      await second?.stop();
      if (first.process.exitCode === null && first.process.signalCode === null) await first.stop();
    }
  });

  it('refuses to resume a folder that changed, naming the entry', async () => {
    const receiverPeer = makePeer('receiver-folder-changed');
    const receiver = await startReceiver(receiverPeer, undefined, { ST_RATE_LIMIT_BYTES_PER_SEC: RATE });
    const copy = join(sender.dir, 'changing');
    try {
      makeTree(copy, { smallFiles: 50, smallSize: 500, bigFile: 20 * MiB });
      const send = spawnCli(['send', ...sendArgs(receiver, copy)], sender.env);
      const id = (await send.waitFor(/transfer ([0-9a-f-]{36}): sending/))[1]!;
      await waitFor('a piece recorded', async () => ((await status(receiverPeer, id))?.piecesDone ?? 0) >= 1);
      send.process.kill('SIGKILL');
      await send.exited;
      const resume = () => runCli(['resume', '--transfer-id', id, ...sendArgs(receiver, copy)], sender.env);

      writeFileSync(join(copy, 'small', 'part-000', 'late.txt'), 'new');
      const added = await resume();
      assert.equal(added.code, 1);
      assert.match(added.stderr, /E_SOURCE_CHANGED: .*"changing\/small\/part-000\/late.txt" was added/);
      rmSync(join(copy, 'small', 'part-000', 'late.txt'));

      writeFileSync(join(copy, 'nested', 'deeper', 'note.md'), '# a longer note\n');
      const resized = await resume();
      assert.match(resized.stderr, /"changing\/nested\/deeper\/note.md" was resized from 9 to 16 bytes/);
      writeFileSync(join(copy, 'nested', 'deeper', 'note.md'), '# a note!\n'.slice(0, 9));
      utimesSync(join(copy, 'nested', 'deeper', 'note.md'), 1_500_000_000, 1_500_000_000);
      const touched = await resume();
      assert.match(touched.stderr, /"changing\/nested\/deeper\/note.md" was modified/);
      assert.deepEqual(visible(join(receiverPeer.dir, 'received')), []);
    } finally {
      await receiver.stop();
    }
  });
});
