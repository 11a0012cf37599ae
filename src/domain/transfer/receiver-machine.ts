// The receiver's side of one transfer, sans I/O (ARCHITECTURE "state machine"): the session
// feeds events, step() decides, and the returned effects say what I/O to do next.
import { constantTimeEqual } from '../bytes.js';
import type { ErrorCode } from '../errors.js';
import { MAX_PIECE_RETRIES } from '../limits.js';
import { PieceEncoding, type PieceHeader } from '../wire/messages.js';
import { pieceRange, type Manifest } from './manifest.js';
import { PieceSet } from './piece-set.js';

export type ReceiverState =
  | { readonly phase: 'awaiting-manifest' }
  | {
      readonly phase: 'receiving';
      readonly manifest: Manifest;
      readonly pieces: PieceSet;
      /** NACKs sent per piece index: the retry bound holds on this side too. */
      readonly nacks: Map<number, number>;
    }
  | { readonly phase: 'finalizing'; readonly manifest: Manifest; readonly pieces: PieceSet; readonly root: Uint8Array }
  | { readonly phase: 'completed'; readonly manifest: Manifest; readonly pieces: PieceSet }
  | { readonly phase: 'failed'; readonly code: ErrorCode; readonly detail: string; readonly manifest?: Manifest };

export type ReceiverEvent =
  | {
      readonly type: 'manifest';
      readonly manifest: Manifest;
      /** Whether the final name is already taken in the output folder. */
      readonly nameTaken: boolean;
      /**
       * On a resume: the pieces earlier attempts recorded, with their recorded hashes. They are
       * listed in ACCEPT at once and read back while the rest arrives (held-checked).
       */
      readonly held: readonly HeldPiece[];
    }
  /** A held piece read back from the partial file: whether its bytes still hash to the record. */
  | { readonly type: 'held-checked'; readonly index: number; readonly intact: boolean }
  | { readonly type: 'piece'; readonly header: PieceHeader; readonly dataLength: number }
  | { readonly type: 'piece-decoded'; readonly index: number; readonly length: number; readonly computedHash: Uint8Array; readonly declaredHash: Uint8Array }
  | { readonly type: 'piece-stored'; readonly index: number }
  | { readonly type: 'transfer-complete'; readonly declaredRoot: Uint8Array; readonly computedRoot: Uint8Array }
  | { readonly type: 'finalized' }
  /** The connection, the record layer or the peer ended the session. */
  | { readonly type: 'failure'; readonly code: ErrorCode; readonly detail: string; readonly fromPeer: boolean };

export interface HeldPiece {
  readonly index: number;
  readonly hash: Uint8Array;
}

export type ReceiverEffect =
  | { readonly type: 'accept'; readonly held: Uint8Array; readonly heldHashes: readonly Uint8Array[] }
  /** Decompress (at most rawLength bytes) and hash the piece's data. */
  | { readonly type: 'decode-piece'; readonly index: number; readonly maxLength: number; readonly compressed: boolean }
  /** Write at offset, make it durable, record it; then report piece-stored. */
  | { readonly type: 'store-piece'; readonly index: number; readonly offset: number }
  | { readonly type: 'ack'; readonly index: number }
  /** A held piece proved intact: ACK it (it is already recorded). */
  | { readonly type: 'confirm-held'; readonly index: number }
  /** A held piece no longer matches its record: NACK it, so the sender sends it again. */
  | { readonly type: 'held-damaged'; readonly index: number }
  | { readonly type: 'nack'; readonly index: number; readonly code: ErrorCode }
  /** Move the partial file to its final name (no overwrite); then report finalized. */
  | { readonly type: 'finalize' }
  | { readonly type: 'send-verified'; readonly root: Uint8Array }
  /** End the session: tell the peer (unless it told us) and record the failure. */
  | { readonly type: 'abort'; readonly code: ErrorCode; readonly detail: string; readonly notifyPeer: boolean };

export interface Step<S, E> {
  readonly state: S;
  readonly effects: readonly E[];
}

export const initialReceiverState: ReceiverState = { phase: 'awaiting-manifest' };

function abort(state: ReceiverState, code: ErrorCode, detail: string, notifyPeer = true): Step<ReceiverState, ReceiverEffect> {
  const manifest = 'manifest' in state ? state.manifest : undefined;
  return {
    state: manifest ? { phase: 'failed', code, detail, manifest } : { phase: 'failed', code, detail },
    effects: [{ type: 'abort', code, detail, notifyPeer }],
  };
}

