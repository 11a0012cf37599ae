// Use case: send one file (docs/requirements.md#command-line), or continue an earlier attempt (the same section).
// Returns an outcome; only a bad request throws.
import { SecureTransferError } from '../domain/errors.js';
import { DEFAULT_PIECE_SIZE } from '../domain/limits.js';
import { validateFileName } from '../domain/transfer/file-name.js';
import { pieceCountFor, type Compression, type Manifest } from '../domain/transfer/manifest.js';
import { newTransferRecord } from '../domain/transfer/new-transfer-record.js';
import { transferIdFromRandom } from '../domain/transfer/transfer-id.js';
import { entryListHash } from '../domain/transfer/tree.js';
import { folderTree, resumedTree, skippedRecord } from './folder-source.js';
import { hashPiecesAhead } from './hash-pieces-ahead.js';
import { runSendAttempt } from './send-attempt.js';
import type { ResumeRequest, SendFileDeps, SendFileRequest, SendOutcome } from './send-request.js';

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
      const tree = folderTree(source);
      if (source.tree?.skipped.length) request.onSkipped?.(source.tree.skipped);
      const manifest: Manifest = {
        transferId: transferIdFromRandom(crypto.randomBytes(16)),
        fileName: name.value,
        fileSize: source.size,
        pieceSize,
        pieceCount: pieceCountFor(source.size, pieceSize),
        compression: compressionFor(request.compressionLevel),
        resume: false,
        ...(tree && { tree }),
      };
      await store.create(
        newTransferRecord(
          {
            id: manifest.transferId,
            role: 'sender',
            fileName: manifest.fileName,
            localPath: source.path,
            fileSize: manifest.fileSize,
            pieceSize,
            pieceCount: manifest.pieceCount,
            compression: manifest.compression,
            peerAddress: `${request.host}:${request.port}`,
            peerFingerprint: null,
            sourceModifiedAt: source.modifiedAt,
            ...(tree && {
              entryCount: tree.entries.length,
              entryList: tree.list,
              entryListHash: entryListHash(tree.list, crypto.sha256),
              ...skippedRecord(source.tree?.skipped ?? []),
            }),
          },
          clock.now(),
        ),
      );
      return await runSendAttempt(this.deps, { manifest, source, request, earlier: undefined });
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
      throw new SecureTransferError(
        'E_UNKNOWN_TRANSFER',
        `no transfer ${request.transferId} in this sender's database (resume runs where the first send ran, with the same DB_PATH)`,
      );
    }
    if (earlier.status === 'completed') {
      throw new SecureTransferError(
        'E_ALREADY_COMPLETE',
        `transfer ${request.transferId} already completed and was verified by the receiver; nothing to resume`,
      );
    }
    const source = await files.open(request.filePath);
    try {
      // A folder is compared entry by entry; a file by its size and time.
      const tree = resumedTree(earlier, source);
      if (source.tree?.skipped.length) request.onSkipped?.(source.tree.skipped);
      const changed = tree
        ? undefined
        : source.size !== earlier.fileSize
          ? `it is ${source.size} bytes, the transfer was of ${earlier.fileSize}`
          : earlier.sourceModifiedAt !== null && source.modifiedAt !== earlier.sourceModifiedAt
            ? `it was modified at ${new Date(source.modifiedAt).toISOString()}, after the first attempt (${new Date(earlier.sourceModifiedAt).toISOString()})`
            : undefined;
      if (changed) {
        throw new SecureTransferError(
          'E_SOURCE_CHANGED',
          `${source.path} changed since the first attempt: ${changed}. Resuming would mix two versions; send it again as a new transfer`,
        );
      }
      const manifest: Manifest = {
        transferId: earlier.id,
        fileName: earlier.fileName,
        fileSize: earlier.fileSize,
        pieceSize: earlier.pieceSize,
        pieceCount: earlier.pieceCount,
        compression: compressionFor(request.compressionLevel),
        resume: true,
        ...(tree && { tree }),
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
      const prehashed = hashPiecesAhead(
        (offset, length, into) => source.read(offset, length, into),
        manifest,
        acknowledged,
        this.deps.crypto.sha256,
      );
      try {
        return await runSendAttempt(this.deps, { manifest, source, request, earlier, prehashed });
      } finally {
        await prehashed.stop();
      }
    } finally {
      await source.close();
    }
  }
}
