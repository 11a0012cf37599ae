// A client that speaks as much of the protocol as it likes, from a chosen loopback address
// (Linux routes all of 127.0.0.0/8 to lo, so each scenario can look like another host). Built
// from the product's own channel and codecs, so it can do a valid handshake and then misbehave.
import { connect } from 'node:net';
import { NodeCryptoPrimitives } from '../../src/adapters/crypto/node-crypto-primitives.js';
import { TcpConnection } from '../../src/adapters/tcp/tcp-connection.js';
import { initiatorHandshake } from '../../src/application/handshake.js';
import { SecureChannel } from '../../src/application/secure-channel.js';
import type { KeyPair } from '../../src/domain/ports/crypto-primitives.js';
import type { Connection } from '../../src/domain/ports/transport.js';
import { encodeManifest, pieceCountFor, type Manifest } from '../../src/domain/transfer/manifest.js';
import { transferIdFromRandom } from '../../src/domain/transfer/transfer-id.js';
import { transferRootInput } from '../../src/domain/transfer/transfer-root.js';
import { encodePieceHeader, encodeTransferComplete, MessageType, maxAcceptBodyFor, PieceEncoding } from '../../src/domain/wire/messages.js';

export const crypto = new NodeCryptoPrimitives();

/** Remembers every write, so a test can replay a record. */
class RecordingConnection implements Connection {
  readonly writes: Uint8Array[] = [];
  constructor(private readonly inner: TcpConnection) {}
  get remoteAddress() {
    return this.inner.remoteAddress;
  }
  get remotePort() {
    return this.inner.remotePort;
  }
  get bytesRead() {
    return this.inner.bytesRead;
  }
  get bytesWritten() {
    return this.inner.bytesWritten;
  }
  read() {
    return this.inner.read();
  }
  write(bytes: Uint8Array, onReleased?: () => void) {
    this.writes.push(Uint8Array.from(bytes));
    return this.inner.write(bytes, onReleased);
  }
  setIdleTimeout(ms: number) {
    this.inner.setIdleTimeout(ms);
  }
  end() {
    return this.inner.end();
  }
  destroy() {
    this.inner.destroy();
  }
}

export function connectFrom(localAddress: string, port: number): Promise<RecordingConnection> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, localAddress }, () => resolve(new RecordingConnection(new TcpConnection(socket))));
    socket.once('error', reject);
  });
}

/** Reads until the server closes; resolves with the bytes it sent. Never hangs past timeoutMs. */
export async function drain(connection: Connection, timeoutMs = 15_000): Promise<Uint8Array[]> {
  const got: Uint8Array[] = [];
  const deadline = setTimeout(() => connection.destroy(), timeoutMs);
  try {
    for (;;) {
      const chunk = await connection.read();
      if (chunk === null) return got;
      got.push(chunk);
    }
  } catch {
    return got;
  } finally {
    clearTimeout(deadline);
  }
}

export function testManifest(over: Partial<Manifest> = {}): Manifest {
  const fileSize = over.fileSize ?? 3 * 16384;
  const pieceSize = over.pieceSize ?? 16384;
  return {
    transferId: transferIdFromRandom(crypto.randomBytes(16)),
    fileName: 'hostile.bin',
    fileSize,
    pieceSize,
    pieceCount: pieceCountFor(fileSize, pieceSize),
    compression: 'zstd',
    resume: false,
    ...over,
  };
}

/** A full handshake carrying the given manifest bytes; resolves with the channel after ACCEPT (or the refusal). */
export async function handshakeWith(
  localAddress: string,
  port: number,
  manifestBytes: Uint8Array,
  key: KeyPair = crypto.generateKeyPair(),
  prefix?: Uint8Array,
) {
  const connection = await connectFrom(localAddress, port);
  if (prefix) await connection.write(prefix); // a PROXY header, as a balancer would send it
  const channel = new SecureChannel(connection);
  const handshake = initiatorHandshake(channel, crypto, key);
  await handshake.start();
  await handshake.finish(manifestBytes);
  return { connection, channel };
}

/** Handshake with a valid manifest and wait for ACCEPT. */
export async function acceptedTransfer(localAddress: string, port: number, manifest = testManifest(), key?: KeyPair, prefix?: Uint8Array) {
  const session = await handshakeWith(localAddress, port, encodeManifest(manifest), key, prefix);
  const first = await session.channel.readMessage({ maxPieceBody: 0, maxAcceptBody: maxAcceptBodyFor(manifest.pieceCount) });
  if (first.type !== 'accept') throw new Error(`expected ACCEPT, got ${first.type}`);
  return { ...session, manifest };
}

export { MessageType };

/** The next message after ACCEPT, or the CLOSE that refused it; undefined when the connection just ended. */
export async function nextMessage(channel: SecureChannel, manifest: Manifest) {
  try {
    return await channel.readMessage({ maxPieceBody: 0, maxAcceptBody: maxAcceptBodyFor(manifest.pieceCount) });
  } catch {
    return undefined;
  }
}

/** Sends every piece of data (raw) and TRANSFER_COMPLETE with the right root; resolves with the receiver's answer. */
export async function sendWhole(channel: SecureChannel, manifest: Manifest, data: Uint8Array, held: ReadonlySet<number> = new Set()) {
  const hashes = new Uint8Array(32 * manifest.pieceCount);
  for (let i = 0; i < manifest.pieceCount; i++) {
    const start = i * manifest.pieceSize;
    const bytes = data.subarray(start, Math.min(data.length, start + manifest.pieceSize));
    const hash = crypto.sha256(bytes);
    hashes.set(hash, 32 * i);
    if (held.has(i)) continue;
    await channel.sendMessages([
      encodePieceHeader({ index: i, offset: start, rawLength: bytes.length, encoding: PieceEncoding.RAW, hash }, bytes.length),
      bytes,
    ]);
  }
  await channel.sendMessages([encodeTransferComplete(crypto.sha256(transferRootInput(manifest, hashes)))]);
  for (;;) {
    const m = await nextMessage(channel, manifest);
    if (!m || m.type !== 'ack') return m;
  }
}
