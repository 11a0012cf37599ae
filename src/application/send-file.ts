// Use case: send one file (SPEC §1 send). Returns an outcome; only a bad request throws.
import { SecureTransferError, type ErrorCode } from '../domain/errors.js';
import { DEFAULT_PIECE_SIZE, DEFAULT_PIPELINE_WINDOW } from '../domain/limits.js';
import type { Codec } from '../domain/ports/codec.js';
import type { Clock } from '../domain/ports/clock.js';
import { fingerprintOf } from '../domain/fingerprint.js';
import type { CryptoPrimitives, KeyPair } from '../domain/ports/crypto-primitives.js';
import type { SourceFile, SourceFiles } from '../domain/ports/files.js';
import type { IdentityStore } from '../domain/ports/identity-store.js';
import type { Logger } from '../domain/ports/logger.js';
import type { TransferStore, TransferUpdate } from '../domain/ports/transfer-store.js';
import type { Transport } from '../domain/ports/transport.js';
import { validateFileName } from '../domain/transfer/file-name.js';
import { pieceCountFor, type Manifest, encodeManifest } from '../domain/transfer/manifest.js';
import { transferIdFromRandom } from '../domain/transfer/transfer-id.js';
import { runSenderTransfer } from './sender-transfer.js';
import type { ServerTrust } from './server-trust.js';
import { SecureChannel } from './secure-channel.js';
import { initiatorHandshake } from './handshake.js';

export interface SendFileDeps {
  readonly transport: Transport;
  readonly crypto: CryptoPrimitives;
  readonly codec: Codec;
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
  /** zstd level 1..19; 0 sends every piece raw. */
  readonly compressionLevel: number;
  readonly pieceSize?: number;
  readonly window?: number;
  readonly connectTimeoutMs: number;
  readonly idleTimeoutMs: number;
  readonly onProgress?: (bytesDone: number, bytesTotal: number) => void;
  /** Called once the transfer id exists, before any network I/O, so a caller can show it. */
  readonly onStart?: (transferId: string, manifest: Manifest) => void;
  /** Called with what the trust decision has to tell the user (a first contact recorded). */
  readonly onTrustNote?: (note: string) => void;
}

export type SendOutcome =
  | { readonly ok: true; readonly transferId: string; readonly fileSize: number; readonly wireBytes: number; readonly serverFingerprint: string }
  | { readonly ok: false; readonly transferId: string; readonly code: ErrorCode; readonly detail: string };

export class SendFile {
  constructor(private readonly deps: SendFileDeps) {}

  async execute(request: SendFileRequest): Promise<SendOutcome> {
    const { crypto, clock, store, files, transport, logger } = this.deps;
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
        compression: request.compressionLevel > 0 ? 'zstd' : 'none',
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
      });
      request.onStart?.(manifest.transferId, manifest);
      const failed = async (code: ErrorCode, detail: string, extra: TransferUpdate = {}): Promise<SendOutcome> => {
        await store.update(manifest.transferId, 'sender', { ...extra, status: 'failed', errorCode: code, errorDetail: detail, updatedAt: clock.now() });
        logger.warn('transfer failed', { transferId: manifest.transferId, code, detail });
        return { ok: false, transferId: manifest.transferId, code, detail };
      };

      // Before connecting: an unreadable key must not leave a socket open.
      const identity = await this.deps.identity.loadOrCreate();
      const keyPair = identity.keyPair;
      if (identity.created) {
        request.onTrustNote?.(`created this sender's identity key ${identity.path} (fingerprint ${fingerprintOf(keyPair.publicKey, crypto.sha256)})`);
      }
      try {
        return await this.transfer(request, manifest, source, keyPair, failed);
      } finally {
        // SPEC §3.2: our private key does not outlive the send.
        keyPair.privateKey.fill(0);
      }
    } finally {
      await source.close();
    }
  }

  private async transfer(
    request: SendFileRequest,
    manifest: Manifest,
    source: SourceFile,
    keyPair: KeyPair,
    failed: (code: ErrorCode, detail: string, extra?: TransferUpdate) => Promise<SendOutcome>,
  ): Promise<SendOutcome> {
    const { crypto, clock, store, transport, logger } = this.deps;
    let connection;
    try {
      connection = await transport.connect(request.host, request.port, request.connectTimeoutMs);
    } catch (e) {
      const err = e as SecureTransferError;
      return failed(err.code ?? 'E_CONNECTION_LOST', err.message);
    }
    connection.setIdleTimeout(request.idleTimeoutMs);
    const channel = new SecureChannel(connection);
    const handshake = initiatorHandshake(channel, crypto, keyPair);
    try {
      const serverKey = await handshake.start();
      const trusted = await this.deps.trust.check(request.host, request.port, serverKey);
      if (trusted.note) {
        logger.info(trusted.note, { host: request.host, port: request.port });
        request.onTrustNote?.(trusted.note);
      }
      await store.update(manifest.transferId, 'sender', { peerFingerprint: trusted.fingerprint, updatedAt: clock.now() });
      await handshake.finish(encodeManifest(manifest));
      const result = await runSenderTransfer({
        channel,
        manifest,
        source,
        crypto,
        codec: this.deps.codec,
        compressionLevel: request.compressionLevel,
        window: request.window ?? DEFAULT_PIPELINE_WINDOW,
        onAcked: async (pieces, piecesDone, bytesDone) => {
          await store.recordPieces(manifest.transferId, 'sender', pieces);
          await store.update(manifest.transferId, 'sender', { piecesDone, bytesDone, updatedAt: clock.now() });
          request.onProgress?.(bytesDone, manifest.fileSize);
        },
      });
      const wireBytes = connection.bytesRead + connection.bytesWritten;
      if (!result.ok) return failed(result.code, result.detail, { wireBytes });
      const done = clock.now();
      await store.update(manifest.transferId, 'sender', {
        status: 'completed',
        piecesDone: manifest.pieceCount,
        bytesDone: manifest.fileSize,
        wireBytes,
        completedAt: done,
        updatedAt: done,
      });
      return { ok: true, transferId: manifest.transferId, fileSize: manifest.fileSize, wireBytes, serverFingerprint: trusted.fingerprint };
    } catch (e) {
      if (e instanceof SecureTransferError) return failed(e.code, e.message);
      throw e;
    } finally {
      handshake.destroy();
      channel.destroyKeys();
      connection.destroy();
    }
  }
}
