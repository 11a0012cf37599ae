// The receiver's side of one transfer, sans I/O: the session reads a message, asks this object
// whether it is acceptable, does the I/O it implies, and reports what it did. Every decision about
// what the sender may send (index, offset, length, encoding, hashes, the retry bound, the
// whole-file root) lives here; how bytes are read, decoded and written lives in the session.
// PROTOCOL.md §6 and §6a say the same in terms of the wire.
import { constantTimeEqual } from '../bytes.js';
import { fail, ok, type Result } from '../errors.js';
import { MAX_PIECE_RETRIES } from '../limits.js';
import { PieceEncoding, type PieceHeader } from '../wire/messages.js';
import { pieceRange, type Manifest } from './manifest.js';
import { PieceSet } from './piece-set.js';

export interface HeldPiece {
  readonly index: number;
  /** The hash an earlier attempt recorded. */
  readonly hash: Uint8Array;
}

/** Where a piece that passed its header check goes, and how to decode it. */
export interface PieceSlot {
  readonly index: number;
  readonly offset: number;
  /** Its exact length once decoded; a compressed body may not decode to more. */
  readonly length: number;
  readonly compressed: boolean;
}

export class ReceivingTransfer {
  private readonly nacks = new Map<number, number>();

  private constructor(
    readonly manifest: Manifest,
    readonly pieces: PieceSet,
  ) {}

  /**
   * A manifest the receiver has admitted, with the pieces earlier attempts recorded (a resume).
   * Refuses a final name that is taken, and held pieces that a new transfer cannot have.
   */
  static open(
    manifest: Manifest,
    context: { readonly nameTaken: boolean; readonly held: readonly HeldPiece[] },
  ): Result<ReceivingTransfer> {
    if (context.nameTaken) return fail('E_FILE_EXISTS', `a file named "${manifest.fileName}" already exists in the output folder`);
    if (context.held.length > 0 && !manifest.resume) return fail('E_INTERNAL', 'held pieces offered for a transfer that is not a resume');
    const pieces = new PieceSet(manifest.pieceCount);
    for (const p of context.held) {
      if (p.index >= manifest.pieceCount || pieces.state(p.index) === 'held')
        return fail('E_INTERNAL', `held piece ${p.index} is out of range or listed twice`);
      pieces.set(p.index, 'held');
      pieces.setHash(p.index, p.hash);
    }
    return ok(new ReceivingTransfer(manifest, pieces));
  }

  /** What ACCEPT tells the sender: the held pieces, as a bitfield, and their recorded hashes. */
  accepted(): { readonly held: Uint8Array; readonly heldHashes: readonly Uint8Array[] } {
    return { held: this.pieces.bitfieldOf('held'), heldHashes: this.pieces.hashesOf('held') };
  }

  /**
   * A PIECE's header and body length against the manifest: in range, not held, not received
   * already, at its offset, with its length; a compressed body must be shorter than the piece
   * (PROTOCOL.md §6). A piece that passes is in flight until judged.
   */
  checkPiece(header: PieceHeader, bodyLength: number): Result<PieceSlot> {
    const m = this.manifest;
    const i = header.index;
    if (i >= m.pieceCount) return fail('E_PIECE_INDEX', `piece index ${i} outside 0..${m.pieceCount - 1}`);
    const state = this.pieces.state(i);
    if (state === 'held') return fail('E_PIECE_DUPLICATE', `piece ${i} sent, but ACCEPT listed it as held`);
    if (state !== 'missing') return fail('E_PIECE_DUPLICATE', `piece ${i} received twice`);
    const range = pieceRange(m, i);
    if (header.offset !== range.offset) return fail('E_PIECE_OFFSET', `piece ${i} at offset ${header.offset}, expected ${range.offset}`);
    if (header.rawLength !== range.length)
      return fail('E_PIECE_LENGTH', `piece ${i} declares ${header.rawLength} bytes, expected ${range.length}`);
    const compressed = header.encoding === PieceEncoding.ZSTD;
    if (compressed && m.compression === 'none') return fail('E_MANIFEST_INVALID', 'compressed piece in a transfer declared uncompressed');
    if (compressed ? bodyLength >= range.length : bodyLength !== range.length)
      return fail('E_PIECE_LENGTH', `piece ${i} carries ${bodyLength} bytes for ${range.length}`);
    this.pieces.set(i, 'in-flight');
    return ok({ index: i, offset: range.offset, length: range.length, compressed });
  }

  /**
   * The decoded piece's length and hash against what its header declared. 'write' when they
   * match; 'nack' when the hash does not (the record layer authenticated the bytes, so the sender
   * hashed something else than it sent: its file changed under it), at most MAX_PIECE_RETRIES
   * times per piece, after which the transfer fails rather than NACKing for ever.
   */
  judgePiece(slot: PieceSlot, decodedLength: number, computedHash: Uint8Array, declaredHash: Uint8Array): Result<'write' | 'nack'> {
    const i = slot.index;
    if (this.pieces.state(i) !== 'in-flight') return fail('E_INTERNAL', `piece ${i} was judged without being checked`);
    if (decodedLength !== slot.length)
      return fail('E_PIECE_LENGTH', `piece ${i} decoded to ${decodedLength} bytes, expected ${slot.length}`);
    if (!constantTimeEqual(computedHash, declaredHash)) {
      const nacks = (this.nacks.get(i) ?? 0) + 1;
      if (nacks > MAX_PIECE_RETRIES) return fail('E_TOO_MANY_RETRIES', `piece ${i} failed its hash check ${nacks} times`);
      this.nacks.set(i, nacks);
      this.pieces.set(i, 'missing');
      return ok('nack');
    }
    this.pieces.setHash(i, computedHash);
    return ok('write');
  }

  /** A judged piece reached the partial file: it is done, and ACKed. */
  written(slot: PieceSlot): void {
    this.pieces.set(slot.index, 'done');
  }

  /**
   * A held piece read back from the partial file (PROTOCOL.md §6a: held pieces are checked, never
   * assumed): 'confirm' (ACK it) when its bytes still hash to the record, else 'resend' (NACK it:
   * it comes again like any missing piece).
   */
  heldChecked(index: number, intact: boolean): Result<'confirm' | 'resend'> {
    if (index >= this.manifest.pieceCount || this.pieces.state(index) !== 'held')
      return fail('E_INTERNAL', `held piece ${index} checked twice or not held`);
    this.pieces.set(index, intact ? 'done' : 'missing');
    return ok(intact ? 'confirm' : 'resend');
  }

  /** TRANSFER_COMPLETE: every piece done, and the sender's root equal to the one computed here. */
  complete(declaredRoot: Uint8Array, computedRoot: Uint8Array): Result<void> {
    if (!this.pieces.allDone)
      return fail('E_INCOMPLETE', `TRANSFER_COMPLETE with ${this.pieces.countIn('done')} of ${this.pieces.count} pieces`);
    if (!constantTimeEqual(declaredRoot, computedRoot))
      return fail('E_ROOT_MISMATCH', 'the transfer root does not match the pieces received');
    return ok(undefined);
  }

  /** Bytes of the pieces neither held nor done: what the disk still has to take. */
  missingBytes(): number {
    let missing = 0;
    for (let i = 0; i < this.manifest.pieceCount; i++) {
      const state = this.pieces.state(i);
      if (state !== 'done' && state !== 'held') missing += pieceRange(this.manifest, i).length;
    }
    return missing;
  }
}
