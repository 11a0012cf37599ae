// Whether a manifest may start or continue a transfer on the receiver (docs/requirements.md#durability), judged from
// what the receiver recorded of earlier attempts. Pure: the session looks things up and obeys.
import { fail, ok, type Result } from '../errors.js';
import type { TransferStatus } from '../ports/transfer-store.js';
import type { Manifest } from './manifest.js';

export interface EarlierAttempt {
  readonly fileName: string;
  readonly fileSize: number;
  readonly pieceSize: number;
  readonly pieceCount: number;
  readonly status: TransferStatus;
  readonly peerFingerprint: string | null;
  /** SHA-256 (hex) of a folder's entry list as the first attempt sent it. */
  readonly entryListHash: string | null;
}

export interface ResumeContext {
  /** What the receiver recorded under this transfer id, if anything. */
  readonly earlier: EarlierAttempt | undefined;
  /** The sender's static key fingerprint on this connection. */
  readonly clientFingerprint: string;
  /** SHA-256 (hex) of this manifest's entry list; null for a single file. */
  readonly entryListHash: string | null;
}

/** ok(true) continues the earlier attempt; ok(false) starts afresh. */
export function judgeResume(m: Manifest, c: ResumeContext): Result<boolean> {
  const earlier = c.earlier;
  if (!earlier) return ok(false); // a resume the receiver never recorded (it died first) starts afresh
  if (!m.resume) return fail('E_MANIFEST_INVALID', `transfer id ${m.transferId} was used before; a new transfer needs a new id`);
  if (earlier.status === 'completed') return fail('E_ALREADY_COMPLETE', `transfer ${m.transferId} already completed on this receiver`);
  // Only the key that started a transfer may continue it: an id alone is no credential.
  if (earlier.peerFingerprint !== c.clientFingerprint) {
    return fail('E_UNTRUSTED_KEY', `transfer ${m.transferId} was started by another sender key`);
  }
  const differences = (['fileName', 'fileSize', 'pieceSize', 'pieceCount'] as const)
    .filter((k) => earlier[k] !== m[k])
    .map((k) => `${k} ${JSON.stringify(m[k])} (first attempt: ${JSON.stringify(earlier[k])})`);
  if (earlier.entryListHash !== c.entryListHash) differences.push('the entry list of the folder');
  if (differences.length > 0)
    return fail('E_MANIFEST_INVALID', `the resume of ${m.transferId} differs from its first attempt: ${differences.join(', ')}`);
  return ok(true);
}
