// --json: one JSON object per line on stdout (NDJSON) for scripts to follow a transfer. The
// schema is documented in docs/cli.md#events and versioned: every event carries v, which only
// changes when a field changes meaning or goes away (new fields and events may be added in v1).
import type { ReceiverWait, SenderWait, WaitReport } from '../../application/pipeline-waits.js';
import type { ErrorCode } from '../../domain/errors.js';

export const EVENTS_VERSION = 1;
/** Progress events at most this often (the last one, at 100%, always goes out). */
export const PROGRESS_EVENT_INTERVAL_MS = 250;

export type CliEvent =
  | {
      readonly event: 'started';
      readonly transferId: string;
      readonly name: string;
      readonly size: number;
      readonly pieces: number;
      readonly resume: boolean;
      /** A folder: its entries (the top folder included) and those not sent. */
      readonly entries?: number;
      readonly skipped?: readonly { readonly path: string; readonly kind: string }[];
      readonly receiver: { readonly host: string; readonly port: number; readonly fingerprint: string };
    }
  | {
      readonly event: 'progress';
      readonly transferId: string;
      readonly bytes: number;
      readonly total: number;
      readonly pieces: number;
      /** A folder: files whose every byte is done, and its files in all. */
      readonly files?: number;
      readonly filesTotal?: number;
      /** Bytes per second over the last few seconds. */
      readonly rate: number;
      /** Seconds left at that rate; null while unknown. */
      readonly eta: number | null;
    }
  | {
      readonly event: 'completed';
      readonly transferId: string;
      readonly size: number;
      readonly wireBytes: number;
      readonly piecesHeld: number;
      readonly seconds: number;
      readonly receiverFingerprint: string;
      /** Where the pipeline waited, in seconds, from ACCEPT to the last ACK (docs/PERFORMANCE.md#waits); absent when nothing was sent. */
      readonly waits?: WaitReport<SenderWait>;
    }
  | {
      readonly event: 'failed';
      readonly transferId: string | null;
      readonly code: ErrorCode;
      readonly message: string;
      readonly exitCode: number;
    }
  | {
      readonly event: 'listening';
      readonly address: string;
      readonly outputDir: string;
      readonly fingerprint: string;
      readonly clients: string;
    }
  | {
      readonly event: 'transfer-started';
      readonly transferId: string;
      readonly name: string;
      readonly size: number;
      readonly pieces: number;
      readonly piecesHeld: number;
      readonly peer: string;
      readonly senderFingerprint: string;
    }
  | {
      readonly event: 'transfer-completed';
      readonly transferId: string;
      readonly path: string;
      /** Where the receiving loop waited, in seconds, from ACCEPT to TRANSFER_COMPLETE (docs/PERFORMANCE.md#waits). */
      readonly waits?: WaitReport<ReceiverWait>;
    }
  | { readonly event: 'transfer-failed'; readonly transferId: string; readonly code: ErrorCode; readonly message: string }
  | { readonly event: 'refused'; readonly reason: 'handshake-failed' | 'refused'; readonly code: ErrorCode; readonly message: string }
  | { readonly event: 'stopping'; readonly signal: string };

/** Writes events as lines; strings are JSON-escaped, so nothing from the network can break a line. */
export class EventWriter {
  constructor(
    private readonly out: { write(text: string): unknown },
    private readonly now: () => number = Date.now,
  ) {}

  emit(event: CliEvent): void {
    this.out.write(`${JSON.stringify({ v: EVENTS_VERSION, at: new Date(this.now()).toISOString(), ...event })}\n`);
  }
}
