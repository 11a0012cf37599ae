// Use case: send one file (docs/requirements.md#command-line), or continue an earlier attempt (the same section).
// Returns an outcome; only a bad request throws.
import { SecureTransferError, type ErrorCode } from '../domain/errors.js';
import { fingerprintOf } from '../domain/fingerprint.js';
import { DEFAULT_PIECE_SIZE, DEFAULT_PIPELINE_WINDOW, DURABLE_BATCH_MS, DURABLE_BATCH_PIECES } from '../domain/limits.js';
import type { Codec, PieceCompressor } from '../domain/ports/codec.js';
import type { Clock } from '../domain/ports/clock.js';
import type { CryptoPrimitives, KeyPair } from '../domain/ports/crypto-primitives.js';
import type { SourceFile, SourceFiles } from '../domain/ports/files.js';
import type { IdentityStore } from '../domain/ports/identity-store.js';
import type { Logger } from '../domain/ports/logger.js';
import type { PieceRecord, TransferRecord, TransferStore, TransferUpdate } from '../domain/ports/transfer-store.js';
import type { Transport } from '../domain/ports/transport.js';
import { validateFileName } from '../domain/transfer/file-name.js';
import { encodeManifest, pieceCountFor, type Compression, type Manifest } from '../domain/transfer/manifest.js';
import { transferIdFromRandom } from '../domain/transfer/transfer-id.js';
import { initiatorHandshake } from './handshake.js';
import { hashPiecesAhead, type PieceHashing } from './hash-pieces-ahead.js';
import { SecureChannel } from './secure-channel.js';
import { runSenderTransfer } from './sender-transfer.js';
import type { ServerTrust } from '../domain/ports/server-trust.js';

export interface SendFileDeps {
  readonly transport: Transport;
  readonly crypto: CryptoPrimitives;
  readonly codec: Codec;
  /** Compresses ahead on another thread where there is a core for it; else the codec runs inline. */
  readonly compressor?: PieceCompressor | undefined;
  readonly clock: Clock;
  readonly store: TransferStore;
  readonly files: SourceFiles;
  readonly identity: IdentityStore;
  readonly trust: ServerTrust;
  readonly logger: Logger;
}

export interface SendFileRequest {
  readonly host: string;
  readonly port: number;
  readonly filePath: string;
  /** zstd level; 0 sends every piece raw; auto follows the link (AdaptiveCompressionLevel). */
  readonly compressionLevel: number | 'auto';
  readonly pieceSize?: number;
  readonly window?: number;
  readonly connectTimeoutMs: number;
  readonly idleTimeoutMs: number;
  readonly onProgress?: (bytesDone: number, bytesTotal: number) => void;
  /** Called once the transfer id exists, before any network I/O, so a caller can show it. */
  readonly onStart?: (transferId: string, manifest: Manifest) => void;
  /** Called with what the user should know about keys (a first contact recorded, a key created). */
  readonly onTrustNote?: (note: string) => void;
}

export interface ResumeRequest extends Omit<SendFileRequest, 'pieceSize'> {
  readonly transferId: string;
}

export type SendOutcome =
  | {
      readonly ok: true;
      readonly transferId: string;
      readonly fileSize: number;
      /** Bytes on the network during this connection. */
      readonly wireBytes: number;
      /** Pieces the receiver already held (a resume). */
      readonly piecesHeld: number;
      readonly serverFingerprint: string;
    }
  | { readonly ok: false; readonly transferId: string; readonly code: ErrorCode; readonly detail: string };

interface Attempt {
  readonly manifest: Manifest;
  readonly source: SourceFile;
  readonly request: SendFileRequest;
  /** The record before this attempt (a resume), for the cumulative counters and the receiver key. */
  readonly earlier: TransferRecord | undefined;
  /** A resume hashes the pieces it saw acknowledged from the moment it starts to connect. */
  readonly prehashed?: PieceHashing;
}

const compressionFor = (level: number | 'auto'): Compression => (level === 'auto' || level > 0 ? 'zstd' : 'none');

export class SendFile {
  constructor(private readonly deps: SendFileDeps) {}

  /** A level the codec cannot run is a usage error, found before any file or socket is opened. */
  private checkLevel(level: number | 'auto'): void {
    const { codec } = this.deps;
    if (level === 'auto') return; // moves within 1..3, which every codec runs
    if (!Number.isInteger(level) || level < 0 || level > codec.maxLevel) {
      throw new SecureTransferError('E_USAGE', `compression level ${level} is outside 0..${codec.maxLevel} for ${codec.name}`);
    }
  }

