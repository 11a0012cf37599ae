// The sender's side of one transfer, sans I/O: which pieces to send next (a pipeline window,
// not stop-and-wait), retries after NACK, and the end-of-transfer exchange.
import { constantTimeEqual } from '../bytes.js';
import type { ErrorCode } from '../errors.js';
import { MAX_PIECE_RETRIES } from '../limits.js';
import type { Manifest } from './manifest.js';
import { PieceSet } from './piece-set.js';
import { PipelineWindow } from './pipeline-window.js';

export type SenderState =
  | { readonly phase: 'awaiting-accept'; readonly manifest: Manifest; readonly window: PipelineWindow }
  | {
      readonly phase: 'sending';
      readonly manifest: Manifest;
      readonly window: PipelineWindow;
      readonly pieces: PieceSet;
      readonly retries: Map<number, number>;
      /**
       * Pieces asked for (send-piece) and not yet handed to the channel (piece-sent): in flight
       * for the window's count, but no honest receiver can have seen them yet.
       */
      readonly queued: Set<number>;
      /** Held pieces not yet compared with our source (held-hashed): the receiver's hash of each. */
      readonly unhashed: Map<number, Uint8Array>;
      /** Held pieces the receiver has not yet read back and confirmed (ACK) or dropped (NACK). */
      readonly unconfirmed: Set<number>;
    }
  | { readonly phase: 'awaiting-verified'; readonly manifest: Manifest; readonly pieces: PieceSet; readonly root: Uint8Array | undefined }
  | { readonly phase: 'completed'; readonly manifest: Manifest; readonly pieces: PieceSet }
  | { readonly phase: 'failed'; readonly manifest: Manifest; readonly code: ErrorCode; readonly detail: string };

export type SenderEvent =
  | {
      readonly type: 'accepted';
      readonly pieceCount: number;
      readonly held: Uint8Array;
      /** The receiver's recorded hash of each held piece, in index order. */
      readonly heldHashes: readonly Uint8Array[];
    }
  /** A held piece read from our source and hashed, to compare with the receiver's. */
  | { readonly type: 'held-hashed'; readonly index: number; readonly ours: Uint8Array }
  /**
   * The piece is handed to the channel, just before its bytes are written; hash is the SHA-256
   * of its raw bytes. wire says how many bytes it takes on the wire and when it was handed over,
   * for the window to measure the path.
   */
  | {
      readonly type: 'piece-sent';
      readonly index: number;
      readonly hash: Uint8Array;
      readonly wire?: { readonly bytes: number; readonly at: number };
    }
  /** at: when it arrived, for the window (a piece sent with its wire time). */
  | { readonly type: 'ack'; readonly index: number; readonly at?: number }
  | { readonly type: 'nack'; readonly index: number; readonly code: ErrorCode }
  | { readonly type: 'complete-sent'; readonly root: Uint8Array }
  | { readonly type: 'verified'; readonly root: Uint8Array }
  | { readonly type: 'failure'; readonly code: ErrorCode; readonly detail: string; readonly fromPeer: boolean };

export type SenderEffect =
  | { readonly type: 'send-piece'; readonly index: number }
  /**
   * A piece is done: sent and acknowledged, or (held) held by the receiver and confirmed by both
   * sides' checks. hash is the SHA-256 of its raw bytes, a copy the caller may keep.
   */
  | { readonly type: 'piece-done'; readonly index: number; readonly hash: Uint8Array; readonly held: boolean }
  /** Every piece acknowledged: compute the root over piece hashes and send TRANSFER_COMPLETE. */
  | { readonly type: 'send-complete'; readonly pieceHashes: Uint8Array }
  | { readonly type: 'completed' }
  | { readonly type: 'abort'; readonly code: ErrorCode; readonly detail: string; readonly notifyPeer: boolean };

