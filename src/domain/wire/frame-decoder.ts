import { ByteQueue } from './byte-queue.js';
import { decodeFrameHeader, FRAME_HEADER_LENGTH, type Frame } from './frame.js';
import type { ErrorCode } from '../errors.js';

export type FrameStreamResult =
  | { readonly kind: 'frame'; readonly frame: Frame }
  | { readonly kind: 'need-more' }
  | { readonly kind: 'error'; readonly code: ErrorCode; readonly detail: string };

/**
 * Turns a byte stream into frames. Never holds more than one frame plus one read chunk:
 * the caller reads from the socket only when next() says need-more.
 */
export class FrameDecoder {
  private readonly queue = new ByteQueue();
  private failed: FrameStreamResult | undefined;

  push(chunk: Uint8Array): void {
    this.queue.push(chunk);
  }

  get buffered(): number {
    return this.queue.length;
  }

  /**
   * The next frame. A frame that spans read chunks is copied together, into scratch when given
   * (its body is then a view of scratch, valid until scratch is reused) or else a new buffer.
   */
  next(scratch?: Uint8Array): FrameStreamResult {
    if (this.failed) return this.failed;
    const header = decodeFrameHeader(this.queue.peek(FRAME_HEADER_LENGTH));
    if (header.kind === 'error') {
      this.failed = header;
      return header;
    }
    if (header.kind === 'need-more' || this.queue.length < FRAME_HEADER_LENGTH + header.length) return { kind: 'need-more' };
    const bytes = this.queue.take(FRAME_HEADER_LENGTH + header.length, scratch);
    return { kind: 'frame', frame: { type: header.type, body: bytes.subarray(FRAME_HEADER_LENGTH) } };
  }
}