export function receiverStep(state: ReceiverState, event: ReceiverEvent): Step<ReceiverState, ReceiverEffect> {
  if (state.phase === 'failed' || state.phase === 'completed') return { state, effects: [] };
  switch (event.type) {
    case 'manifest': {
      if (state.phase !== 'awaiting-manifest') return abort(state, 'E_UNEXPECTED_MESSAGE', 'a second manifest');
      const m = event.manifest;
      if (event.nameTaken) return abort(state, 'E_FILE_EXISTS', `a file named "${m.fileName}" already exists in the output folder`);
      if (event.held.length > 0 && !m.resume) return abort(state, 'E_INTERNAL', 'held pieces offered for a transfer that is not a resume');
      // Room on the disk was reserved before this event (capacity.ts), against the bytes still to come.
      const pieces = new PieceSet(m.pieceCount);
      for (const p of event.held) {
        if (p.index >= m.pieceCount || pieces.state(p.index) === 'held') return abort(state, 'E_INTERNAL', `held piece ${p.index} is out of range or listed twice`);
        pieces.set(p.index, 'held');
        pieces.setHash(p.index, p.hash);
      }
      return {
        state: { phase: 'receiving', manifest: m, pieces, nacks: new Map() },
        effects: [{ type: 'accept', held: pieces.bitfieldOf('held'), heldHashes: pieces.hashesOf('held') }],
      };
    }
    case 'piece': {
      if (state.phase !== 'receiving') return abort(state, 'E_UNEXPECTED_MESSAGE', `PIECE in phase ${state.phase}`);
      const { manifest, pieces } = state;
      const h = event.header;
      if (h.index >= manifest.pieceCount) return abort(state, 'E_PIECE_INDEX', `piece index ${h.index} outside 0..${manifest.pieceCount - 1}`);
      if (pieces.state(h.index) === 'held') return abort(state, 'E_PIECE_DUPLICATE', `piece ${h.index} sent, but ACCEPT listed it as held`);
      if (pieces.state(h.index) !== 'missing') return abort(state, 'E_PIECE_DUPLICATE', `piece ${h.index} received twice`);
      const range = pieceRange(manifest, h.index);
      if (h.offset !== range.offset) return abort(state, 'E_PIECE_OFFSET', `piece ${h.index} at offset ${h.offset}, expected ${range.offset}`);
      if (h.rawLength !== range.length) return abort(state, 'E_PIECE_LENGTH', `piece ${h.index} declares ${h.rawLength} bytes, expected ${range.length}`);
      const compressed = h.encoding === PieceEncoding.ZSTD;
      if (compressed && manifest.compression === 'none') return abort(state, 'E_MANIFEST_INVALID', 'compressed piece in a transfer declared uncompressed');
      // A compressed piece is only sent when it shrinks (docs/requirements.md#compression); raw data must be exact.
      if (compressed ? event.dataLength >= range.length : event.dataLength !== range.length) {
        return abort(state, 'E_PIECE_LENGTH', `piece ${h.index} carries ${event.dataLength} bytes for ${range.length}`);
      }
      pieces.set(h.index, 'in-flight');
      return { state, effects: [{ type: 'decode-piece', index: h.index, maxLength: range.length, compressed }] };
    }
    case 'piece-decoded': {
      if (state.phase !== 'receiving' || state.pieces.state(event.index) !== 'in-flight') {
        return abort(state, 'E_INTERNAL', `decoded piece ${event.index} was not expected`);
      }
      const expected = pieceRange(state.manifest, event.index).length;
      if (event.length !== expected) return abort(state, 'E_PIECE_LENGTH', `piece ${event.index} decoded to ${event.length} bytes, expected ${expected}`);
      if (!constantTimeEqual(event.computedHash, event.declaredHash)) {
        // The record layer authenticated the bytes, so the sender hashed something else than it
        // sent (its file changed under it): ask again, at most MAX_PIECE_RETRIES times. A sender
        // that ignores its own bound is cut off here rather than NACKed for ever.
        const nacks = (state.nacks.get(event.index) ?? 0) + 1;
        if (nacks > MAX_PIECE_RETRIES) {
          return abort(state, 'E_TOO_MANY_RETRIES', `piece ${event.index} failed its hash check ${nacks} times`);
        }
        state.nacks.set(event.index, nacks);
        state.pieces.set(event.index, 'missing');
        return { state, effects: [{ type: 'nack', index: event.index, code: 'E_PIECE_HASH' }] };
      }
      state.pieces.setHash(event.index, event.computedHash);
      return { state, effects: [{ type: 'store-piece', index: event.index, offset: pieceRange(state.manifest, event.index).offset }] };
    }
    case 'held-checked': {
      if (state.phase !== 'receiving' || state.pieces.state(event.index) !== 'held') {
        return abort(state, 'E_INTERNAL', `held piece ${event.index} checked twice or not held`);
      }
      if (event.intact) {
        state.pieces.set(event.index, 'done');
        return { state, effects: [{ type: 'confirm-held', index: event.index }] };
      }
      // docs/requirements.md#pieces: held pieces are checked, never assumed. This one comes again like any missing piece.
      state.pieces.set(event.index, 'missing');
      return { state, effects: [{ type: 'held-damaged', index: event.index }] };
    }
    case 'piece-stored': {
      if (state.phase !== 'receiving') return abort(state, 'E_INTERNAL', `stored piece ${event.index} in phase ${state.phase}`);
      state.pieces.set(event.index, 'done');
      return { state, effects: [{ type: 'ack', index: event.index }] };
    }
    case 'transfer-complete': {
      if (state.phase !== 'receiving') return abort(state, 'E_UNEXPECTED_MESSAGE', `TRANSFER_COMPLETE in phase ${state.phase}`);
      if (!state.pieces.allDone) {
        return abort(state, 'E_INCOMPLETE', `TRANSFER_COMPLETE with ${state.pieces.countIn('done')} of ${state.pieces.count} pieces`);
      }
      if (!constantTimeEqual(event.declaredRoot, event.computedRoot)) return abort(state, 'E_ROOT_MISMATCH', 'the transfer root does not match the pieces received');
      return {
        state: { phase: 'finalizing', manifest: state.manifest, pieces: state.pieces, root: event.computedRoot },
        effects: [{ type: 'finalize' }],
      };
    }
    case 'finalized': {
      if (state.phase !== 'finalizing') return abort(state, 'E_INTERNAL', `finalized in phase ${state.phase}`);
      return {
        state: { phase: 'completed', manifest: state.manifest, pieces: state.pieces },
        effects: [{ type: 'send-verified', root: state.root }],
      };
    }
    case 'failure':
      return abort(state, event.code, event.detail, !event.fromPeer);
    default: {
      const exhaustive: never = event;
      return exhaustive;
    }
  }
}
