// One attempt of a send or a resume: connect, handshake, check the receiver's key, send the
// manifest, run the transfer, and record the outcome (the sender's pieces in batches).
import { failureOf, SecureTransferError, type ErrorCode } from '../domain/errors.js';
import { fingerprintOf } from '../domain/fingerprint.js';
import { compressesOnThreads } from '../domain/policy/compression-threads.js';
import type { KeyPair } from '../domain/ports/crypto-primitives.js';
import type { SourceFile } from '../domain/ports/files.js';
import type { TransferRecord, TransferUpdate } from '../domain/ports/transfer-store.js';
import { encodeManifest, pieceRange, treeListRest, type Manifest } from '../domain/transfer/manifest.js';
import { PipelineWindow } from '../domain/transfer/pipeline-window.js';
import { encodeEntries, MAX_ENTRIES_CHUNK } from '../domain/wire/messages.js';
import { initiatorHandshake } from './handshake.js';
import type { PieceHashing } from './hash-pieces-ahead.js';
import { PieceBatches } from './piece-batches.js';
import { SecureChannel } from './secure-channel.js';
import type { SendFileDeps, SendFileRequest, SendOutcome } from './send-request.js';
import { runSenderTransfer } from './sender-transfer.js';

export interface Attempt {
  readonly manifest: Manifest;
  readonly source: SourceFile;
  readonly request: SendFileRequest;
  /** The record before this attempt (a resume), for the cumulative counters and the receiver key. */
  readonly earlier: TransferRecord | undefined;
  /** A resume hashes the pieces it saw acknowledged from the moment it starts to connect. */
  readonly prehashed?: PieceHashing;
}

export async function runSendAttempt(deps: SendFileDeps, a: Attempt): Promise<SendOutcome> {
  const { crypto, clock, store, logger } = deps;
  a.request.onStart?.(a.manifest.transferId, a.manifest);
  const failed = async (code: ErrorCode, detail: string, extra: TransferUpdate = {}): Promise<SendOutcome> => {
    await store.update(a.manifest.transferId, 'sender', {
      ...extra,
      status: 'failed',
      errorCode: code,
      errorDetail: detail,
      updatedAt: clock.now(),
    });
    logger.warn('transfer failed', { transferId: a.manifest.transferId, code, detail });
    return { ok: false, transferId: a.manifest.transferId, code, detail };
  };
  // Before connecting: an unreadable key must not leave a socket open.
  const identity = await deps.identity.loadOrCreate();
  const keyPair = identity.keyPair;
  if (identity.created) {
    a.request.onTrustNote?.(
      `created this sender's identity key ${identity.path} (fingerprint ${fingerprintOf(keyPair.publicKey, crypto.sha256)})`,
    );
  }
  try {
    return await connectAndSend(deps, a, keyPair, failed);
  } finally {
    // docs/requirements.md#keys: our private key does not outlive the send.
    keyPair.privateKey.fill(0);
  }
}

async function connectAndSend(
  deps: SendFileDeps,
  a: Attempt,
  keyPair: KeyPair,
  failed: (code: ErrorCode, detail: string, extra?: TransferUpdate) => Promise<SendOutcome>,
): Promise<SendOutcome> {
  const { crypto, clock, store, transport, logger } = deps;
  const { manifest, request } = a;
  const id = manifest.transferId;
  let connection;
  try {
    connection = await transport.connect(request.host, request.port, request.connectTimeoutMs);
  } catch (e) {
    const { code, detail } = failureOf(e, 'E_CONNECTION_LOST');
    return failed(code, detail);
  }
  connection.setIdleTimeout(request.idleTimeoutMs);
  const wireBytes = () => (a.earlier?.wireBytes ?? 0) + connection.bytesRead + connection.bytesWritten;
  const channel = new SecureChannel(connection);
  const handshake = initiatorHandshake(channel, crypto, keyPair);
  // Done pieces are recorded in batches: the receiver, not this record, is asked on resume.
  const batches = new PieceBatches(
    (batch, totals, extra) =>
      store.recordPieces(id, 'sender', batch, {
        piecesDone: totals.pieces,
        bytesDone: totals.bytes,
        wireBytes: wireBytes(),
        updatedAt: clock.now(),
        ...extra,
      }),
    clock,
    { pieces: 0, bytes: 0 },
  );
  try {
    const serverKey = await handshake.start();
    const trusted = await deps.trust.check(request.host, request.port, serverKey);
    if (trusted.note) {
      logger.info(trusted.note, { host: request.host, port: request.port });
      request.onTrustNote?.(trusted.note);
    }
    // A transfer continues with the receiver key it started with, wherever that receiver is now.
    const firstKey = a.earlier?.peerFingerprint;
    if (firstKey && firstKey !== trusted.fingerprint) {
      return await failed(
        'E_UNTRUSTED_KEY',
        `transfer ${id} was started with receiver key ${firstKey}, but ${request.host}:${request.port} presented ${trusted.fingerprint}. Nothing was sent.`,
      );
    }
    await store.update(id, 'sender', { peerFingerprint: trusted.fingerprint, updatedAt: clock.now() });
    request.onReceiverKey?.(trusted.fingerprint);
    await handshake.finish(encodeManifest(manifest));
    // What of a folder's entry list did not fit in the handshake message follows it at once.
    const rest = treeListRest(manifest, MAX_ENTRIES_CHUNK);
    if (rest.length > 0) await channel.sendMessages(rest.map(encodeEntries));
    let piecesHeld = 0;
    const done = { pieces: 0, bytes: 0 };
    const result = await runSenderTransfer({
      channel,
      manifest,
      source: a.source,
      crypto,
      codec: deps.codec,
      compressor: compressesOnThreads(manifest.fileSize) ? deps.compressor : undefined,
      compressionLevel: request.compressionLevel,
      clock: deps.clock,
      window: request.window ?? PipelineWindow.forPieces(manifest.pieceSize),
      prehashed: a.prehashed?.hashes,
      onDone: (piece, held) => {
        const length = pieceRange(manifest, piece.index).length;
        if (held) piecesHeld++;
        done.pieces++;
        done.bytes += length;
        batches.add(piece, length);
        request.onProgress?.(done.bytes, manifest.fileSize, done.pieces);
      },
    });
    if (!result.ok) {
      await batches.flush().catch(() => undefined);
      return await failed(result.code, explained(manifest, result.code, result.detail), { wireBytes: wireBytes() });
    }
    await batches.flush({ status: 'completed', piecesDone: manifest.pieceCount, bytesDone: manifest.fileSize, completedAt: clock.now() });
    return {
      ok: true,
      transferId: id,
      fileSize: manifest.fileSize,
      wireBytes: connection.bytesRead + connection.bytesWritten,
      piecesHeld,
      serverFingerprint: trusted.fingerprint,
      ...(result.waits ? { waits: result.waits } : {}),
    };
  } catch (e) {
    if (e instanceof SecureTransferError) return failed(e.code, e.message, { wireBytes: wireBytes() });
    throw e;
  } finally {
    handshake.destroy();
    channel.destroyKeys();
    connection.destroy();
  }
}

/** A receiver too old for folders refuses their manifest version by number: say what that means. */
function explained(manifest: Manifest, code: ErrorCode, detail: string): string {
  if (manifest.tree && code === 'E_MANIFEST_INVALID' && /manifest version \d+ is not supported/.test(detail)) {
    return `${detail}. The receiver does not take folders (its protocol is older than this sender's); upgrade it, or send a single file`;
  }
  return detail;
}
