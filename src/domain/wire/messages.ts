// Inner messages (PROTOCOL.md §4): the decrypted record stream is a sequence of
// type u8 | length u32 BE | body. A message may span records; its length is judged from
// the header against the limit for its type before any body is buffered.
import { readU64, viewOf, writeU64, decodeUtf8, utf8 } from '../bytes.js';
import { escapeText } from '../escape-text.js';
import { errorCodeFromNumber, ErrorCodes, fail, ok, type ErrorCode, type Result } from '../errors.js';

export const MessageType = {
  /** Receiver: manifest accepted; carries a bitfield of the pieces it already holds and their hashes. */
  ACCEPT: 0x10,
  PIECE: 0x11,
  ACK: 0x12,
  NACK: 0x13,
  /** Sender: every piece sent; carries the root over the piece hashes. */
  TRANSFER_COMPLETE: 0x14,
  /** Receiver: the whole file checked and moved to its final name. */
  VERIFIED: 0x15,
  /** Either side: the session ends with a reason code. */
  CLOSE: 0x16,
  /** Sender, right after the handshake: the part of a folder's entry list the manifest had no room for. */
  ENTRIES: 0x17,
} as const;

export type MessageTypeValue = (typeof MessageType)[keyof typeof MessageType];
export const MESSAGE_HEADER_LENGTH = 5;
export const PIECE_HEADER_LENGTH = 4 + 8 + 4 + 1 + 32;
export const MAX_CLOSE_REASON_BYTES = 1024;
/** The most list bytes one ENTRIES message carries. */
export const MAX_ENTRIES_CHUNK = 64 * 1024;

export const PieceEncoding = { RAW: 0, ZSTD: 1 } as const;
export type PieceEncodingValue = (typeof PieceEncoding)[keyof typeof PieceEncoding];

export interface PieceHeader {
  readonly index: number;
  readonly offset: number;
  readonly rawLength: number;
  readonly encoding: PieceEncodingValue;
  readonly hash: Uint8Array;
}

export interface PieceMessage extends PieceHeader {
  readonly data: Uint8Array;
}

export type InboundMessage =
  | {
      readonly type: 'accept';
      readonly pieceCount: number;
      readonly held: Uint8Array;
      /** SHA-256 of each held piece, in index order: the sender checks them against its file. */
      readonly heldHashes: readonly Uint8Array[];
    }
  | { readonly type: 'piece'; readonly piece: PieceMessage }
  | { readonly type: 'ack'; readonly index: number }
  | { readonly type: 'nack'; readonly index: number; readonly code: ErrorCode }
  | { readonly type: 'transfer-complete'; readonly root: Uint8Array }
  | { readonly type: 'verified'; readonly root: Uint8Array }
  | { readonly type: 'close'; readonly code: ErrorCode; readonly reason: string }
  | { readonly type: 'entries'; readonly bytes: Uint8Array };

function message(type: MessageTypeValue, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(MESSAGE_HEADER_LENGTH + body.length);
  const view = viewOf(out);
  out[0] = type;
  view.setUint32(1, body.length);
  out.set(body, MESSAGE_HEADER_LENGTH);
  return out;
}

/** The number of set bits among the first count bits of a bitfield (MSB first). */
function heldCount(bits: Uint8Array, count: number): number {
  let n = 0;
  for (let i = 0; i < count; i++) n += (bits[i >> 3]! >> (7 - (i & 7))) & 1;
  return n;
}

export function encodeAccept(pieceCount: number, held: Uint8Array, heldHashes: readonly Uint8Array[]): Uint8Array {
  if (heldHashes.length !== heldCount(held, pieceCount)) throw new RangeError('ACCEPT: one hash per held piece');
  const body = new Uint8Array(4 + held.length + 32 * heldHashes.length);
  viewOf(body).setUint32(0, pieceCount);
  body.set(held, 4);
  heldHashes.forEach((h, i) => body.set(h, 4 + held.length + 32 * i));
  return message(MessageType.ACCEPT, body);
}

/** The largest ACCEPT for a piece count: every piece held. */
export function maxAcceptBodyFor(pieceCount: number): number {
  return 4 + Math.ceil(pieceCount / 8) + 32 * pieceCount;
}

/** The piece message header alone, so the data can follow without being copied into it. */
export function encodePieceHeader(header: PieceHeader, dataLength: number): Uint8Array {
  const out = new Uint8Array(MESSAGE_HEADER_LENGTH + PIECE_HEADER_LENGTH);
  const view = viewOf(out);
  out[0] = MessageType.PIECE;
  view.setUint32(1, PIECE_HEADER_LENGTH + dataLength);
  view.setUint32(5, header.index);
  writeU64(view, 9, header.offset);
  view.setUint32(17, header.rawLength);
  out[21] = header.encoding;
  out.set(header.hash, 22);
  return out;
}

export function encodeAck(index: number): Uint8Array {
  const body = new Uint8Array(4);
  viewOf(body).setUint32(0, index);
  return message(MessageType.ACK, body);
}

export function encodeNack(index: number, code: ErrorCode): Uint8Array {
  const body = new Uint8Array(6);
  viewOf(body).setUint32(0, index);
  viewOf(body).setUint16(4, ErrorCodes[code]);
  return message(MessageType.NACK, body);
}

export function encodeTransferComplete(root: Uint8Array): Uint8Array {
  return message(MessageType.TRANSFER_COMPLETE, root);
}

export function encodeVerified(root: Uint8Array): Uint8Array {
  return message(MessageType.VERIFIED, root);
}

export function encodeEntries(chunk: Uint8Array): Uint8Array {
  return message(MessageType.ENTRIES, chunk);
}

