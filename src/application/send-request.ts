// What a send or a resume needs (the ports), what it is asked (the request) and what it returns.
import type { ErrorCode } from '../domain/errors.js';
import type { Clock } from '../domain/ports/clock.js';
import type { Codec, PieceCompressor } from '../domain/ports/codec.js';
import type { CryptoPrimitives } from '../domain/ports/crypto-primitives.js';
import type { SkippedEntry, SourceFiles } from '../domain/ports/files.js';
import type { IdentityStore } from '../domain/ports/identity-store.js';
import type { Logger } from '../domain/ports/logger.js';
import type { ServerTrust } from '../domain/ports/server-trust.js';
import type { TransferStore } from '../domain/ports/transfer-store.js';
import type { Transport } from '../domain/ports/transport.js';
import type { Manifest } from '../domain/transfer/manifest.js';
import type { SenderWait, WaitReport } from './pipeline-waits.js';

export interface SendFileDeps {
  readonly transport: Transport;
  readonly crypto: CryptoPrimitives;
  readonly codec: Codec;
  /** Compresses ahead on another thread where there is a core for it; else the codec runs inline. */
  readonly compressor?: PieceCompressor | undefined;
  readonly clock: Clock;
  readonly store: TransferStore;
  readonly files: SourceFiles;
  readonly identity: IdentityStore;
  readonly trust: ServerTrust;
  readonly logger: Logger;
}

export interface SendFileRequest {
  readonly host: string;
  readonly port: number;
  readonly filePath: string;
  /** zstd level; 0 sends every piece raw; auto follows the link (AdaptiveCompressionLevel). */
  readonly compressionLevel: number | 'auto';
  readonly pieceSize?: number;
  readonly window?: number;
  readonly connectTimeoutMs: number;
  readonly idleTimeoutMs: number;
  /** Called as pieces are done (sent and acknowledged, or held and confirmed), with the running totals. */
  readonly onProgress?: (bytesDone: number, bytesTotal: number, piecesDone: number) => void;
  /** Called once the receiver's key passed the trust check, before the manifest is sent. */
  readonly onReceiverKey?: (fingerprint: string) => void;
  /** Called once, before onStart, with a folder's entries that are not sent (links, special files). */
  readonly onSkipped?: (skipped: readonly SkippedEntry[]) => void;
  /** Called once the transfer id exists, before any network I/O, so a caller can show it. */
  readonly onStart?: (transferId: string, manifest: Manifest) => void;
  /** Called with what the user should know about keys (a first contact recorded, a key created). */
  readonly onTrustNote?: (note: string) => void;
}

export interface ResumeRequest extends Omit<SendFileRequest, 'pieceSize'> {
  readonly transferId: string;
}

export type SendOutcome =
  | {
      readonly ok: true;
      readonly transferId: string;
      readonly fileSize: number;
      /** Bytes on the network during this connection. */
      readonly wireBytes: number;
      /** Pieces the receiver already held (a resume). */
      readonly piecesHeld: number;
      readonly serverFingerprint: string;
      /** Where the sending pipeline waited, from ACCEPT to the last piece's ACK (none when no piece had to be sent). */
      readonly waits?: WaitReport<SenderWait>;
    }
  | { readonly ok: false; readonly transferId: string; readonly code: ErrorCode; readonly detail: string };