/** window: a fixed count of pieces in flight, or a window that adapts to the path. */
export function initialSenderState(manifest: Manifest, window: number | PipelineWindow): SenderState {
  return { phase: 'awaiting-accept', manifest, window: typeof window === 'number' ? PipelineWindow.fixed(window) : window };
}

export interface Step<S, E> {
  readonly state: S;
  readonly effects: readonly E[];
}

type Sending = Extract<SenderState, { phase: 'sending' }>;

/** Marks a piece done and says so (the piece-done effect). */
function done(state: Sending, index: number, held: boolean): SenderEffect[] {
  state.pieces.set(index, 'done');
  return [{ type: 'piece-done', index, hash: Uint8Array.from(state.pieces.hash(index)), held }];
}

function abort(state: SenderState, code: ErrorCode, detail: string, notifyPeer = true): Step<SenderState, SenderEffect> {
  return { state: { phase: 'failed', manifest: state.manifest, code, detail }, effects: [{ type: 'abort', code, detail, notifyPeer }] };
}

/**
 * Keeps up to window pieces in flight; when every piece is done (sent and acknowledged, or held
 * and confirmed by both sides) and every held piece has been compared with the source, asks to
 * finish.
 */
function fill(state: Sending, effects: SenderEffect[] = []): Step<SenderState, SenderEffect> {
  let next = state.pieces.nextMissing();
  while (next !== -1 && state.pieces.countIn('in-flight') < state.window.size) {
    state.pieces.set(next, 'in-flight');
    state.queued.add(next);
    effects.push({ type: 'send-piece', index: next });
    next = state.pieces.nextMissing(next + 1);
  }
  if (state.pieces.allDone && state.unhashed.size === 0) {
    return {
      state: { phase: 'awaiting-verified', manifest: state.manifest, pieces: state.pieces, root: undefined },
      effects: [...effects, { type: 'send-complete', pieceHashes: state.pieces.allHashes() }],
    };
  }
  return { state, effects };
}

