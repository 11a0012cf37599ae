// Drives the sender state machine over an established channel: a writer task sends the pieces
// the machine asks for (read, hash, compress, seal, write) while a reader task feeds ACK, NACK,
// VERIFIED and CLOSE back into it. Several pieces are in flight at once (the window).
import { failureOf, type Failure } from '../domain/errors.js';
import type { Clock } from '../domain/ports/clock.js';
import type { Codec, PieceCompressor } from '../domain/ports/codec.js';
import type { CryptoPrimitives } from '../domain/ports/crypto-primitives.js';
import type { SourceFile } from '../domain/ports/files.js';
import type { PieceRecord } from '../domain/ports/transfer-store.js';
import { pieceRange, type Manifest } from '../domain/transfer/manifest.js';
import { piecesOf } from '../domain/transfer/piece-set.js';
import { AdaptiveCompressionLevel } from '../domain/policy/adaptive-compression-level.js';
import { CompressionProbe } from '../domain/policy/compression-probe.js';
import { PieceSet } from '../domain/transfer/piece-set.js';
import { initialSenderState, senderStep, type SenderEffect, type SenderEvent, type SenderState } from '../domain/transfer/sender-machine.js';
import { transferRootInput } from '../domain/transfer/transfer-root.js';
import { encodeClose, encodePieceHeader, encodeTransferComplete, maxAcceptBodyFor, PieceEncoding } from '../domain/wire/messages.js';
import type { PieceHashes } from './hash-pieces-ahead.js';
import type { SecureChannel } from './secure-channel.js';

export interface SenderTransferOptions {
  readonly channel: SecureChannel;
  readonly manifest: Manifest;
  readonly source: SourceFile;
  readonly crypto: CryptoPrimitives;
  readonly codec: Codec;
  /** Compresses pieces ahead on another thread; without it the codec runs inline. */
  readonly compressor?: PieceCompressor | undefined;
  /** The zstd level, or auto: the level follows what the sender waits for (AdaptiveCompressionLevel). */
  readonly compressionLevel: number | 'auto';
  readonly clock: Clock;
  readonly window: number;
  /** A resume's head start: hashes of the source's pieces the receiver probably holds. */
  readonly prehashed?: PieceHashes | undefined;
  /**
   * Called as each piece is done, with the running totals: sent and acknowledged, or (held true)
   * held by the receiver and confirmed by both sides' checks (a resume).
   */
  readonly onDone: (piece: PieceRecord, piecesDone: number, bytesDone: number, held: boolean) => Promise<void>;
}

const WRITE_FAILURE_GRACE_MS = 250;
/** Pieces read ahead of the one being sent (more when a PieceCompressor works on several at once). */
const READ_AHEAD = 2;

type Work = { readonly kind: 'piece'; readonly index: number } | { readonly kind: 'complete'; readonly pieceHashes: Uint8Array };

/** A piece read ahead, and already compressed when a PieceCompressor did it. */
interface Prepared {
  readonly raw: Uint8Array;
  readonly compressed?: Uint8Array;
  /** The compressor's output buffer, to reuse once the piece is sealed. */
  readonly into?: Uint8Array;
}

