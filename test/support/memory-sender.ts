// A sender wired to a given transport, with an in-memory store, a fixed key and any receiver
// key trusted; and a transport that counts its connections and can cut the first one part way.
import { NodeCryptoPrimitives } from '../../src/adapters/crypto/node-crypto-primitives.js';
import { ZstdCodecAdapter } from '../../src/adapters/codec/zstd-codec.js';
import { NodeSourceFiles } from '../../src/adapters/filesystem/node-source-files.js';
import { InMemoryTransferStore } from '../../src/adapters/persistence/memory/in-memory-transfer-store.js';
import { SystemClock } from '../../src/adapters/clock/system-clock.js';
import { SendFile } from '../../src/application/send-file.js';
import { SecureTransferError } from '../../src/domain/errors.js';
import { fingerprintOf } from '../../src/domain/fingerprint.js';
import type { PieceCompressor } from '../../src/domain/ports/codec.js';
import type { Connection, Transport } from '../../src/domain/ports/transport.js';
import { silentLogger } from './in-process.js';

const crypto = new NodeCryptoPrimitives();

/** Counts the connections a sender opens, and cuts the first once it has written cutAfter bytes. */
export function watched(inner: Transport, cutAfter = Infinity): Transport & { connections: number } {
  const t = {
    connections: 0,
    listen: (options: Parameters<Transport['listen']>[0]) => inner.listen(options),
    async connect(host: string, port: number, timeoutMs: number): Promise<Connection> {
      const connection = await inner.connect(host, port, timeoutMs);
      if (t.connections++ > 0 || cutAfter === Infinity) return connection;
      return {
        remoteAddress: connection.remoteAddress,
        remotePort: connection.remotePort,
        get bytesRead() {
          return connection.bytesRead;
        },
        get bytesWritten() {
          return connection.bytesWritten;
        },
        read: () => connection.read(),
        write: async (bytes, onReleased) => {
          if (connection.bytesWritten + bytes.length <= cutAfter) return connection.write(bytes, onReleased);
          onReleased?.();
          connection.destroy();
          throw new SecureTransferError('E_CONNECTION_LOST', 'the connection was cut by the test');
        },
        setIdleTimeout: (ms) => connection.setIdleTimeout(ms),
        end: () => connection.end(),
        destroy: () => connection.destroy(),
      };
    },
  };
  return t;
}

/** compressor: compression threads the sender may use, as the CLI's sender has. */
export async function memorySender(transport: Transport, compressor?: PieceCompressor) {
  const keyPair = crypto.generateKeyPair();
  const store = new InMemoryTransferStore();
  const sendFile = new SendFile({
    transport,
    crypto,
    codec: await ZstdCodecAdapter.create(),
    compressor,
    clock: new SystemClock(),
    store,
    files: new NodeSourceFiles(),
    identity: {
      loadOrCreate: () =>
        Promise.resolve({
          keyPair: { publicKey: keyPair.publicKey, privateKey: Uint8Array.from(keyPair.privateKey) },
          created: false,
          path: '(test)',
        }),
    },
    trust: { check: (_h, _p, key) => Promise.resolve({ fingerprint: fingerprintOf(key, crypto.sha256) }) },
    logger: silentLogger,
  });
  return { sendFile, store };
}
