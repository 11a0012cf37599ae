// Hostile folder manifests from a test client against the real receiver process: each one is
// refused with a CLOSE that names the problem and an audit record, before anything is created
// in the output folder, and an honest folder is served by the same receiver afterwards.
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { viewOf } from '../../src/domain/bytes.js';
import type { ErrorCode } from '../../src/domain/errors.js';
import { encodeManifest, treeListRest, type Manifest } from '../../src/domain/transfer/manifest.js';
import { encodeTreeList, type TreeEntry } from '../../src/domain/transfer/tree.js';
import { encodeAck, encodeEntries, encodePieceHeader, PieceEncoding } from '../../src/domain/wire/messages.js';
import { makePeer, runCli, startReceiver, type Peer, type RunningReceiver } from '../support/cli.js';
import { crypto, handshakeWith, testManifest } from '../support/hostile-client.js';
import { makeTree } from '../support/trees.js';

const dir = (path: string): TreeEntry => ({ path, kind: 'dir', mode: 0o755, size: 0, mtimeUs: 1_700_000_000_000_000 });
const file = (path: string, size = 1): TreeEntry => ({ path, kind: 'file', mode: 0o644, size, mtimeUs: 1_700_000_000_000_000 });

/** A folder manifest for whatever entries it is given, sized to match them unless told otherwise. */
function treeManifest(entries: readonly TreeEntry[], over: Partial<Manifest> = {}): Manifest {
  const size = entries.reduce((n, e) => n + e.size, 0);
  return testManifest({ fileName: 'evil', fileSize: size, tree: { entries, list: encodeTreeList(entries) }, ...over });
}

interface AuditRecord {
  type: string;
  code?: string;
  detail?: string;
}

async function audit(peer: Peer, address: string): Promise<AuditRecord[]> {
  const r = await runCli(['audit', '--address', address, '--json'], peer.env);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as AuditRecord[];
}