export async function runSenderTransfer(o: SenderTransferOptions): Promise<{ ok: true } | Failure> {
  const { channel, manifest } = o;
  let state: SenderState = initialSenderState(manifest, o.window);
  const work: Work[] = [];
  let wakeWriter: (() => void) | undefined;
  let outcome: { ok: true } | Failure | undefined;
  let settle!: (v: { ok: true } | Failure) => void;
  const finished = new Promise<{ ok: true } | Failure>((resolve) => (settle = resolve));
  let bytesDone = 0;
  let piecesDone = 0;

  const finish = async (result: { ok: true } | Failure, notifyPeer: boolean): Promise<void> => {
    if (outcome) return;
    outcome = result;
    wakeWriter?.();
    if (!result.ok && notifyPeer) {
      await channel.sendMessages([encodeClose(result.code, result.detail)]).catch(() => undefined);
    }
    settle(result);
  };

  const apply = (event: SenderEvent): void => {
    const step = senderStep(state, event);
    state = step.state;
    for (const effect of step.effects) handle(effect);
  };

  const handle = (effect: SenderEffect): void => {
    switch (effect.type) {
      case 'send-piece':
        work.push({ kind: 'piece', index: effect.index });
        wakeWriter?.();
        return;
      case 'send-complete':
        work.push({ kind: 'complete', pieceHashes: Uint8Array.from(effect.pieceHashes) });
        wakeWriter?.();
        return;
      case 'completed':
        void finish({ ok: true }, false);
        return;
      case 'abort':
        void finish({ ok: false, code: effect.code, detail: effect.detail }, effect.notifyPeer);
        return;
      default: {
        const exhaustive: never = effect;
        return exhaustive;
      }
    }
  };

  const failFrom = (e: unknown): void => {
    const { code, detail } = failureOf(e);
    // A connection that is gone or a record that failed authentication cannot carry a CLOSE.
    apply({ type: 'failure', code, detail, fromPeer: code === 'E_CONNECTION_LOST' || code === 'E_DECRYPT_FAILED' });
  };

  const probe = new CompressionProbe();
  const compressing = manifest.compression === 'zstd';
  const adaptive = o.compressionLevel === 'auto' ? new AdaptiveCompressionLevel() : undefined;
  const level = (): number => adaptive?.level ?? (o.compressionLevel as number);
  const readAheadLimit = Math.max(READ_AHEAD, (o.compressor?.parallelism ?? 0) + 1);
  // Inline compression writes every piece into one output buffer: each is sealed (copied into
  // the record buffer) before the next is compressed. A PieceCompressor works ahead, so its
  // output buffers go round like the read buffers.
  let compressOut: Uint8Array | undefined;
  const spareOut: Uint8Array[] = [];
  // Read-ahead: the next pieces' disk reads (and their compression, on a PieceCompressor) run
  // while this one is hashed and sealed.
  const prepared = new Map<number, Promise<Prepared>>();
  // Piece buffers are reused once a piece is sealed: fresh ones cost a page fault per 4 KiB.
  const spare: Uint8Array[] = [];
  const readPiece = (index: number): Promise<Uint8Array> => {
    const range = pieceRange(manifest, index);
    return o.source.read(range.offset, range.length, spare.pop() ?? new Uint8Array(manifest.pieceSize));
  };
  const reuse = (view: Uint8Array): void => {
    if (spare.length < readAheadLimit + 1 && view.buffer.byteLength === manifest.pieceSize) spare.push(new Uint8Array(view.buffer));
  };
  const prepare = async (index: number): Promise<Prepared> => {
    const raw = await readPiece(index);
    if (!o.compressor || !compressing || !probe.shouldCompress()) return { raw };
    const out = spareOut.pop() ?? new Uint8Array(o.codec.compressBound(manifest.pieceSize));
    const { data, compressed, into } = await o.compressor.compress(raw, level(), out);
    return { raw: data, compressed, into };
  };
  const readAhead = (): void => {
    for (const next of work) {
      if (prepared.size >= readAheadLimit) return;
      if (next.kind !== 'piece' || prepared.has(next.index)) continue;
      const piece = prepare(next.index);
      // A read the transfer never gets to (it failed meanwhile) must not surface as unhandled.
      piece.catch(() => undefined);
      prepared.set(next.index, piece);
    }
  };

  const sendPiece = async (index: number): Promise<void> => {
    const range = pieceRange(manifest, index);
    const pending = prepared.get(index);
    prepared.delete(index);
    readAhead();
    const waitFrom = o.clock.now();
    const { raw, compressed: ahead, into } = await (pending ?? prepare(index));
    let pieceWait = o.clock.now() - waitFrom;
    const hash = o.crypto.sha256(raw);
    let compressed = ahead;
    if (!o.compressor && compressing && probe.shouldCompress()) {
      const compressFrom = o.clock.now();
      compressOut ??= new Uint8Array(o.codec.compressBound(manifest.pieceSize));
      compressed = o.codec.compress(raw, level(), compressOut);
      // Inline, the compression itself is what the next piece waits for.
      pieceWait += o.clock.now() - compressFrom;
    }
    let data = raw;
    let encoding: 0 | 1 = PieceEncoding.RAW;
    if (compressed) {
      probe.observe(raw.length, compressed.length);
      // docs/requirements.md#compression: a piece that does not shrink is sent raw.
      if (compressed.length < raw.length) {
        data = compressed;
        encoding = PieceEncoding.ZSTD;
      }
    }
    apply({ type: 'piece-sent', index, hash });
    const header = encodePieceHeader({ index, offset: range.offset, rawLength: range.length, encoding, hash }, data.length);
    // sendMessages seals every record before it first yields; what follows is the network's time.
    const sent = o.channel.sendMessages([header, data]);
    const sealedAt = o.clock.now();
    await sent;
    if (compressed) adaptive?.observe(pieceWait, o.clock.now() - sealedAt);
    // The records were sealed before the call returned: the buffers are free again.
    reuse(raw);
    if (into && spareOut.length < readAheadLimit + 1) spareOut.push(into);
  };

  /**
   * Hashes each piece the receiver says it holds, from our source, for the machine to compare
   * with the receiver's hash (a resume only). Runs beside the writer: the missing pieces flow
   * meanwhile, and TRANSFER_COMPLETE waits for the last comparison.
   */
  const hashHeld = async (indexes: readonly number[]): Promise<void> => {
    for (const index of indexes) {
      let ours = await o.prehashed?.get(index)?.catch(() => undefined);
      if (outcome) return;
      if (!ours) {
        const raw = await readPiece(index);
        ours = o.crypto.sha256(raw);
        reuse(raw);
      }
      await applyAndReport({ type: 'held-hashed', index, ours }, index);
      if (outcome) return;
    }
  };

  // Pieces get done from two tasks on a resume (the reader's ACKs, the held-piece hashing); their
  // reports run one at a time, in order, since each may record a batch in the database.
  let reporting: Promise<void> = Promise.resolve();

  /** Steps the machine for an event about one piece, and reports the piece if it just got done. */
  const applyAndReport = async (event: SenderEvent, index: number): Promise<void> => {
    const before = state.phase === 'sending' ? state.pieces.state(index) : undefined;
    apply(event);
    if (outcome || before === 'done' || piecesOf(state).state(index) !== 'done') return;
    bytesDone += pieceRange(manifest, index).length;
    piecesDone++;
    const report = [{ index, hash: Uint8Array.from(piecesOf(state).hash(index)) }, piecesDone, bytesDone, before === 'held'] as const;
    reporting = reporting.then(() => o.onDone(...report));
    await reporting;
  };

  const writer = async (): Promise<void> => {
    while (!outcome) {
      const next = work.shift();
      if (!next) {
        await new Promise<void>((resolve) => (wakeWriter = resolve));
        wakeWriter = undefined;
        continue;
      }
      if (next.kind === 'piece') {
        await sendPiece(next.index);
      } else {
        const root = o.crypto.sha256(transferRootInput(manifest.fileSize, next.pieceHashes));
        apply({ type: 'complete-sent', root });
        await channel.sendMessages([encodeTransferComplete(root)]);
      }
    }
  };

  const reader = async (): Promise<void> => {
    // Hashes of held pieces come only with a resume.
    const limits = { maxPieceBody: 0, maxAcceptBody: manifest.resume ? maxAcceptBodyFor(manifest.pieceCount) : 4 + Math.ceil(manifest.pieceCount / 8) };
    while (!outcome) {
      const message = await channel.readMessage(limits);
      switch (message.type) {
        case 'accept': {
          apply({ type: 'accepted', pieceCount: message.pieceCount, held: message.held, heldHashes: message.heldHashes });
          if (outcome) break;
          const held = PieceSet.bitfieldIndexes(message.held, manifest.pieceCount);
          if (held.length > 0) hashHeld(held).catch(failFrom);
          break;
        }
        case 'ack':
          await applyAndReport({ type: 'ack', index: message.index }, message.index);
          break;
        case 'nack':
          apply({ type: 'nack', index: message.index, code: message.code });
          break;
        case 'verified':
          apply({ type: 'verified', root: message.root });
          break;
        case 'close':
          apply({ type: 'failure', code: message.code, detail: `the receiver closed the transfer: ${message.reason}`, fromPeer: true });
          break;
        default:
          apply({ type: 'failure', code: 'E_UNEXPECTED_MESSAGE', detail: `unexpected ${message.type} from the receiver`, fromPeer: false });
      }
    }
  };

  // A failed write usually means the receiver closed the connection, and its CLOSE with the
  // reason may be waiting to be read: the reader gets a moment to report it first.
  writer().catch((e) => setTimeout(() => outcome ?? failFrom(e), WRITE_FAILURE_GRACE_MS));
  reader().catch((e) => {
    if (!outcome) failFrom(e);
  });
  return finished;
}
