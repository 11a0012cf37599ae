// Which refusals count toward a ban (docs/defences.md#bans). A failed handshake always does. After
// the handshake, so does every refusal that only a broken or hostile sender earns: a key not on
// the allow-list, a malformed manifest or name, another key's resume id, a protocol violation,
// or a session that stalls. What an honest sender can run into through no fault of its own (the
// receiver busy or full, a name already taken, a lost connection, its own CLOSE) never does.
import type { ErrorCode } from '../errors.js';

const HONEST_OUTCOMES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'E_BUSY',
  'E_INSUFFICIENT_SPACE',
  'E_FILE_EXISTS',
  'E_ALREADY_COMPLETE',
  'E_CONNECTION_LOST',
  'E_INTERRUPTED',
  'E_PEER_CLOSED',
  'E_SOURCE_CHANGED',
  'E_UNAVAILABLE',
  'E_IO',
  'E_INTERNAL',
  'E_HELD_PIECE_DAMAGED',
  'E_BANNED',
]);

/** Whether a session that ended with this code counts as an offence of its source. */
export function isOffence(code: ErrorCode): boolean {
  return !HONEST_OUTCOMES.has(code);
}