describe('hostile folders against the real receiver', { timeout: 300_000 }, () => {
  const receiverPeer = makePeer('receiver-hostile-folders');
  const received = join(receiverPeer.dir, 'received');
  let receiver: RunningReceiver;
  let round = 0;

  before(async () => {
    // Every attempt comes from its own address, so the refusals do not add up to a ban.
    // A short idle timeout, which also bounds how long an entry list may take to arrive.
    receiver = await startReceiver(receiverPeer, undefined, { ST_MAX_FILES: '100000', ST_IDLE_TIMEOUT_SEC: '3' });
  });
  after(() => receiver.stop());

  /** Sends the manifest (and ENTRIES, and whatever else); returns the receiver's CLOSE. */
  async function refused(manifestBytes: Uint8Array, after: Uint8Array[] = []) {
    round++;
    const address = `127.0.6.${round}`;
    const { channel, connection } = await handshakeWith(address, receiver.port, manifestBytes);
    try {
      if (after.length > 0) await channel.sendMessages(after).catch(() => undefined);
      const reply = await channel.readMessage({ maxPieceBody: 0, maxAcceptBody: 1 << 20 });
      assert.equal(reply.type, 'close', `expected a CLOSE, got ${reply.type}`);
      return { ...(reply as { code: ErrorCode; reason: string }), address };
    } finally {
      connection.destroy();
    }
  }

  function expectRefusal(manifest: Manifest, code: ErrorCode, reason: RegExp, rest?: Uint8Array[]) {
    return expectRefusalOf(encodeManifest(manifest), rest ?? treeListRest(manifest, 65_536).map(encodeEntries), code, reason);
  }

  async function expectRefusalOf(manifestBytes: Uint8Array, rest: Uint8Array[], code: ErrorCode, reason: RegExp) {
    const close = await refused(manifestBytes, rest);
    assert.equal(close.code, code, close.reason);
    assert.match(close.reason, reason);
    const events = await audit(receiverPeer, close.address);
    assert.ok(
      events.some((e) => e.code === code),
      `no audit record with ${code} for ${close.address}: ${JSON.stringify(events)}`,
    );
    assert.deepEqual(
      readdirSync(received).filter((n) => n !== '.securetransfer-folder-id'),
      [],
      'nothing is left in the output folder',
    );
  }

  it('a path climbing out with ..', () =>
    expectRefusal(treeManifest([dir('evil'), dir('evil/a'), file('evil/a/../b')]), 'E_NAME_INVALID', /relative directory reference/));

  it('an empty component (a//b)', () =>
    expectRefusal(treeManifest([dir('evil'), dir('evil/a'), file('evil/a//b')]), 'E_NAME_INVALID', /empty component/));

  it('an absolute path', () => expectRefusal(treeManifest([dir('evil'), file('/etc/cron.d/x')]), 'E_NAME_INVALID', /absolute path/));

  it('two names that collide under case folding', () =>
    expectRefusal(treeManifest([dir('evil'), file('evil/Makefile'), file('evil/MAKEFILE')]), 'E_NAME_INVALID', /same name/));

  it('two names that collide under NFC and case folding', () =>
    expectRefusal(treeManifest([dir('evil'), file('evil/caf\u00e9'), file('evil/CAF\u00c9')]), 'E_NAME_INVALID', /same name/));

  it('a name that is not NFC', () =>
    expectRefusal(treeManifest([dir('evil'), file('evil/cafe\u0301')]), 'E_NAME_INVALID', /not in Unicode NFC/));

  it('a file under a file', () =>
    expectRefusal(
      treeManifest([dir('evil'), file('evil/f'), file('evil/f/inside')]),
      'E_NAME_INVALID',
      /not inside a folder listed before it/,
    ));

  it('ten million declared entries, judged before any of them arrives', () => {
    const m = treeManifest([dir('evil'), file('evil/a')]);
    const bytes = encodeManifest(m);
    const at = bytes.length - m.tree!.list.length - 8;
    viewOf(bytes).setUint32(at, 10_000_000);
    return expectRefusalOf(bytes, [], 'E_TOO_MANY_FILES', /10000000 entries, over the 100000/);
  });

  it('a list too long for its entry count, judged from the declared length', () =>
    expectRefusal(
      treeManifest([dir('evil'), file(`evil/${'x/'.repeat(4_998)}y`)]),
      'E_MANIFEST_INVALID',
      /entry list of \d+ bytes for 2 entries is outside/,
    ));

  it('a path of 10,000 bytes in a list long enough to hold it', () => {
    const fillers = Array.from({ length: 5 }, (_, i) => file(`evil/filler-${i}`));
    return expectRefusal(
      treeManifest([dir('evil'), ...fillers, file(`evil/${'x/'.repeat(4_998)}y`)]),
      'E_NAME_INVALID',
      /10002 bytes, over the 2048/,
    );
  });

  it('declared sizes that overflow when summed', () =>
    expectRefusal(
      treeManifest([dir('evil'), file('evil/a', 2 ** 52), file('evil/b', 2 ** 52), file('evil/c', 2 ** 52)], {
        fileSize: 16_384,
        pieceCount: 1,
      }),
      'E_TRANSFER_TOO_LARGE',
      /add up to more than 2\^53/,
    ));

  it('sizes that do not add up to the declared size', () =>
    expectRefusal(
      treeManifest([dir('evil'), file('evil/a', 100)], { fileSize: 16_384, pieceCount: 1 }),
      'E_MANIFEST_INVALID',
      /hold 100 bytes, the manifest declares 16384/,
    ));

  it('a piece where the rest of the entry list is due', async () => {
    const entries = [dir('evil'), ...Array.from({ length: 4000 }, (_, i) => file(`evil/some-long-file-name-${i}.txt`))];
    const m = treeManifest(entries);
    assert.ok(treeListRest(m, 65_536).length > 0, 'the list must not fit in the handshake for this case');
    const data = crypto.randomBytes(100);
    const piece = [
      encodePieceHeader({ index: 0, offset: 0, rawLength: 100, encoding: PieceEncoding.RAW, hash: crypto.sha256(data) }, 100),
      data,
    ];
    // No piece is expected yet: its header alone, declaring a body where none may come, ends it.
    await expectRefusal(m, 'E_FRAME_TOO_LARGE', /message type 17 declares 149 bytes, limit 0/, piece);
  });

  it('another message where the rest of the entry list is due', async () => {
    const entries = [dir('evil'), ...Array.from({ length: 4000 }, (_, i) => file(`evil/some-long-file-name-${i}.txt`))];
    await expectRefusal(treeManifest(entries), 'E_UNEXPECTED_MESSAGE', /ack from the sender while its entry list was due/, [encodeAck(0)]);
  });

  it('an entry list in tiny ENTRIES messages, which would cost far more memory than the list', async () => {
    const entries = [dir('evil'), ...Array.from({ length: 4000 }, (_, i) => file(`evil/some-long-file-name-${i}.txt`))];
    const m = treeManifest(entries);
    const rest = treeListRest(m, 1);
    await expectRefusal(m, 'E_MALFORMED_FRAME', /ENTRIES message of 1 bytes where 65536 were due/, rest.slice(0, 3).map(encodeEntries));
  });

  it('an entry list trickled in for longer than the idle timeout, each message in time', async () => {
    round++;
    const address = `127.0.6.${round}`;
    const entries = [
      dir('evil'),
      ...Array.from({ length: 6000 }, (_, i) => file(`evil/a-rather-long-file-name-to-make-a-long-list-${i}.txt`)),
    ];
    const m = treeManifest(entries);
    const rest = treeListRest(m, 65_536);
    assert.ok(rest.length >= 5, `${rest.length} messages`);
    const { channel, connection } = await handshakeWith(address, receiver.port, encodeManifest(m));
    try {
      for (const chunk of rest.slice(0, -1)) {
        await new Promise((r) => setTimeout(r, 1000));
        await channel.sendMessages([encodeEntries(chunk)]).catch(() => undefined);
      }
    } finally {
      connection.destroy();
    }
    const events = await audit(receiverPeer, address);
    assert.ok(
      events.some((e) => e.code === 'E_TIMEOUT' && /entry list did not arrive within 3 s/.test(e.detail ?? '')),
      JSON.stringify(events),
    );
    assert.deepEqual(
      readdirSync(received).filter((n) => n !== '.securetransfer-folder-id'),
      [],
    );
  });

  it('more entry-list bytes than were declared', async () => {
    const entries = [dir('evil'), ...Array.from({ length: 4000 }, (_, i) => file(`evil/some-long-file-name-${i}.txt`))];
    const m = treeManifest(entries);
    const rest = treeListRest(m, 65_536);
    const extra = new Uint8Array(rest.reduce((n, c) => n + c.length, 0) + 1);
    await expectRefusal(m, 'E_FRAME_TOO_LARGE', /declares \d+ bytes, limit \d+/, [encodeEntries(extra)]);
  });

  it('still serves an honest folder afterwards', async () => {
    const sender = makePeer('sender-after-hostile-folders');
    const source = join(sender.dir, 'honest');
    makeTree(source, { smallFiles: 120, smallSize: 300, bigFile: 0 });
    const sent = await runCli(['send', '--host', '127.0.0.1', '--port', String(receiver.port), '--file', source], sender.env);
    assert.equal(sent.code, 0, sent.stderr);
    assert.ok(existsSync(join(received, 'honest', 'small', 'part-001', 'file-00119.txt')));
  });
});
