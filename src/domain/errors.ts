// The error model (ARCHITECTURE "Errors"): a peer's misbehaviour or an expected failure is a
// code carried as data; infrastructure failures throw SecureTransferError with a code and cause.
// Numeric values travel in CLOSE and NACK messages: they are part of the protocol, never reuse one.

export const ErrorCodes = {
  E_MALFORMED_FRAME: 1,
  E_FRAME_TOO_LARGE: 2,
  E_UNEXPECTED_MESSAGE: 3,
  E_HANDSHAKE_FAILED: 4,
  E_DECRYPT_FAILED: 5,
  E_MANIFEST_INVALID: 6,
  E_NAME_INVALID: 7,
  E_TRANSFER_TOO_LARGE: 8,
  E_INSUFFICIENT_SPACE: 9,
  E_FILE_EXISTS: 10,
  E_PIECE_INDEX: 11,
  E_PIECE_OFFSET: 12,
  E_PIECE_LENGTH: 13,
  E_PIECE_HASH: 14,
  E_PIECE_DUPLICATE: 15,
  E_DECOMPRESS: 16,
  E_ROOT_MISMATCH: 17,
  E_INCOMPLETE: 18,
  E_TIMEOUT: 19,
  E_BANNED: 20,
  E_BUSY: 21,
  E_INTERNAL: 22,
  E_PEER_CLOSED: 23,
  E_UNKNOWN_TRANSFER: 24,
  E_NONCE_EXHAUSTED: 25,
  E_TOO_MANY_RETRIES: 26,
  E_UNTRUSTED_KEY: 27,
  E_CONNECTION_LOST: 28,
  E_INTERRUPTED: 29,
  E_SOURCE_CHANGED: 30,
  E_IO: 31,
  E_CONFIG: 32,
  E_USAGE: 33,
  E_BAD_PASSWORD: 34,
  E_ALREADY_COMPLETE: 35,
  E_HELD_PIECE_DAMAGED: 36,
  /** The receiver cannot record transfers right now (its database cannot write): try later. */
  E_UNAVAILABLE: 37,
  /** The session moved too few bytes for too long after ACCEPT. */
  E_TOO_SLOW: 38,
  /** The transfer was incomplete for longer than the receiver keeps partial files. */
  E_EXPIRED: 39,
  /** A PROXY protocol header missing, malformed, or sent from an address not trusted to send one. */
  E_PROXY: 40,
  /** A folder with more entries than the receiver takes in one transfer. */
  E_TOO_MANY_FILES: 41,
} as const;

export type ErrorCode = keyof typeof ErrorCodes;

const byNumber = new Map<number, ErrorCode>((Object.entries(ErrorCodes) as [ErrorCode, number][]).map(([name, n]) => [n, name]));

/** Maps a wire number back to its code; an unknown number from a peer is E_MALFORMED_FRAME's business, not a crash. */
export function errorCodeFromNumber(n: number): ErrorCode | undefined {
  return byNumber.get(n);
}

/** An expected failure described as data. */
export interface Failure {
  readonly ok: false;
  readonly code: ErrorCode;
  readonly detail: string;
}

export type Result<T> = { readonly ok: true; readonly value: T } | Failure;

export function fail(code: ErrorCode, detail: string): Failure {
  return { ok: false, code, detail };
}

export function ok<T>(value: T): { readonly ok: true; readonly value: T } {
  return { ok: true, value };
}

/** Thrown for failures that end an operation: I/O, configuration, a protocol violation surfaced by a use case. */
export class SecureTransferError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SecureTransferError';
    this.code = code;
  }
}

export function errorFromFailure(f: Failure): SecureTransferError {
  return new SecureTransferError(f.code, f.detail);
}

/** A thrown value as a Failure: its code when it is ours, else the fallback (an unexpected error). */
export function failureOf(e: unknown, fallback: ErrorCode = 'E_INTERNAL'): Failure {
  return fail(e instanceof SecureTransferError ? e.code : fallback, e instanceof Error ? e.message : String(e));
}