  async execute(request: SendFileRequest): Promise<SendOutcome> {
    const { crypto, clock, store, files } = this.deps;
    this.checkLevel(request.compressionLevel);
    const source = await files.open(request.filePath);
    try {
      const name = validateFileName(source.name.normalize('NFC'));
      if (!name.ok) throw new SecureTransferError('E_NAME_INVALID', `cannot send "${source.name}": ${name.detail}`);
      const pieceSize = request.pieceSize ?? DEFAULT_PIECE_SIZE;
      const manifest: Manifest = {
        transferId: transferIdFromRandom(crypto.randomBytes(16)),
        fileName: name.value,
        fileSize: source.size,
        pieceSize,
        pieceCount: pieceCountFor(source.size, pieceSize),
        compression: compressionFor(request.compressionLevel),
        resume: false,
      };
      const now = clock.now();
      await store.create({
        id: manifest.transferId,
        role: 'sender',
        fileName: manifest.fileName,
        localPath: source.path,
        fileSize: manifest.fileSize,
        pieceSize,
        pieceCount: manifest.pieceCount,
        compression: manifest.compression,
        status: 'in-progress',
        piecesDone: 0,
        bytesDone: 0,
        wireBytes: 0,
        peerAddress: `${request.host}:${request.port}`,
        peerFingerprint: null,
        createdAt: now,
        updatedAt: now,
        completedAt: null,
        errorCode: null,
        errorDetail: null,
        sourceModifiedAt: source.modifiedAt,
        attempts: 1,
      });
      return await this.attempt({ manifest, source, request, earlier: undefined });
    } finally {
      await source.close();
    }
  }

  /**
   * Continues a failed or interrupted transfer: a new connection with fresh keys to the same
   * receiver key; the receiver says what it holds, those pieces are checked against the source,
   * and only the rest is sent. A source that changed since the first attempt is refused.
   */
  async resume(request: ResumeRequest): Promise<SendOutcome> {
    const { store, files, clock } = this.deps;
    this.checkLevel(request.compressionLevel);
    const earlier = await store.get(request.transferId, 'sender');
    if (!earlier) {
      throw new SecureTransferError('E_UNKNOWN_TRANSFER', `no transfer ${request.transferId} in this sender's database (resume runs where the first send ran, with the same DB_PATH)`);
    }
    if (earlier.status === 'completed') {
      throw new SecureTransferError('E_ALREADY_COMPLETE', `transfer ${request.transferId} already completed and was verified by the receiver; nothing to resume`);
    }
    const source = await files.open(request.filePath);
    try {
      const changed =
        source.size !== earlier.fileSize
          ? `it is ${source.size} bytes, the transfer was of ${earlier.fileSize}`
          : earlier.sourceModifiedAt !== null && source.modifiedAt !== earlier.sourceModifiedAt
            ? `it was modified at ${new Date(source.modifiedAt).toISOString()}, after the first attempt (${new Date(earlier.sourceModifiedAt).toISOString()})`
            : undefined;
      if (changed) {
        throw new SecureTransferError('E_SOURCE_CHANGED', `${source.path} changed since the first attempt: ${changed}. Resuming would mix two versions; send it again as a new transfer`);
      }
      const manifest: Manifest = {
        transferId: earlier.id,
        fileName: earlier.fileName,
        fileSize: earlier.fileSize,
        pieceSize: earlier.pieceSize,
        pieceCount: earlier.pieceCount,
        compression: compressionFor(request.compressionLevel),
        resume: true,
      };
      await store.update(earlier.id, 'sender', {
        status: 'in-progress',
        attempts: earlier.attempts + 1,
        peerAddress: `${request.host}:${request.port}`,
        errorCode: null,
        errorDetail: null,
        updatedAt: clock.now(),
      });
      const acknowledged = (await store.pieces(earlier.id, 'sender')).map((p) => p.index).filter((i) => i < manifest.pieceCount);
      const prehashed = hashPiecesAhead((offset, length, into) => source.read(offset, length, into), manifest, acknowledged, this.deps.crypto.sha256);
      try {
        return await this.attempt({ manifest, source, request, earlier, prehashed });
      } finally {
        await prehashed.stop();
      }
    } finally {
      await source.close();
    }
  }

