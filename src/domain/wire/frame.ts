// The outer frame (PROTOCOL.md §2): type u8 | length u16 BE | body. The handshake messages and
// the encrypted records travel in frames; a frame is never larger than a Noise message.
import { AEAD_TAG_LENGTH, MAX_NOISE_MESSAGE } from '../limits.js';
import { ErrorCodes, errorCodeFromNumber, type ErrorCode } from '../errors.js';

export const FrameType = {
  HANDSHAKE_INIT: 1,
  HANDSHAKE_RESP: 2,
  /** Noise XX message 3: the client's static key and the MANIFEST as payload. */
  HANDSHAKE_FINAL: 3,
  /** A transport record: AES-256-GCM ciphertext of a slice of the message stream. */
  RECORD: 4,
  /** Unauthenticated refusal before the handshake completes (banned, busy): reason u16. */
  REFUSE: 5,
} as const;

export type FrameTypeValue = (typeof FrameType)[keyof typeof FrameType];

export const FRAME_HEADER_LENGTH = 3;

export interface Frame {
  readonly type: FrameTypeValue;
  readonly body: Uint8Array;
}

export type FrameDecodeResult =
  | { readonly kind: 'frame'; readonly frame: Frame; readonly consumed: number }
  | { readonly kind: 'need-more' }
  | { readonly kind: 'error'; readonly code: ErrorCode; readonly detail: string };

/** Smallest body each frame type can have: refusing shorter ones early keeps later code simple. */
const MIN_BODY: Record<FrameTypeValue, number> = {
  [FrameType.HANDSHAKE_INIT]: 32,
  [FrameType.HANDSHAKE_RESP]: 32,
  [FrameType.HANDSHAKE_FINAL]: 48,
  [FrameType.RECORD]: AEAD_TAG_LENGTH,
  [FrameType.REFUSE]: 2,
};

/** Writes a frame header at out[at]; lets a caller fill many frames into one buffer. */
export function writeFrameHeader(out: Uint8Array, at: number, type: FrameTypeValue, bodyLength: number): void {
  if (bodyLength > MAX_NOISE_MESSAGE) throw new RangeError(`frame body of ${bodyLength} bytes exceeds ${MAX_NOISE_MESSAGE}`);
  out[at] = type;
  out[at + 1] = bodyLength >>> 8;
  out[at + 2] = bodyLength & 0xff;
}

export function encodeFrame(type: FrameTypeValue, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(FRAME_HEADER_LENGTH + body.length);
  writeFrameHeader(out, 0, type, body.length);
  out.set(body, FRAME_HEADER_LENGTH);
  return out;
}

/** REFUSE frame: the reason code u16, sent in the clear before any cryptography. */
export function encodeRefuse(code: ErrorCode): Uint8Array {
  const n = ErrorCodes[code];
  return encodeFrame(FrameType.REFUSE, Uint8Array.of(n >>> 8, n & 0xff));
}

/** The reason of a REFUSE body (at least 2 bytes by MIN_BODY); an unknown number stays unnamed. */
export function decodeRefuse(body: Uint8Array): ErrorCode | undefined {
  return errorCodeFromNumber(((body[0] as number) << 8) | (body[1] as number));
}

export type FrameHeaderResult =
  | { readonly kind: 'header'; readonly type: FrameTypeValue; readonly length: number }
  | { readonly kind: 'need-more' }
  | { readonly kind: 'error'; readonly code: ErrorCode; readonly detail: string };

/** Judges a frame from its 3-byte header alone, before any body is buffered (docs/requirements.md#bounds). */
export function decodeFrameHeader(bytes: Uint8Array): FrameHeaderResult {
  if (bytes.length < 1) return { kind: 'need-more' };
  const type = bytes[0] as number;
  if (!(type in MIN_BODY)) return { kind: 'error', code: 'E_MALFORMED_FRAME', detail: `unknown frame type ${type}` };
  if (bytes.length < FRAME_HEADER_LENGTH) return { kind: 'need-more' };
  const length = ((bytes[1] as number) << 8) | (bytes[2] as number);
  const min = MIN_BODY[type as FrameTypeValue];
  if (length < min)
    return { kind: 'error', code: 'E_MALFORMED_FRAME', detail: `frame type ${type} with ${length}-byte body (minimum ${min})` };
  return { kind: 'header', type: type as FrameTypeValue, length };
}

/** Decodes one frame at the start of bytes. */
export function decodeFrame(bytes: Uint8Array): FrameDecodeResult {
  const header = decodeFrameHeader(bytes);
  if (header.kind !== 'header') return header;
  if (bytes.length < FRAME_HEADER_LENGTH + header.length) return { kind: 'need-more' };
  return {
    kind: 'frame',
    frame: { type: header.type, body: bytes.subarray(FRAME_HEADER_LENGTH, FRAME_HEADER_LENGTH + header.length) },
    consumed: FRAME_HEADER_LENGTH + header.length,
  };
}
