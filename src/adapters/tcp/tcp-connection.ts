import type { Socket } from 'node:net';
import { SecureTransferError } from '../../domain/errors.js';
import type { Connection } from '../../domain/ports/transport.js';

/** Chunks buffered before the socket is paused: bounds memory when the session reads slowly. */
const MAX_QUEUED_CHUNKS = 16;

/** A node:net socket as a pull-based Connection. */
export class TcpConnection implements Connection {
  readonly remoteAddress: string;
  readonly remotePort: number;
  private readonly queue: Uint8Array[] = [];
  private waiting: { resolve: (c: Uint8Array | null) => void; reject: (e: Error) => void } | undefined;
  private ended = false;
  private failure: SecureTransferError | undefined;

  constructor(private readonly socket: Socket) {
    // Node reports IPv4 peers on a dual-stack socket as ::ffff:a.b.c.d; one address, one name.
    this.remoteAddress = (socket.remoteAddress ?? 'unknown').replace(/^::ffff:/, '');
    this.remotePort = socket.remotePort ?? 0;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      const bytes = new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      if (this.waiting) {
        const w = this.waiting;
        this.waiting = undefined;
        w.resolve(bytes);
        return;
      }
      this.queue.push(bytes);
      if (this.queue.length >= MAX_QUEUED_CHUNKS) socket.pause();
    });
    socket.on('end', () => {
      this.ended = true;
      this.settleWaiting();
    });
    socket.on('close', () => {
      this.ended = true;
      this.settleWaiting();
    });
    socket.on('error', (e: Error) => {
      this.failure ??= new SecureTransferError('E_CONNECTION_LOST', `connection error: ${e.message}`, { cause: e });
      this.settleWaiting();
    });
    socket.on('timeout', () => {
      this.failure ??= new SecureTransferError('E_TIMEOUT', `no data for ${socket.timeout} ms`);
      this.settleWaiting();
      socket.destroy();
    });
  }

  get bytesRead(): number {
    return this.socket.bytesRead;
  }

  get bytesWritten(): number {
    return this.socket.bytesWritten;
  }

  read(): Promise<Uint8Array | null> {
    const next = this.queue.shift();
    if (next) {
      if (this.queue.length < MAX_QUEUED_CHUNKS / 2 && this.socket.isPaused()) this.socket.resume();
      return Promise.resolve(next);
    }
    if (this.failure) return Promise.reject(this.failure);
    if (this.ended) return Promise.resolve(null);
    if (this.waiting) return Promise.reject(new Error('TcpConnection: concurrent read()'));
    if (this.socket.isPaused()) this.socket.resume();
    return new Promise((resolve, reject) => (this.waiting = { resolve, reject }));
  }

  write(bytes: Uint8Array, onReleased?: () => void): Promise<void> {
    const refused =
      this.failure ??
      (this.socket.destroyed || this.socket.writableEnded
        ? new SecureTransferError('E_CONNECTION_LOST', 'the connection is closed')
        : undefined);
    if (refused) {
      onReleased?.();
      return Promise.reject(refused);
    }
    return new Promise((resolve, reject) => {
      // Node calls this once the bytes are written to the kernel, or failed (also on destroy).
      const flushed = this.socket.write(bytes, (e) => {
        onReleased?.();
        if (e) reject(new SecureTransferError('E_CONNECTION_LOST', `write failed: ${e.message}`, { cause: e }));
        else if (!flushed) resolve();
      });
      // Below the high-water mark there is no need to wait for the kernel.
      if (flushed) resolve();
    });
  }

  setIdleTimeout(ms: number): void {
    this.socket.setTimeout(ms);
  }

  end(): Promise<void> {
    if (this.socket.destroyed || this.socket.writableEnded) return Promise.resolve();
    return new Promise((resolve) => this.socket.end(() => resolve()));
  }

  destroy(): void {
    this.socket.destroy();
  }

  private settleWaiting(): void {
    const w = this.waiting;
    if (!w) return;
    this.waiting = undefined;
    if (this.failure) w.reject(this.failure);
    else w.resolve(null);
  }
}
