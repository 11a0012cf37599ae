import { viewOf } from '../bytes.js';
import type { ErrorCode } from '../errors.js';
import { ByteQueue } from './byte-queue.js';
import { decodeMessage, maxBodyFor, MESSAGE_HEADER_LENGTH, type InboundMessage, type MessageLimits } from './messages.js';

export type MessageStreamResult =
  | { readonly kind: 'message'; readonly message: InboundMessage }
  | { readonly kind: 'need-more' }
  | { readonly kind: 'error'; readonly code: ErrorCode; readonly detail: string };

/** Turns the decrypted record stream into messages, refusing an oversized length from the header alone. */
export class MessageDecoder {
  private readonly queue = new ByteQueue();
  private failed: MessageStreamResult | undefined;
  /**
   * A large body being filled in its lent buffer as records arrive, so each decrypted record can
   * be dropped at once instead of waiting for the whole piece (records that outlive a young-
   * generation collection are promoted and their 64 KiB count toward a full one).
   */
  private filling: { readonly type: number; readonly body: Uint8Array; filled: number } | undefined;

  push(plaintext: Uint8Array): void {
    this.queue.push(plaintext);
  }

  /**
   * Where the next record's length bytes of plaintext may be written directly: the unfilled
   * part of a lent body, when nothing is queued ahead of it and the whole record belongs to that
   * body. Undefined otherwise (the record is then push()ed as usual). A caller that writes there
   * reports it with filledDirectly(length).
   */
  directSlot(length: number): Uint8Array | undefined {
    const f = this.filling;
    if (!f || this.failed || this.queue.length > 0 || length <= 0 || f.body.length - f.filled < length) return undefined;
    return f.body.subarray(f.filled, f.filled + length);
  }

  /** The length bytes of the slot directSlot(length) gave were written. */
  filledDirectly(length: number): void {
    const f = this.filling;
    if (!f || this.queue.length > 0 || f.body.length - f.filled < length) throw new Error('MessageDecoder: no direct slot of that length');
    f.filled += length;
  }

  get buffered(): number {
    return this.queue.length + (this.filling?.filled ?? 0);
  }

  /**
   * The next message, or need-more, or the protocol error that ends the stream. bodyBuffer may
   * lend a buffer for a large body (a piece), which the caller reuses once it is done with it.
   */
  next(limits: MessageLimits, bodyBuffer?: (length: number) => Uint8Array | undefined): MessageStreamResult {
    if (this.failed) return this.failed;
    if (this.filling) return this.fill(this.filling);
    if (this.queue.length < MESSAGE_HEADER_LENGTH) return { kind: 'need-more' };
    const header = this.queue.peek(MESSAGE_HEADER_LENGTH);
    const type = header[0] as number;
    const length = viewOf(header).getUint32(1);
    const max = maxBodyFor(type, limits);
    if (max === undefined) return this.fail('E_UNEXPECTED_MESSAGE', `unknown message type ${type}`);
    if (length > max) return this.fail('E_FRAME_TOO_LARGE', `message type ${type} declares ${length} bytes, limit ${max}`);
    if (this.queue.length < MESSAGE_HEADER_LENGTH + length) {
      const lent = bodyBuffer?.(length);
      if (!lent || lent.length < length) return { kind: 'need-more' };
      this.queue.take(MESSAGE_HEADER_LENGTH);
      this.filling = { type, body: lent.subarray(0, length), filled: 0 };
      return this.fill(this.filling);
    }
    this.queue.take(MESSAGE_HEADER_LENGTH);
    return this.decoded(type, this.queue.take(length, bodyBuffer?.(length)));
  }

  private fill(f: { readonly type: number; readonly body: Uint8Array; filled: number }): MessageStreamResult {
    const n = Math.min(this.queue.length, f.body.length - f.filled);
    this.queue.takeInto(n, f.body.subarray(f.filled));
    f.filled += n;
    if (f.filled < f.body.length) return { kind: 'need-more' };
    this.filling = undefined;
    return this.decoded(f.type, f.body);
  }

  private decoded(type: number, body: Uint8Array): MessageStreamResult {
    const decoded = decodeMessage(type, body);
    if (!decoded.ok) return this.fail(decoded.code, decoded.detail);
    return { kind: 'message', message: decoded.value };
  }

  private fail(code: ErrorCode, detail: string): MessageStreamResult {
    this.failed = { kind: 'error', code, detail };
    return this.failed;
  }
}
