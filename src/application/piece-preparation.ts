// The sender's side of a piece before it is sealed: read from the source ahead of the piece being
// sent, compressed (inline, or ahead on a PieceCompressor's threads), hashed, and sent raw when
// compression does not shrink it (docs/requirements.md#compression). Buffers come from one
// bounded pool and go back once the piece is sealed.
import type { Clock } from '../domain/ports/clock.js';
import type { Codec, PieceCompressor } from '../domain/ports/codec.js';
import type { CryptoPrimitives } from '../domain/ports/crypto-primitives.js';
import type { SourceFile } from '../domain/ports/files.js';
import { AdaptiveCompressionLevel } from '../domain/policy/adaptive-compression-level.js';
import { BufferPool } from '../domain/policy/buffer-pool.js';
import { CompressionProbe } from '../domain/policy/compression-probe.js';
import { pieceRange, type Manifest } from '../domain/transfer/manifest.js';
import { PieceEncoding } from '../domain/wire/messages.js';
import { UNTIMED, type WaitTimer } from './pipeline-waits.js';

/** Pieces read ahead of the one being sent (more when a PieceCompressor works on several at once). */
const READ_AHEAD = 2;

export interface PiecePreparationOptions {
  readonly manifest: Manifest;
  readonly source: SourceFile;
  readonly crypto: CryptoPrimitives;
  readonly codec: Codec;
  /** Compresses pieces ahead on another thread; without it the codec runs inline. */
  readonly compressor?: PieceCompressor | undefined;
  /** The zstd level, or auto: the level follows what the sender waits for (AdaptiveCompressionLevel). */
  readonly compressionLevel: number | 'auto';
  readonly clock: Clock;
}

/** A piece ready to seal. */
export interface PreparedPiece {
  readonly index: number;
  /** SHA-256 of the raw bytes. */
  readonly hash: Uint8Array;
  /** What goes on the wire: the compressed bytes, or the raw ones. */
  readonly data: Uint8Array;
  readonly encoding: 0 | 1;
  /** Milliseconds the sender waited for this piece (its read, and its compression when inline). */
  readonly waitedMs: number;
  /** Pool buffers to give back once the piece is sealed. */
  readonly buffers: readonly Uint8Array[];
  /** Memory that came back from the compressor's thread, for the pool to adopt once the piece is sealed. */
  readonly returned: readonly Uint8Array[];
  /** Compression ran on it (the adaptive level learns only from those). */
  readonly compressed: boolean;
}

/** A piece read (and compressed, on a PieceCompressor) ahead of its turn. */
interface ReadAhead {
  readonly raw: Uint8Array;
  readonly compressed?: Uint8Array;
  readonly into?: Uint8Array;
}

export class PiecePreparation {
  private readonly probe = new CompressionProbe();
  private readonly adaptive: AdaptiveCompressionLevel | undefined;
  private readonly compressing: boolean;
  private readonly readAheadLimit: number;
  private readonly pool: BufferPool;
  private readonly ahead = new Map<number, Promise<ReadAhead>>();
  /** Counts the time the sender waits for a piece's read (and compression ahead); set once pieces flow. */
  waits: WaitTimer<'source'> = UNTIMED;

  constructor(private readonly o: PiecePreparationOptions) {
    this.compressing = o.manifest.compression === 'zstd';
    this.adaptive = o.compressionLevel === 'auto' ? new AdaptiveCompressionLevel() : undefined;
    this.readAheadLimit = Math.max(READ_AHEAD, (o.compressor?.parallelism ?? 0) + 1);
    // Every piece read ahead, the one being sealed, and a held piece being hashed, each with its
    // compression output: beyond that a buffer is made and left to the collector.
    const perPiece = o.manifest.pieceSize + (this.compressing ? o.codec.compressBound(o.manifest.pieceSize) : 0);
    this.pool = new BufferPool((this.readAheadLimit + 2) * perPiece);
  }

  /** Starts reading (and compressing) the first of these pieces not yet under way, up to the read-ahead limit. */
  readAhead(indexes: Iterable<number>): void {
    for (const index of indexes) {
      if (this.ahead.size >= this.readAheadLimit) return;
      if (this.ahead.has(index)) continue;
      const piece = this.readAndCompress(index);
      // A read the transfer never gets to (it failed meanwhile) must not surface as unhandled.
      piece.catch(() => undefined);
      this.ahead.set(index, piece);
    }
  }

  /** The piece, hashed and compressed, ready to seal. Call readAhead() again after it. */
  async prepare(index: number): Promise<PreparedPiece> {
    const pending = this.ahead.get(index);
    this.ahead.delete(index);
    const waitFrom = this.o.clock.now();
    const { raw, compressed: compressedAhead, into } = await this.waits.during('source', pending ?? this.readAndCompress(index));
    let waitedMs = this.o.clock.now() - waitFrom;
    const hash = this.o.crypto.sha256(raw);
    // Compressed ahead, both buffers went to the compressor's thread and came back as new memory.
    const returned = into ? [raw, into] : [];
    const buffers = into ? [] : [raw];
    let compressed = compressedAhead;
    if (!this.o.compressor && this.compressing && this.probe.shouldCompress()) {
      const compressFrom = this.o.clock.now();
      const out = this.pool.takeOrMake(this.o.codec.compressBound(raw.length));
      buffers.push(out);
      compressed = this.o.codec.compress(raw, this.level(), out);
      // Inline, the compression itself is what the next piece waits for.
      waitedMs += this.o.clock.now() - compressFrom;
    }
    if (compressed) this.probe.observe(raw.length, compressed.length);
    const shrunk = compressed !== undefined && compressed.length < raw.length ? compressed : undefined;
    return {
      index,
      hash,
      data: shrunk ?? raw,
      encoding: shrunk ? PieceEncoding.ZSTD : PieceEncoding.RAW,
      waitedMs,
      buffers,
      returned,
      compressed: compressed !== undefined,
    };
  }

  /** The piece was sealed: its buffers are free, and the adaptive level learns how long the network took. */
  sealed(piece: PreparedPiece, networkMs: number): void {
    if (piece.compressed) this.adaptive?.observe(piece.waitedMs, networkMs);
    for (const buffer of piece.buffers) this.pool.give(buffer);
    // Only memory this side alone holds: what the worker handed back, never a view of someone else's.
    for (const buffer of piece.returned) this.pool.adopt(buffer);
  }

  /** SHA-256 of a piece read from the source (a held piece on a resume). */
  async hashOf(index: number): Promise<Uint8Array> {
    const raw = await this.read(index);
    try {
      return this.o.crypto.sha256(raw);
    } finally {
      this.pool.give(raw);
    }
  }

  private level(): number {
    return this.adaptive?.level ?? (this.o.compressionLevel as number);
  }

  private read(index: number): Promise<Uint8Array> {
    const range = pieceRange(this.o.manifest, index);
    return this.o.source.read(range.offset, range.length, this.pool.takeOrMake(range.length));
  }

  private async readAndCompress(index: number): Promise<ReadAhead> {
    const raw = await this.read(index);
    const { compressor } = this.o;
    if (!compressor || !this.compressing || !this.probe.shouldCompress()) return { raw };
    const out = this.pool.takeOrMake(this.o.codec.compressBound(raw.length));
    // Both buffers travel to the compressor's thread and come back as new views of their memory.
    this.pool.handOver(raw);
    this.pool.handOver(out);
    const { data, compressed, into } = await compressor.compress(raw, this.level(), out);
    return { raw: data, compressed, into };
  }
}
