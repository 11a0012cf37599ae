// PieceCompressor on a worker thread running zstd-napi (zstd-worker-thread.ts). Pieces move to
// the thread and back without copies: their ArrayBuffers are transferred, which is why the
// port hands the memory over for the duration of a call.
import { Worker } from 'node:worker_threads';
import { SecureTransferError, type ErrorCode } from '../../domain/errors.js';
import type { CompressedPiece, PieceCompressor } from '../../domain/ports/codec.js';
import type { CompressReply, CompressRequest } from './zstd-worker-thread.js';

interface Pending {
  readonly length: number;
  readonly resolve: (piece: CompressedPiece) => void;
  readonly reject: (e: Error) => void;
}

/** An ArrayBuffer the view starts, which can move to the thread; anything else is copied first. */
function movable(view: Uint8Array): ArrayBuffer {
  if (view.byteOffset === 0 && view.buffer instanceof ArrayBuffer) return view.buffer;
  return view.slice().buffer;
}

export class WorkerPieceCompressor implements PieceCompressor {
  readonly name: string;
  /** Started as pieces come: a send of incompressible data never pays for the threads. */
  private readonly workers: Worker[] = [];
  private nextWorker = 0;
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private failure: Error | undefined;

  /**
   * parallelism: how many pieces compress at once (the sender's own thread hashes and seals).
   * workerScript: the thread's module; beside this one both in dist/src and in dist/bundle.
   */
  constructor(
    readonly parallelism = 1,
    private readonly workerScript = new URL('./zstd-worker-thread.js', import.meta.url),
  ) {
    if (!Number.isInteger(parallelism) || parallelism < 1) throw new RangeError(`compression threads: ${parallelism}`);
    this.name = `zstd-napi on ${parallelism} worker thread${parallelism === 1 ? '' : 's'}`;
  }

  private start(): Worker {
    const worker = new Worker(this.workerScript);
    // An idle thread must not keep the process alive after the send.
    worker.unref();
    worker.on('message', (reply: CompressReply) => this.settle(reply));
    worker.on('error', (e) => this.fail(new SecureTransferError('E_INTERNAL', `compression thread failed: ${e.message}`, { cause: e })));
    worker.on('exit', (code) => this.fail(new SecureTransferError('E_INTERNAL', `compression thread exited (${code})`)));
    return worker;
  }

  compress(data: Uint8Array, level: number, into: Uint8Array): Promise<CompressedPiece> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    const request: CompressRequest = { id, data: movable(data), length: data.length, into: movable(into), level };
    return new Promise((resolve, reject) => {
      this.pending.set(id, { length: data.length, resolve, reject });
      // Round robin: pieces are handed out in order and take about as long as each other.
      const at = this.nextWorker++ % this.parallelism;
      const worker = (this.workers[at] ??= this.start());
      worker.postMessage(request, [request.data, request.into]);
    });
  }

  async close(): Promise<void> {
    this.fail(new SecureTransferError('E_INTERNAL', 'the compressor is closed'));
    await Promise.all(this.workers.map((w) => w.terminate()));
  }

  private settle(reply: CompressReply): void {
    const pending = this.pending.get(reply.id);
    if (!pending) return;
    this.pending.delete(reply.id);
    if ('error' in reply) {
      pending.reject(reply.code ? new SecureTransferError(reply.code as ErrorCode, reply.error) : new Error(reply.error));
      return;
    }
    const into = new Uint8Array(reply.into);
    const compressed = reply.spilled ? new Uint8Array(reply.spilled) : into.subarray(0, reply.written);
    pending.resolve({ data: new Uint8Array(reply.data, 0, pending.length), into, compressed });
  }

  private fail(e: Error): void {
    this.failure ??= e;
    for (const p of this.pending.values()) p.reject(this.failure);
    this.pending.clear();
  }
}
