// Ending a session with a reason the peer can read: CLOSE, then a linger that reads and discards
// what the peer still sends, until it closes or for at most CLOSE_LINGER_MS. Closing a socket with
// unread data makes the kernel send a reset, and a reset can make the peer's kernel drop the
// CLOSE before the peer reads it: the peer would learn "connection lost" instead of the reason.
import type { ErrorCode } from '../domain/errors.js';
import { CLOSE_LINGER_MS } from '../domain/limits.js';
import type { Clock } from '../domain/ports/clock.js';
import type { Logger } from '../domain/ports/logger.js';
import type { Connection } from '../domain/ports/transport.js';
import { encodeClose } from '../domain/wire/messages.js';
import type { AckBatcher } from './ack-batcher.js';
import type { SessionHost } from './session-host.js';

export interface SessionCloseDeps {
  readonly replies: AckBatcher;
  readonly host: Pick<SessionHost, 'releaseSlot' | 'startLinger' | 'endLinger'>;
  /** The connection without the rate limit: discarding input must not wait on it. */
  readonly raw: Connection;
  /** The connection the session writes through. */
  readonly connection: Connection;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly peer: string;
}

/** Sends CLOSE (after the ACKs waiting), lingers, then half-closes; never throws. */
export async function closeWithReason(deps: SessionCloseDeps, code: ErrorCode, detail: string): Promise<void> {
  try {
    await deps.replies.flush([encodeClose(code, detail)]);
    // Draining the CLOSE no longer counts against the source's connection cap.
    deps.host.releaseSlot();
    // Linger before the FIN too: a middlebox that tears down both directions on a half-close
    // would otherwise reset the sender before it reads the CLOSE (seen with a test proxy).
    await linger(deps);
    await deps.connection.end();
  } catch (e) {
    deps.logger.debug('could not deliver CLOSE', { peer: deps.peer, code, reason: (e as Error).message });
  }
}

async function linger({ host, raw, clock }: SessionCloseDeps): Promise<void> {
  // Lingering sockets no longer count against their source: their number is bounded by the host.
  if (!host.startLinger()) return;
  try {
    const end = clock.now() + CLOSE_LINGER_MS;
    // A silent peer ends the wait through the idle timeout, a chatty one through the deadline.
    raw.setIdleTimeout(CLOSE_LINGER_MS);
    while (clock.now() < end) {
      const chunk = await raw.read().catch(() => null);
      if (chunk === null) return;
    }
  } finally {
    host.endLinger();
  }
}