  private async attempt(a: Attempt): Promise<SendOutcome> {
    const { crypto, clock, store, logger } = this.deps;
    a.request.onStart?.(a.manifest.transferId, a.manifest);
    const failed = async (code: ErrorCode, detail: string, extra: TransferUpdate = {}): Promise<SendOutcome> => {
      await store.update(a.manifest.transferId, 'sender', { ...extra, status: 'failed', errorCode: code, errorDetail: detail, updatedAt: clock.now() });
      logger.warn('transfer failed', { transferId: a.manifest.transferId, code, detail });
      return { ok: false, transferId: a.manifest.transferId, code, detail };
    };
    // Before connecting: an unreadable key must not leave a socket open.
    const identity = await this.deps.identity.loadOrCreate();
    const keyPair = identity.keyPair;
    if (identity.created) {
      a.request.onTrustNote?.(`created this sender's identity key ${identity.path} (fingerprint ${fingerprintOf(keyPair.publicKey, crypto.sha256)})`);
    }
    try {
      return await this.connectAndSend(a, keyPair, failed);
    } finally {
      // docs/requirements.md#keys: our private key does not outlive the send.
      keyPair.privateKey.fill(0);
    }
  }

  private async connectAndSend(
    a: Attempt,
    keyPair: KeyPair,
    failed: (code: ErrorCode, detail: string, extra?: TransferUpdate) => Promise<SendOutcome>,
  ): Promise<SendOutcome> {
    const { crypto, clock, store, transport, logger } = this.deps;
    const { manifest, request } = a;
    const id = manifest.transferId;
    let connection;
    try {
      connection = await transport.connect(request.host, request.port, request.connectTimeoutMs);
    } catch (e) {
      const err = e as SecureTransferError;
      return failed(err.code ?? 'E_CONNECTION_LOST', err.message);
    }
    connection.setIdleTimeout(request.idleTimeoutMs);
    const wireBytes = () => (a.earlier?.wireBytes ?? 0) + connection.bytesRead + connection.bytesWritten;
    const channel = new SecureChannel(connection);
    const handshake = initiatorHandshake(channel, crypto, keyPair);
    // ACKed pieces are recorded in batches: the receiver, not this record, is asked on resume.
    let pending: PieceRecord[] = [];
    let progress = { piecesDone: 0, bytesDone: 0 };
    let lastFlush = clock.now();
    const flush = async (extra: TransferUpdate = {}) => {
      const batch = pending;
      pending = [];
      lastFlush = clock.now();
      await store.recordPieces(id, 'sender', batch, { ...progress, wireBytes: wireBytes(), updatedAt: lastFlush, ...extra });
    };
    try {
      const serverKey = await handshake.start();
      const trusted = await this.deps.trust.check(request.host, request.port, serverKey);
      if (trusted.note) {
        logger.info(trusted.note, { host: request.host, port: request.port });
        request.onTrustNote?.(trusted.note);
      }
      // A transfer continues with the receiver key it started with, wherever that receiver is now.
      const firstKey = a.earlier?.peerFingerprint;
      if (firstKey && firstKey !== trusted.fingerprint) {
        return await failed('E_UNTRUSTED_KEY', `transfer ${id} was started with receiver key ${firstKey}, but ${request.host}:${request.port} presented ${trusted.fingerprint}. Nothing was sent.`);
      }
      await store.update(id, 'sender', { peerFingerprint: trusted.fingerprint, updatedAt: clock.now() });
      await handshake.finish(encodeManifest(manifest));
      let piecesHeld = 0;
      const result = await runSenderTransfer({
        channel,
        manifest,
        source: a.source,
        crypto,
        codec: this.deps.codec,
        compressor: this.deps.compressor,
        compressionLevel: request.compressionLevel,
        clock: this.deps.clock,
        window: request.window ?? DEFAULT_PIPELINE_WINDOW,
        prehashed: a.prehashed?.hashes,
        onDone: async (piece, piecesDone, bytesDone, held) => {
          if (held) piecesHeld++;
          pending.push(piece);
          progress = { piecesDone, bytesDone };
          if (pending.length >= DURABLE_BATCH_PIECES || clock.now() - lastFlush >= DURABLE_BATCH_MS) await flush();
          request.onProgress?.(bytesDone, manifest.fileSize);
        },
      });
      if (!result.ok) {
        await flush().catch(() => undefined);
        return await failed(result.code, result.detail, { wireBytes: wireBytes() });
      }
      const done = clock.now();
      await flush({ status: 'completed', piecesDone: manifest.pieceCount, bytesDone: manifest.fileSize, completedAt: done });
      return { ok: true, transferId: id, fileSize: manifest.fileSize, wireBytes: connection.bytesRead + connection.bytesWritten, piecesHeld, serverFingerprint: trusted.fingerprint };
    } catch (e) {
      if (e instanceof SecureTransferError) return failed(e.code, e.message, { wireBytes: wireBytes() });
      throw e;
    } finally {
      handshake.destroy();
      channel.destroyKeys();
      connection.destroy();
    }
  }
}
