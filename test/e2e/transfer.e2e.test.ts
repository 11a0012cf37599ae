// The real CLI as separate processes over real TCP on loopback (docs/requirements.md#files).
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { freePort, makePeer, runCli, startReceiver, type Peer, type RunningReceiver } from '../support/cli.js';
import { sha256File, writeRandomFile, writeTextFile } from '../support/files.js';
import { startTamperProxy } from '../support/tamper-proxy.js';

const MiB = 1024 * 1024;

interface StatusRecord {
  id: string;
  role: string;
  status: string;
  fileName: string;
  fileSize: number;
  piecesDone: number;
  pieceCount: number;
  wireBytes: number;
  errorCode: string | null;
}

async function statusAll(peer: Peer): Promise<StatusRecord[]> {
  const r = await runCli(['status', '--all', '--json'], peer.env);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as StatusRecord[];
}

function transferIdOf(stdout: string): string {
  const m = /transfer ([0-9a-f-]{36})/.exec(stdout);
  assert.ok(m, `no transfer id in: ${stdout}`);
  return m[1]!;
}

describe('send to receive over loopback, as separate processes', { timeout: 300_000 }, () => {
  let receiverPeer: Peer;
  let senderPeer: Peer;
  let receiver: RunningReceiver;

  before(async () => {
    receiverPeer = makePeer('receiver');
    senderPeer = makePeer('sender');
    receiver = await startReceiver(receiverPeer);
  });

  after(async () => {
    const code = await receiver.stop();
    assert.equal(code, 0, `receiver exit status after SIGTERM\n${receiver.output()}`);
  });

  const cases: [string, number, (path: string, size: number) => void][] = [
    ['empty.bin', 0, writeRandomFile],
    ['one-byte.bin', 1, writeRandomFile],
    ['one-piece.bin', MiB, writeRandomFile],
    ['one-piece-plus-one.bin', MiB + 1, writeRandomFile],
    ['random-50MiB.bin', 50 * MiB, writeRandomFile],
    ['text-50MiB.log', 50 * MiB, writeTextFile],
  ];

  for (const [name, size, make] of cases) {
    it(`delivers ${name} (${size} bytes) byte-identical and records it completed`, async () => {
      const source = join(senderPeer.dir, name);
      make(source, size);
      const sent = await runCli(['send', '--host', '127.0.0.1', '--port', String(receiver.port), '--file', source], senderPeer.env);
      assert.equal(sent.code, 0, `send failed:\n${sent.stdout}\n${sent.stderr}\n${receiver.output()}`);
      const id = transferIdOf(sent.stdout);
      const received = join(receiverPeer.dir, 'received', name);
      assert.equal(await sha256File(received), await sha256File(source));

      const onReceiver = (await statusAll(receiverPeer)).find((t) => t.id === id && t.role === 'receiver');
      assert.ok(onReceiver, 'receiver has no record of the transfer');
      assert.equal(onReceiver.status, 'completed');
      assert.equal(onReceiver.fileSize, size);
      assert.equal(onReceiver.piecesDone, onReceiver.pieceCount);
      const onSender = (await statusAll(senderPeer)).find((t) => t.id === id && t.role === 'sender');
      assert.equal(onSender?.status, 'completed');
      if (name.endsWith('.log')) {
        assert.ok(onSender.wireBytes < size / 3, `text should compress: ${onSender.wireBytes} bytes on the wire for ${size}`);
      }
    });
  }

  it('leaves no partial files behind after successful transfers', () => {
    const leftovers = readdirSync(join(receiverPeer.dir, 'received')).filter((f) => f.startsWith('.securetransfer-'));
    assert.deepEqual(leftovers, []);
  });

  it('refuses to overwrite a file that already exists, keeping the original', async () => {
    const name = 'exists.txt';
    writeFileSync(join(receiverPeer.dir, 'received', name), 'original');
    const source = join(senderPeer.dir, name);
    writeFileSync(source, 'replacement');
    const sent = await runCli(['send', '--host', '127.0.0.1', '--port', String(receiver.port), '--file', source], senderPeer.env);
    assert.equal(sent.code, 1);
    assert.match(sent.stderr, /E_FILE_EXISTS/);
    assert.equal(readFileSync(join(receiverPeer.dir, 'received', name), 'utf8'), 'original');
  });

  it('fails cleanly when one bit of ciphertext is flipped on the wire', async () => {
    const name = 'tampered.bin';
    const source = join(senderPeer.dir, name);
    writeRandomFile(source, 3 * MiB);
    // Inside the second piece's records: the first piece is written, so the receiver keeps a
    // record of the failed transfer (one that fails before any piece leaves none).
    const proxy = await startTamperProxy(receiver.port, 1_600_000);
    try {
      const sent = await runCli(['send', '--host', '127.0.0.1', '--port', String(proxy.port), '--file', source], senderPeer.env);
      assert.ok(proxy.flipped(), 'the proxy never flipped a bit');
      assert.equal(sent.code, 1, `send should fail:\n${sent.stdout}\n${sent.stderr}`);
      assert.match(sent.stderr, /E_DECRYPT_FAILED/);
      const id = transferIdOf(sent.stdout);
      assert.equal(existsSync(join(receiverPeer.dir, 'received', name)), false, 'a tampered transfer reached its final name');
      const onReceiver = (await statusAll(receiverPeer)).find((t) => t.id === id && t.role === 'receiver');
      assert.equal(onReceiver?.status, 'failed');
      assert.equal(onReceiver?.errorCode, 'E_DECRYPT_FAILED');
      const onSender = (await statusAll(senderPeer)).find((t) => t.id === id && t.role === 'sender');
      assert.equal(onSender?.status, 'failed');
    } finally {
      proxy.server.close();
    }
  });
});

