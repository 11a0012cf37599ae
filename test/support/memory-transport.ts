// A Transport whose connections are pairs of in-memory byte queues: a sender and a receiver in
// one process talk without sockets, so session tests run without the network and without its
// timing. Writes are copied (the writer may reuse its buffer at once), and a writer waits while
// the peer has more than HIGH_WATER bytes unread, as TCP's back-pressure would make it.
import { SecureTransferError } from '../../src/domain/errors.js';
import type { Connection, ListenOptions, Listener, Transport } from '../../src/domain/ports/transport.js';

const HIGH_WATER = 4 * 1024 * 1024;

class MemoryConnection implements Connection {
  peer!: MemoryConnection;
  bytesRead = 0;
  bytesWritten = 0;
  private readonly inbox: Uint8Array[] = [];
  private inboxBytes = 0;
  private ended = false;
  private destroyed = false;
  private idleMs = 0;
  private wakeReader: (() => void) | undefined;
  private wakeWriters: (() => void)[] = [];

  constructor(
    readonly remoteAddress: string,
    readonly remotePort: number,
  ) {}

  async read(): Promise<Uint8Array | null> {
    for (;;) {
      if (this.destroyed) return null;
      const chunk = this.inbox.shift();
      if (chunk) {
        this.inboxBytes -= chunk.length;
        this.bytesRead += chunk.length;
        for (const wake of this.wakeWriters.splice(0)) wake();
        return chunk;
      }
      if (this.ended) return null;
      await this.waitForData();
    }
  }

  async write(bytes: Uint8Array, onReleased?: () => void): Promise<void> {
    if (this.destroyed || this.peer.ended || this.peer.destroyed) {
      onReleased?.();
      throw new SecureTransferError('E_CONNECTION_LOST', 'the connection is closed');
    }
    this.peer.deliver(Uint8Array.from(bytes));
    this.bytesWritten += bytes.length;
    onReleased?.();
    while (this.peer.inboxBytes > HIGH_WATER && !this.peer.destroyed) {
      await new Promise<void>((resolve) => this.peer.wakeWriters.push(resolve));
    }
  }

  setIdleTimeout(ms: number): void {
    this.idleMs = ms;
  }

  end(): Promise<void> {
    this.peer.ended = true;
    this.peer.wakeReader?.();
    return Promise.resolve();
  }

  destroy(): void {
    for (const side of [this, this.peer]) {
      side.destroyed = true;
      side.wakeReader?.();
      for (const wake of side.wakeWriters.splice(0)) wake();
    }
  }

  private deliver(chunk: Uint8Array): void {
    this.inbox.push(chunk);
    this.inboxBytes += chunk.length;
    this.wakeReader?.();
  }

  private waitForData(): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer =
        this.idleMs > 0
          ? setTimeout(() => {
              this.wakeReader = undefined;
              reject(new SecureTransferError('E_TIMEOUT', `no data for ${this.idleMs} ms`));
            }, this.idleMs)
          : undefined;
      this.wakeReader = () => {
        clearTimeout(timer);
        this.wakeReader = undefined;
        resolve();
      };
    });
  }
}

export class MemoryTransport implements Transport {
  private readonly listeners = new Map<number, ListenOptions>();
  private nextPort = 40_000;

  listen(options: ListenOptions): Promise<Listener> {
    const port = options.port === 0 ? this.nextPort++ : options.port;
    if (this.listeners.has(port)) return Promise.reject(new SecureTransferError('E_CONFIG', `port ${port} is taken`));
    this.listeners.set(port, options);
    return Promise.resolve({
      host: options.host,
      port,
      close: () => {
        this.listeners.delete(port);
        return Promise.resolve();
      },
    });
  }

  connect(host: string, port: number): Promise<Connection> {
    const listener = this.listeners.get(port);
    if (!listener)
      return Promise.reject(new SecureTransferError('E_CONNECTION_LOST', `could not connect to ${host}:${port}: ECONNREFUSED`));
    const client = new MemoryConnection(host, port);
    const server = new MemoryConnection('127.0.0.1', this.nextPort++);
    client.peer = server;
    server.peer = client;
    listener.onConnection(server);
    return Promise.resolve(client);
  }
}
