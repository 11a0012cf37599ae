// What send and resume show while they run: for a person, a start line, and a progress bar with
// the rate and time left when stderr is a terminal (nothing but the final line otherwise); for a
// script (--json), the same moments as events (events.ts).
import { escapeText } from '../../domain/escape-text.js';
import type { Manifest } from '../../domain/transfer/manifest.js';
import type { CliContext } from './cli-app-port.js';
import { PROGRESS_EVENT_INTERVAL_MS, type EventWriter } from './events.js';
import { formatBytes, progressLine } from './format.js';
import { ProgressMeter } from './progress-meter.js';

/** A terminal is redrawn at most this often. */
const REDRAW_MS = 100;

export interface TransferDisplay {
  started(transferId: string, manifest: Manifest): void;
  receiverKey(fingerprint: string, port: number): void;
  progress(bytes: number, total: number, pieces: number): void;
}

abstract class TimedDisplay {
  private readonly startedAt = Date.now();
  protected meter: ProgressMeter | undefined;
  private lastShown = 0;

  seconds(): number {
    return (Date.now() - this.startedAt) / 1000;
  }

  /** Whether this progress should be shown now: at most every intervalMs, and always the last. */
  protected due(bytes: number, total: number, intervalMs: number): boolean {
    const now = Date.now();
    if (now - this.lastShown < intervalMs && bytes < total) return false;
    this.lastShown = now;
    return true;
  }
}

export class TextDisplay extends TimedDisplay implements TransferDisplay {
  private readonly tty: boolean;
  private drawn = false;

  constructor(private readonly context: Pick<CliContext, 'stdout' | 'stderr'>) {
    super();
    this.tty = Boolean((context.stderr as NodeJS.WriteStream).isTTY);
  }

  started(transferId: string, m: Manifest): void {
    this.meter = new ProgressMeter(m.fileSize);
    this.context.stdout.write(
      `transfer ${transferId}: ${m.resume ? 'resuming' : 'sending'} "${escapeText(m.fileName)}" (${formatBytes(m.fileSize)}, ${m.pieceCount} pieces)\n`,
    );
  }

  receiverKey(): void {}

  progress(bytes: number, total: number): void {
    if (!this.tty || !this.meter) return;
    const reading = this.meter.update(bytes, Date.now());
    if (!this.due(bytes, total, REDRAW_MS)) return;
    this.drawn = true;
    this.context.stderr.write(`\r${progressLine(reading)}`);
  }

  /** Ends the progress bar's line, if one was drawn. */
  end(): void {
    if (this.drawn) this.context.stderr.write('\n');
  }
}

export class EventDisplay extends TimedDisplay implements TransferDisplay {
  /** Known once the transfer has an id (before any network I/O). */
  transferId: string | undefined;
  private manifest: Manifest | undefined;

  constructor(
    private readonly events: EventWriter,
    private readonly host: string,
  ) {
    super();
  }

  started(transferId: string, m: Manifest): void {
    this.transferId = transferId;
    this.manifest = m;
    this.meter = new ProgressMeter(m.fileSize);
  }

  /** The started event waits for the receiver's key, which it names. */
  receiverKey(fingerprint: string, port: number): void {
    const m = this.manifest;
    if (!m) return;
    this.events.emit({
      event: 'started',
      transferId: m.transferId,
      name: m.fileName,
      size: m.fileSize,
      pieces: m.pieceCount,
      resume: m.resume,
      receiver: { host: this.host, port, fingerprint },
    });
  }

  progress(bytes: number, total: number, pieces: number): void {
    if (!this.meter || !this.transferId) return;
    const reading = this.meter.update(bytes, Date.now());
    if (!this.due(bytes, total, PROGRESS_EVENT_INTERVAL_MS)) return;
    this.events.emit({
      event: 'progress',
      transferId: this.transferId,
      bytes,
      total,
      pieces,
      rate: Math.round(reading.rate),
      eta: reading.etaSeconds === undefined ? null : Math.round(reading.etaSeconds * 10) / 10,
    });
  }
}
