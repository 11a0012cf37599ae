// Per-piece state for one transfer, with room for resume: a piece is missing, in flight
// (sent or being written), held (a resume: the receiver recorded it in an earlier attempt and
// it is being checked again, PROTOCOL.md §6a) or done (acknowledged / written and checked).

export type PieceState = 'missing' | 'in-flight' | 'held' | 'done';
/** A piece's state is stored as its index here (missing is 0: a new set is all missing). */
const STATE: readonly PieceState[] = ['missing', 'in-flight', 'held', 'done'];
const CODE = Object.fromEntries(STATE.map((state, code) => [state, code])) as Record<PieceState, number>;
const HASH_LENGTH = 32;

/** The pieces of a machine state that has them; asking in a phase without pieces is a bug. */
export function piecesOf(state: { readonly phase: string; readonly pieces?: PieceSet }): PieceSet {
  if (!state.pieces) throw new Error(`no pieces in phase ${state.phase}`);
  return state.pieces;
}

export class PieceSet {
  private readonly states: Uint8Array;
  private readonly hashes: Uint8Array;
  private readonly counts = STATE.map(() => 0);

  constructor(readonly count: number) {
    this.states = new Uint8Array(count);
    this.hashes = new Uint8Array(count * HASH_LENGTH);
    this.counts[CODE.missing] = count;
  }

  state(index: number): PieceState {
    this.check(index);
    return STATE[this.states[index] as number] as PieceState;
  }

  set(index: number, state: PieceState): void {
    this.check(index);
    const old = this.states[index] as number;
    this.counts[old]!--;
    this.states[index] = CODE[state];
    this.counts[CODE[state]]!++;
  }

  countIn(state: PieceState): number {
    return this.counts[CODE[state]] as number;
  }

  get allDone(): boolean {
    return this.countIn('done') === this.count;
  }

  setHash(index: number, hash: Uint8Array): void {
    this.check(index);
    if (hash.length !== HASH_LENGTH) throw new RangeError('piece hash must be 32 bytes');
    this.hashes.set(hash, index * HASH_LENGTH);
  }

  hash(index: number): Uint8Array {
    this.check(index);
    return this.hashes.subarray(index * HASH_LENGTH, (index + 1) * HASH_LENGTH);
  }

  /** All hashes in piece order: the input of the transfer root. */
  allHashes(): Uint8Array {
    return this.hashes;
  }

  /** The first missing piece at or after from, or -1. */
  nextMissing(from = 0): number {
    for (let i = from; i < this.count; i++) if (this.states[i] === CODE.missing) return i;
    return -1;
  }

  /** Bitfield of the pieces in one state, most significant bit first (PROTOCOL.md ACCEPT). */
  bitfieldOf(state: PieceState): Uint8Array {
    const code = CODE[state];
    const bits = new Uint8Array(Math.ceil(this.count / 8));
    for (let i = 0; i < this.count; i++) if (this.states[i] === code) bits[i >> 3]! |= 0x80 >> (i & 7);
    return bits;
  }

  /** Indexes of the pieces in one state, in order. */
  indexesIn(state: PieceState): number[] {
    const code = CODE[state];
    const out: number[] = [];
    for (let i = 0; i < this.count; i++) if (this.states[i] === code) out.push(i);
    return out;
  }

  /** Hashes of the pieces in one state, in index order, as ACCEPT lists them. */
  hashesOf(state: PieceState): Uint8Array[] {
    return this.indexesIn(state).map((i) => this.hash(i));
  }

  /** Indexes set in a bitfield, in order. */
  static bitfieldIndexes(bits: Uint8Array, count: number): number[] {
    const out: number[] = [];
    for (let i = 0; i < count; i++) if (PieceSet.bitfieldHas(bits, i)) out.push(i);
    return out;
  }

  static bitfieldHas(bits: Uint8Array, index: number): boolean {
    return (((bits[index >> 3] ?? 0) >> (7 - (index & 7))) & 1) === 1;
  }

  private check(index: number): void {
    if (!Number.isInteger(index) || index < 0 || index >= this.count)
      throw new RangeError(`piece index ${index} outside 0..${this.count - 1}`);
  }
}