describe('trust on first use of the receiver key', { timeout: 120_000 }, () => {
  it('refuses a receiver whose key changed since the first contact, sending nothing', async () => {
    const first = makePeer('receiver-a');
    const impostor = makePeer('receiver-b');
    const sender = makePeer('sender-tofu');
    const source = join(sender.dir, 'secret.txt');
    writeFileSync(source, 'for the right receiver only');

    const a = await startReceiver(first);
    const ok = await runCli(['send', '--host', '127.0.0.1', '--port', String(a.port), '--file', source], sender.env);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(
      ok.stderr,
      new RegExp(`first contact with 127\\.0\\.0\\.1:${a.port}: recorded its key ${a.fingerprint.replace(/[+/]/g, '\\$&')}`),
    );
    await a.stop();

    const b = await startReceiver(impostor, a.port);
    try {
      assert.notEqual(b.fingerprint, a.fingerprint);
      const refused = await runCli(['send', '--host', '127.0.0.1', '--port', String(b.port), '--file', source], sender.env);
      assert.equal(refused.code, 1);
      assert.match(refused.stderr, /E_UNTRUSTED_KEY/);
      assert.ok(refused.stderr.includes(a.fingerprint) && refused.stderr.includes(b.fingerprint), 'both fingerprints are named');
      assert.equal(existsSync(join(impostor.dir, 'received', 'secret.txt')), false);
    } finally {
      await b.stop();
    }
  });

  it('refuses a receiver that does not match --server-key on first contact', async () => {
    const receiverPeer = makePeer('receiver-pin');
    const sender = makePeer('sender-pin');
    const source = join(sender.dir, 'pinned.txt');
    writeFileSync(source, 'pinned');
    const r = await startReceiver(receiverPeer);
    try {
      const wrong = await runCli(
        [
          'send',
          '--host',
          '127.0.0.1',
          '--port',
          String(r.port),
          '--file',
          source,
          '--server-key',
          'SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
        ],
        sender.env,
      );
      assert.equal(wrong.code, 1);
      assert.match(wrong.stderr, /E_UNTRUSTED_KEY/);
      assert.equal(existsSync(join(receiverPeer.dir, 'received', 'pinned.txt')), false);
      const right = await runCli(
        ['send', '--host', '127.0.0.1', '--port', String(r.port), '--file', source, '--server-key', r.fingerprint],
        sender.env,
      );
      assert.equal(right.code, 0, right.stderr);
    } finally {
      await r.stop();
    }
  });
});

describe('receiver limits', { timeout: 60_000 }, () => {
  it('refuses pieces larger than ST_MAX_PAYLOAD_SIZE, audited, with no file', async () => {
    const receiverPeer = makePeer('receiver-payload');
    const sender = makePeer('sender-payload');
    const source = join(sender.dir, 'big-pieces.bin');
    writeRandomFile(source, 2 * MiB);
    const r = await startReceiver(receiverPeer, undefined, { ST_MAX_PAYLOAD_SIZE: '64KiB' });
    try {
      const sent = await runCli(['send', '--host', '127.0.0.1', '--port', String(r.port), '--file', source], sender.env);
      assert.equal(sent.code, 1);
      assert.match(sent.stderr, /E_MANIFEST_INVALID: .*largest message of 65536 bytes/);
      assert.equal(existsSync(join(receiverPeer.dir, 'received', 'big-pieces.bin')), false);
      assert.match(r.output(), /audit error .*code="E_MANIFEST_INVALID"/);
    } finally {
      await r.stop();
    }
  });
});

describe('command line contract', { timeout: 60_000 }, () => {
  it('exits 2 naming the variable, value and rule for invalid configuration', async () => {
    const peer = makePeer('config');
    const r = await runCli(['receive'], { ...peer.env, ST_PORT: '80', ST_LOG_RETENTION: 'forever' });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /ST_PORT="80" is invalid: expected a whole number from 1024 to 65535/);
    assert.match(r.stderr, /ST_LOG_RETENTION="forever" is invalid/);
  });

  it('exits 2 for an unknown flag and 1 for a missing source file', async () => {
    const peer = makePeer('usage');
    assert.equal((await runCli(['send', '--bogus'], peer.env)).code, 2);
    const missing = await runCli(['send', '--host', '127.0.0.1', '--port', '9', '--file', join(peer.dir, 'nope')], peer.env);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /E_IO: cannot open/);
  });

  it('exits 1 with E_CONNECTION_LOST when nothing listens', async () => {
    const peer = makePeer('refused');
    const source = join(peer.dir, 'a.txt');
    writeFileSync(source, 'a');
    const r = await runCli(['send', '--host', '127.0.0.1', '--port', String(await freePort()), '--file', source], peer.env);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /E_CONNECTION_LOST/);
  });
});
