// A connection that came through a TCP load balancer speaking the PROXY protocol v2
// (docs/scaling.md): it reports the client's address and port from the header instead of the
// balancer's, and hands out the bytes that followed the header first.
import { SecureTransferError } from '../domain/errors.js';
import type { Connection } from '../domain/ports/transport.js';
import { decodeProxyHeader, MAX_PROXY_HEADER } from '../domain/wire/proxy-header.js';

export class ProxiedConnection implements Connection {
  private leftover: Uint8Array | undefined;

  constructor(
    private readonly inner: Connection,
    readonly remoteAddress: string,
    readonly remotePort: number,
    leftover: Uint8Array,
  ) {
    this.leftover = leftover.length > 0 ? leftover : undefined;
  }

  get bytesRead(): number {
    return this.inner.bytesRead;
  }

  get bytesWritten(): number {
    return this.inner.bytesWritten;
  }

  read(): Promise<Uint8Array | null> {
    const first = this.leftover;
    if (first) {
      this.leftover = undefined;
      return Promise.resolve(first);
    }
    return this.inner.read();
  }

  write(bytes: Uint8Array, onReleased?: () => void): Promise<void> {
    return this.inner.write(bytes, onReleased);
  }

  setIdleTimeout(ms: number): void {
    this.inner.setIdleTimeout(ms);
  }

  end(): Promise<void> {
    return this.inner.end();
  }

  destroy(): void {
    this.inner.destroy();
  }
}

/**
 * Reads the PROXY v2 header off a connection from a balancer. Resolves with the client's
 * connection, or with the balancer's own (client undefined) for a LOCAL header such as a health
 * check; throws E_PROXY for anything else. The caller bounds the wait.
 */
export async function readProxyHeader(
  connection: Connection,
): Promise<{ connection: Connection; client: { address: string; port: number } | undefined }> {
  let buffered = new Uint8Array(0);
  for (;;) {
    const result = decodeProxyHeader(buffered);
    if (result.kind === 'error') throw new SecureTransferError('E_PROXY', `PROXY protocol header refused: ${result.detail}`);
    if (result.kind === 'header') {
      const rest = buffered.subarray(result.length);
      const client = result.client;
      return {
        connection: client
          ? new ProxiedConnection(connection, client.address, client.port, rest)
          : new ProxiedConnection(connection, connection.remoteAddress, connection.remotePort, rest),
        client,
      };
    }
    const chunk = await connection.read();
    if (chunk === null) throw new SecureTransferError('E_PROXY', 'the connection ended before its PROXY protocol header');
    // The decoder refuses a length above its bound from the fixed part, so this stays small.
    const next = new Uint8Array(buffered.length + chunk.length);
    next.set(buffered);
    next.set(chunk, buffered.length);
    buffered = next;
    if (buffered.length > MAX_PROXY_HEADER + 64 * 1024) throw new SecureTransferError('E_PROXY', 'PROXY protocol header too long');
  }
}
