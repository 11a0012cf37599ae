// A receiver and a sender wired by hand in one process, from the real use cases and adapters
// (TCP on loopback, the file system, zstd) with in-memory persistence: for tests that need
// to look inside a session, which separate processes cannot show.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SystemClock } from '../../src/adapters/clock/system-clock.js';
import { ZstdCodecAdapter } from '../../src/adapters/codec/zstd-codec.js';
import { NodeCryptoPrimitives } from '../../src/adapters/crypto/node-crypto-primitives.js';
import { NodeReceiveFolder } from '../../src/adapters/filesystem/node-receive-folder.js';
import { NodeSourceFiles } from '../../src/adapters/filesystem/node-source-files.js';
import { InMemoryAuditLog } from '../../src/adapters/persistence/memory/in-memory-audit-log.js';
import { InMemoryTransferStore } from '../../src/adapters/persistence/memory/in-memory-transfer-store.js';
import { TcpTransport } from '../../src/adapters/tcp/tcp-transport.js';
import { anyClientKey } from '../../src/adapters/trust/any-client-key.js';
import type { ClientAuthorization } from '../../src/domain/ports/client-authorization.js';
import { ReceiveServer, type ReceiveServerOptions } from '../../src/application/receive-server.js';
import type { SessionOutcome } from '../../src/application/session-host.js';
import { SendFile } from '../../src/application/send-file.js';
import type { SendOutcome } from '../../src/application/send-request.js';
import { fingerprintOf } from '../../src/domain/fingerprint.js';
import type { Clock } from '../../src/domain/ports/clock.js';
import type { Codec } from '../../src/domain/ports/codec.js';
import type { CryptoPrimitives, KeyPair } from '../../src/domain/ports/crypto-primitives.js';
import type { Logger } from '../../src/domain/ports/logger.js';
import type { BanBoard } from '../../src/domain/ports/ban-board.js';
import type { ReceiveFolder } from '../../src/domain/ports/files.js';
import type { ReservationBoard } from '../../src/domain/ports/reservation-board.js';
import type { Transport } from '../../src/domain/ports/transport.js';

export const silentLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  shutdown: () => Promise.resolve(),
};

export interface InProcessReceiver {
  readonly port: number;
  readonly dir: string;
  readonly hostKey: KeyPair;
  readonly audit: InMemoryAuditLog;
  readonly store: InMemoryTransferStore;
  readonly outcomes: SessionOutcome[];
  readonly server: ReceiveServer;
  stop(): Promise<void>;
}

export interface InProcessOptions {
  readonly crypto?: CryptoPrimitives;
  readonly clients?: ClientAuthorization;
  readonly hostKey?: KeyPair;
  readonly clock?: Clock;
  /** The receiver's codec (default zstd-codec, which always allocates its output). */
  readonly codec?: Codec;
  readonly store?: InMemoryTransferStore;
  readonly dir?: string;
  readonly server?: Partial<ReceiveServerOptions>;
  /** Shared with other receivers: bans and offences, disk reservations. */
  readonly banBoard?: BanBoard;
  readonly reservations?: ReservationBoard;
  /** Wraps the receiver's folder (a test's view of the free space, say). */
  readonly folder?: (dir: string) => ReceiveFolder;
  /** How peers reach it (default TCP on loopback; MemoryTransport for sessions without sockets). */
  readonly transport?: Transport;
}

export async function startInProcessReceiver(options: InProcessOptions = {}): Promise<InProcessReceiver> {
  const crypto = options.crypto ?? new NodeCryptoPrimitives();
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'st-inproc-recv-'));
  const hostKey = options.hostKey ?? crypto.generateKeyPair();
  const audit = new InMemoryAuditLog();
  const store = options.store ?? new InMemoryTransferStore();
  const outcomes: SessionOutcome[] = [];
  const server = new ReceiveServer(
    options.transport ?? new TcpTransport(),
    {
      crypto,
      codec: options.codec ?? (await ZstdCodecAdapter.create()),
      clock: options.clock ?? new SystemClock(),
      store,
      audit,
      folder: options.folder?.(dir) ?? new NodeReceiveFolder(dir),
      logger: silentLogger,
      identity: hostKey,
      clients: options.clients ?? anyClientKey,
      banBoard: options.banBoard,
      reservations: options.reservations,
    },
    { ...testServerOptions, ...options.server },
    (o) => outcomes.push(o),
  );
  const listener = await server.start();
  return { port: listener.port, dir, hostKey, audit, store, outcomes, server, stop: () => server.stop() };
}

/** Receiver limits for in-process tests: the product's shape, sized for a test. */
export const testServerOptions: ReceiveServerOptions = {
  host: '127.0.0.1',
  port: 0,
  maxConcurrentPerIp: 5,
  maxHandshakesPerIp: 3,
  startups: { start: 16, rate: 30, full: 64 },
  ban: { threshold: 3, windowMs: 60_000, banMs: 600_000, maxBanMs: 3_600_000 },
  capacity: { minFreeSpace: 0, maxTransfers: 16, maxTransfersPerKey: 8 },
  maxReceiveMemory: 64 << 20,
  partialRetentionMs: 7 * 86_400_000,
  auditRetentionMs: 90 * 86_400_000,
  random: Math.random,
  maxTransferSize: 1 << 30,
  maxFiles: 100_000,
  maxPayloadSize: 64 << 20,
  handshakeTimeoutMs: 10_000,
  idleTimeoutMs: 10_000,
  rateLimitBytesPerSec: 0,
  progress: { intervalMs: 30_000, minBytes: 1 },
};

/** Sends a file with the given client key; the receiver's key is trusted whatever it is. */
export async function sendInProcess(
  port: number,
  filePath: string,
  options: { crypto?: CryptoPrimitives; clientKey?: KeyPair; transport?: Transport } = {},
): Promise<SendOutcome> {
  const crypto = options.crypto ?? new NodeCryptoPrimitives();
  const keyPair = options.clientKey ?? crypto.generateKeyPair();
  const sendFile = new SendFile({
    transport: options.transport ?? new TcpTransport(),
    crypto,
    codec: await ZstdCodecAdapter.create(),
    clock: new SystemClock(),
    store: new InMemoryTransferStore(),
    files: new NodeSourceFiles(),
    identity: { loadOrCreate: () => Promise.resolve({ keyPair, created: false, path: '(test)' }) },
    trust: { check: (_h, _p, key) => Promise.resolve({ fingerprint: fingerprintOf(key, crypto.sha256) }) },
    logger: silentLogger,
  });
  return sendFile.execute({ host: '127.0.0.1', port, filePath, compressionLevel: 3, connectTimeoutMs: 5_000, idleTimeoutMs: 10_000 });
}
