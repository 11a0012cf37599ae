// A byte stream to one peer. Pull-based so the session decides when to read: the token
// bucket and the frame decoder then bound what is buffered.

export interface Connection {
  readonly remoteAddress: string;
  readonly remotePort: number;
  /** Next chunk of bytes, or null at end of stream. Rejects with SecureTransferError E_TIMEOUT when idle too long. */
  read(): Promise<Uint8Array | null>;
  /**
   * Resolves once the bytes are accepted by the transport without exceeding its buffer. The
   * transport may still hold the bytes after that: onReleased, if given, runs once it no longer
   * does (written out or failed), and only then may the caller reuse them.
   */
  write(bytes: Uint8Array, onReleased?: () => void): Promise<void>;
  /** Reads that wait longer than this fail with E_TIMEOUT; 0 disables. */
  setIdleTimeout(ms: number): void;
  /** Flushes and half-closes; the peer sees end of stream. */
  end(): Promise<void>;
  destroy(): void;
  readonly bytesRead: number;
  readonly bytesWritten: number;
}

export interface Listener {
  readonly host: string;
  readonly port: number;
  /** Stops accepting; resolves when the listening socket is closed. */
  close(): Promise<void>;
}

export interface ListenOptions {
  readonly host: string;
  readonly port: number;
  /** Called for each accepted connection; the listener never awaits it. */
  readonly onConnection: (connection: Connection) => void;
  /** Told of a connection that could not be accepted (out of descriptors); the listener goes on. */
  readonly onError?: (error: Error) => void;
}

export interface Transport {
  connect(host: string, port: number, timeoutMs: number): Promise<Connection>;
  listen(options: ListenOptions): Promise<Listener>;
}