export function senderStep(state: SenderState, event: SenderEvent): Step<SenderState, SenderEffect> {
  if (state.phase === 'failed' || state.phase === 'completed') return { state, effects: [] };
  switch (event.type) {
    case 'accepted': {
      if (state.phase !== 'awaiting-accept') return abort(state, 'E_UNEXPECTED_MESSAGE', 'a second ACCEPT');
      if (event.pieceCount !== state.manifest.pieceCount) {
        return abort(state, 'E_UNEXPECTED_MESSAGE', `ACCEPT for ${event.pieceCount} pieces, the manifest has ${state.manifest.pieceCount}`);
      }
      const heldIndexes = PieceSet.bitfieldIndexes(event.held, state.manifest.pieceCount);
      if (heldIndexes.length > 0 && !state.manifest.resume) {
        return abort(state, 'E_UNEXPECTED_MESSAGE', 'the receiver claims pieces of a transfer that is not a resume');
      }
      if (heldIndexes.length !== event.heldHashes.length) {
        return abort(
          state,
          'E_UNEXPECTED_MESSAGE',
          `ACCEPT lists ${heldIndexes.length} held pieces with ${event.heldHashes.length} hashes`,
        );
      }
      // docs/requirements.md#pieces: held pieces are checked, never assumed. Each stays held until we have compared
      // it with our source (held-hashed) and the receiver has read it back (ACK or NACK); the
      // missing pieces flow meanwhile.
      const pieces = new PieceSet(state.manifest.pieceCount);
      const unhashed = new Map<number, Uint8Array>();
      for (const [k, index] of heldIndexes.entries()) {
        pieces.set(index, 'held');
        unhashed.set(index, event.heldHashes[k]!);
      }
      return fill({
        phase: 'sending',
        manifest: state.manifest,
        window: state.window,
        pieces,
        retries: new Map(),
        queued: new Set(),
        unhashed,
        unconfirmed: new Set(heldIndexes),
      });
    }
    case 'held-hashed': {
      if (state.phase !== 'sending') return abort(state, 'E_INTERNAL', `held piece ${event.index} hashed in phase ${state.phase}`);
      const theirs = state.unhashed.get(event.index);
      if (!theirs) return abort(state, 'E_INTERNAL', `piece ${event.index} hashed, but it is not held or was hashed already`);
      if (!constantTimeEqual(theirs, event.ours)) {
        return abort(
          state,
          'E_SOURCE_CHANGED',
          `piece ${event.index} of the source differs from what the receiver holds: the file changed since the first attempt; send it again as a new transfer`,
        );
      }
      state.unhashed.delete(event.index);
      // A piece the receiver dropped meanwhile was sent again and carries the hash it was sent with.
      if (state.pieces.state(event.index) === 'held') {
        state.pieces.setHash(event.index, event.ours);
        if (!state.unconfirmed.has(event.index)) return fill(state, done(state, event.index, true));
      }
      return fill(state);
    }
    case 'piece-sent': {
      if (state.phase !== 'sending') return abort(state, 'E_INTERNAL', `piece ${event.index} sent in phase ${state.phase}`);
      if (!state.queued.delete(event.index)) return abort(state, 'E_INTERNAL', `piece ${event.index} sent without being asked for`);
      state.pieces.setHash(event.index, event.hash);
      if (event.wire) state.window.sent(event.index, event.wire.bytes, event.wire.at);
      return { state, effects: [] };
    }
    case 'ack':
    case 'nack': {
      if (state.phase === 'sending' && state.unconfirmed.delete(event.index)) {
        // The receiver read a held piece back: intact (ACK), or damaged and to be sent (NACK).
        if (event.type === 'nack') state.pieces.set(event.index, 'missing');
        else if (!state.unhashed.has(event.index)) return fill(state, done(state, event.index, true));
        return fill(state);
      }
      if (state.phase !== 'sending' || event.index >= state.manifest.pieceCount || state.pieces.state(event.index) !== 'in-flight') {
        return abort(state, 'E_UNEXPECTED_MESSAGE', `${event.type.toUpperCase()} for piece ${event.index} that is not in flight`);
      }
      // The piece is still in our queue: its bytes have not left, so the receiver cannot have checked them.
      if (state.queued.has(event.index)) {
        return abort(state, 'E_UNEXPECTED_MESSAGE', `${event.type.toUpperCase()} for piece ${event.index} before it was sent`);
      }
      if (event.type === 'ack') {
        if (event.at !== undefined) state.window.acked(event.index, event.at);
        return fill(state, done(state, event.index, false));
      }
      state.window.dropped(event.index);
      const tries = (state.retries.get(event.index) ?? 0) + 1;
      if (tries > MAX_PIECE_RETRIES) {
        return abort(
          state,
          'E_TOO_MANY_RETRIES',
          `piece ${event.index} refused ${tries} times (${event.code}): is the source file changing?`,
        );
      }
      state.retries.set(event.index, tries);
      state.pieces.set(event.index, 'missing');
      return fill(state);
    }
    case 'complete-sent': {
      if (state.phase !== 'awaiting-verified') return abort(state, 'E_INTERNAL', `TRANSFER_COMPLETE sent in phase ${state.phase}`);
      return { state: { ...state, root: event.root }, effects: [] };
    }
    case 'verified': {
      if (state.phase !== 'awaiting-verified' || !state.root)
        return abort(state, 'E_UNEXPECTED_MESSAGE', `VERIFIED in phase ${state.phase}`);
      if (!constantTimeEqual(state.root, event.root)) return abort(state, 'E_ROOT_MISMATCH', 'the receiver verified a different root');
      return { state: { phase: 'completed', manifest: state.manifest, pieces: state.pieces }, effects: [{ type: 'completed' }] };
    }
    case 'failure':
      return abort(state, event.code, event.detail, !event.fromPeer);
    default: {
      const exhaustive: never = event;
      return exhaustive;
    }
  }
}
