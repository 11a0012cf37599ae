// The body of WorkerPieceCompressor's thread: zstd-napi compressing pieces it is handed. The
// input and output memory arrive transferred (no copy) and go back the same way.
import { parentPort } from 'node:worker_threads';
import { SecureTransferError } from '../../domain/errors.js';
import { ZstdNapiCodec } from './zstd-napi-codec.js';

export interface CompressRequest {
  readonly id: number;
  readonly data: ArrayBuffer;
  readonly length: number;
  readonly into: ArrayBuffer;
  readonly level: number;
}

export type CompressReply =
  | {
      readonly id: number;
      readonly data: ArrayBuffer;
      readonly into: ArrayBuffer;
      readonly written: number;
      readonly spilled?: ArrayBuffer;
    }
  | { readonly id: number; readonly error: string; readonly code?: string };

const codec = new ZstdNapiCodec();
const port = parentPort!;

port.on('message', (request: CompressRequest) => {
  const { id, data, into } = request;
  try {
    const out = new Uint8Array(into);
    const compressed = codec.compress(new Uint8Array(data, 0, request.length), request.level, out);
    // Output that did not fit the given buffer comes back in its own.
    const spilled = compressed.buffer === into ? undefined : compressed.slice().buffer;
    const reply: CompressReply = { id, data, into, written: compressed.length, ...(spilled ? { spilled } : {}) };
    port.postMessage(reply, spilled ? [data, into, spilled] : [data, into]);
  } catch (e) {
    const reply: CompressReply = { id, error: (e as Error).message, ...(e instanceof SecureTransferError ? { code: e.code } : {}) };
    port.postMessage(reply);
  }
});
