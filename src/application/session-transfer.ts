// The transfer one receive session works on, from ACCEPT to the session's end: its record, its
// partial file, its piece path and the held-piece check, and what must be undone when the
// session ends (a transfer this session started that never got a piece leaves nothing behind).
import { ok, type ErrorCode, type Result } from '../domain/errors.js';
import type { PartialFile } from '../domain/ports/files.js';
import type { ReceivingTransfer } from '../domain/transfer/receiving-transfer.js';
import { encodeAccept } from '../domain/wire/messages.js';
import { verifyHeldPieces, type HeldPieceCheck } from './held-piece-check.js';
import { intakeFor, type IntakeParts } from './piece-intake.js';
import type { RateLimitedConnection } from './rate-limited-connection.js';
import type { SecureChannel } from './secure-channel.js';
import type { ReceiveSessionDeps, ReceiveSessionLimits, SessionHost } from './session-host.js';
import { openPartialFile } from './transfer-admission.js';
import type { TransferRecords } from './transfer-records.js';

/** What exists once a transfer is accepted: its piece path, its record and its partial file. */
export type Accepted = IntakeParts & {
  readonly transfer: ReceivingTransfer;
  readonly records: TransferRecords;
  readonly partial: PartialFile;
};

/** What the session lends its transfer. */
export interface SessionTransferContext {
  readonly deps: ReceiveSessionDeps;
  readonly limits: ReceiveSessionLimits;
  readonly host: SessionHost;
  readonly channel: SecureChannel;
  /** The session's rate limit, when there is one: decompressed bytes are charged to it too. */
  readonly limiter: RateLimitedConnection | undefined;
  /** Bytes moved on the connection, either way, before any rate limit (the progress rule). */
  readonly moved: () => number;
  readonly ack: (transfer: ReceivingTransfer, index: number) => Promise<void>;
  /** Sends a NACK at once, after any ACKs waiting. */
  readonly nack: (message: Uint8Array) => Promise<void>;
  /** Stops the session from outside its read loop with this reason. */
  readonly stop: (code: ErrorCode, detail: string) => void;
  /** The session has its outcome or was stopped: the held-piece check sends nothing more. */
  readonly ended: () => boolean;
}

export class SessionTransfer {
  private current: Accepted | undefined;
  /** A record this session made, until ACCEPT: removed again if the transfer gets no piece. */
  private records: TransferRecords | undefined;
  private partial: PartialFile | undefined;
  /** The partial file was created by this session for a new transfer, so it is this session's to remove. */
  private partialCreated = false;
  private heldCheck: { readonly check: HeldPieceCheck; readonly done: Promise<void> } | undefined;

  constructor(private readonly c: SessionTransferContext) {}

  /** The accepted transfer, once ACCEPT is on its way. */
  get accepted(): Accepted | undefined {
    return this.current;
  }

  /**
   * The record first, then the partial file (unless the admission opened one to resume), then
   * ACCEPT: a database that cannot write refuses before any file exists.
   */
  async accept(transfer: ReceivingTransfer, records: TransferRecords, resumed: PartialFile | undefined): Promise<Result<Accepted>> {
    const { deps, host } = this.c;
    const m = transfer.manifest;
    this.partial = resumed;
    const heldCount = transfer.pieces.countIn('held');
    const held = { pieces: heldCount, bytes: m.fileSize - transfer.missingBytes() };
    const opened = await records.open(deps.folder.path, held);
    if (!opened.ok) return opened;
    this.records = records;
    if (!this.partial) {
      const created = await openPartialFile(deps.folder, m, records.isResume);
      if (!created.ok) return created;
      this.partial = created.value;
      this.partialCreated = !records.isResume;
    }
    const partial = this.partial;
    const replies = { ack: (index: number) => this.c.ack(transfer, index), nack: this.c.nack };
    const parts = intakeFor({
      transfer,
      partial,
      records,
      held,
      deps,
      progressRules: this.c.limits.progress,
      limiter: this.c.limiter,
      moved: this.c.moved,
      tooSlow: (detail) => this.c.stop('E_TOO_SLOW', detail),
      ...replies,
      wrote: (bytes) => host.wrote(m.transferId, bytes),
    });
    await records.started(heldCount);
    this.current = { transfer, records, partial, ...parts };
    const offer = transfer.accepted();
    await this.c.channel.sendMessages([encodeAccept(m.pieceCount, offer.held, offer.heldHashes)]);
    this.heldCheck = verifyHeldPieces({
      transfer,
      partial,
      sink: parts.sink,
      records,
      sha256: deps.crypto.sha256,
      logger: deps.logger,
      ended: this.c.ended,
      ...replies,
      stop: this.c.stop,
    });
    parts.progress.start();
    return ok(this.current);
  }

  /** The completion closed the partial file, whatever its outcome. */
  partialClosed(): void {
    this.partial = undefined;
  }

  /** This session made the transfer's record and wrote none of its pieces. */
  startedWithoutPieces(): boolean {
    return (this.records?.madeHere ?? false) && (this.current?.intake.written ?? 0) === 0;
  }

  /** Stops the work that runs beside the read loop: the progress watch and the held-piece check (which may still queue an ACK). */
  async stopWork(): Promise<void> {
    this.current?.progress.stop();
    await this.heldCheck?.check.stop();
    await this.heldCheck?.done;
  }

  /**
   * Once the connection is done with: waits for the writes in flight, closes the partial file,
   * removes what a transfer that never got a piece left behind, and gives the buffers back.
   */
  async release(completed: boolean): Promise<void> {
    await this.current?.sink.settled();
    await this.partial?.close().catch(() => undefined);
    if (this.records && !completed && this.startedWithoutPieces()) {
      await this.records.forget(this.partialCreated ? this.c.deps.folder : undefined);
    }
    this.current?.buffers.giveBackAll();
  }
}