export function encodeClose(code: ErrorCode, reason: string): Uint8Array {
  let text = utf8(reason);
  if (text.length > MAX_CLOSE_REASON_BYTES) text = utf8(reason.slice(0, MAX_CLOSE_REASON_BYTES / 4));
  const body = new Uint8Array(2 + text.length);
  viewOf(body).setUint16(0, ErrorCodes[code]);
  body.set(text, 2);
  return message(MessageType.CLOSE, body);
}

/** Largest body each message type may declare, given what the session knows. */
export interface MessageLimits {
  /** PIECE_HEADER_LENGTH + the manifest's piece size (0 before a manifest: no piece is expected). */
  readonly maxPieceBody: number;
  /** maxAcceptBodyFor(the manifest's piece count); 0 where no ACCEPT is expected. */
  readonly maxAcceptBody: number;
  /** The list bytes still to come while a folder's entry list arrives; 0 otherwise. */
  readonly maxEntriesBody?: number;
}

export function maxBodyFor(type: number, limits: MessageLimits): number | undefined {
  switch (type) {
    case MessageType.ACCEPT:
      return limits.maxAcceptBody;
    case MessageType.PIECE:
      return limits.maxPieceBody;
    case MessageType.ACK:
      return 4;
    case MessageType.NACK:
      return 6;
    case MessageType.TRANSFER_COMPLETE:
    case MessageType.VERIFIED:
      return 32;
    case MessageType.CLOSE:
      return 2 + MAX_CLOSE_REASON_BYTES;
    case MessageType.ENTRIES:
      return Math.min(limits.maxEntriesBody ?? 0, MAX_ENTRIES_CHUNK);
    default:
      return undefined;
  }
}

const exact = (body: Uint8Array, n: number, what: string): Result<void> =>
  body.length === n ? ok(undefined) : fail('E_MALFORMED_FRAME', `${what} body is ${body.length} bytes, expected ${n}`);

/** Parses one message body whose length already passed maxBodyFor. */
export function decodeMessage(type: number, body: Uint8Array): Result<InboundMessage> {
  const view = viewOf(body);
  switch (type) {
    case MessageType.ACCEPT: {
      if (body.length < 4) return fail('E_MALFORMED_FRAME', 'ACCEPT body too short');
      const pieceCount = view.getUint32(0);
      const bitsLength = Math.ceil(pieceCount / 8);
      if (body.length < 4 + bitsLength) return fail('E_MALFORMED_FRAME', 'ACCEPT bitfield shorter than its piece count');
      const held = body.subarray(4, 4 + bitsLength);
      if (pieceCount % 8 !== 0 && (held[bitsLength - 1]! & (0xff >> (pieceCount % 8))) !== 0) {
        return fail('E_MALFORMED_FRAME', 'ACCEPT bitfield sets bits past its piece count');
      }
      const count = heldCount(held, pieceCount);
      if (body.length !== 4 + bitsLength + 32 * count)
        return fail('E_MALFORMED_FRAME', `ACCEPT carries ${body.length - 4 - bitsLength} hash bytes for ${count} held pieces`);
      const heldHashes = Array.from({ length: count }, (_, i) => body.subarray(4 + bitsLength + 32 * i, 4 + bitsLength + 32 * (i + 1)));
      return ok({ type: 'accept', pieceCount, held, heldHashes });
    }
    case MessageType.PIECE: {
      if (body.length < PIECE_HEADER_LENGTH) return fail('E_MALFORMED_FRAME', 'PIECE body shorter than its header');
      const offset = readU64(view, 4);
      if (offset === undefined) return fail('E_PIECE_OFFSET', 'PIECE offset beyond 2^53');
      const encoding = body[16] as number;
      if (encoding !== PieceEncoding.RAW && encoding !== PieceEncoding.ZSTD)
        return fail('E_MALFORMED_FRAME', `PIECE encoding ${encoding} unknown`);
      return ok({
        type: 'piece',
        piece: {
          index: view.getUint32(0),
          offset,
          rawLength: view.getUint32(12),
          encoding,
          hash: body.subarray(17, 49),
          data: body.subarray(PIECE_HEADER_LENGTH),
        },
      });
    }
    case MessageType.ACK: {
      const r = exact(body, 4, 'ACK');
      return r.ok ? ok({ type: 'ack', index: view.getUint32(0) }) : r;
    }
    case MessageType.NACK: {
      const r = exact(body, 6, 'NACK');
      if (!r.ok) return r;
      const code = errorCodeFromNumber(view.getUint16(4));
      if (!code) return fail('E_MALFORMED_FRAME', 'NACK with an unknown reason code');
      return ok({ type: 'nack', index: view.getUint32(0), code });
    }
    case MessageType.TRANSFER_COMPLETE:
    case MessageType.VERIFIED: {
      const r = exact(body, 32, 'root');
      if (!r.ok) return r;
      return ok({ type: type === MessageType.VERIFIED ? 'verified' : 'transfer-complete', root: Uint8Array.from(body) });
    }
    case MessageType.CLOSE: {
      if (body.length < 2) return fail('E_MALFORMED_FRAME', 'CLOSE body too short');
      const code = errorCodeFromNumber(view.getUint16(0)) ?? 'E_INTERNAL';
      // The reason is the peer's text: escaped here, once, before it can reach a log or terminal.
      const reason = escapeText(decodeUtf8(body.subarray(2)) ?? '(reason was not valid UTF-8)');
      return ok({ type: 'close', code, reason });
    }
    case MessageType.ENTRIES:
      if (body.length === 0) return fail('E_MALFORMED_FRAME', 'ENTRIES with no bytes');
      return ok({ type: 'entries', bytes: body });
    default:
      return fail('E_UNEXPECTED_MESSAGE', `unknown message type ${type}`);
  }
}
