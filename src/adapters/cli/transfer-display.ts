// What send and resume show while they run: for a person, a start line, and a progress bar with
// the rate and time left when stderr is a terminal (nothing but the final line otherwise); for a
// script (--json), the same moments as events (events.ts).
import { escapeText } from '../../domain/escape-text.js';
import type { Manifest } from '../../domain/transfer/manifest.js';
import type { CliContext } from './cli-app-port.js';
import { PROGRESS_EVENT_INTERVAL_MS, type EventWriter } from './events.js';
import { describeEntries, formatBytes, progressLine } from './format.js';
import type { SkippedEntry } from '../../domain/ports/files.js';
import { TreeLayout } from '../../domain/transfer/tree-layout.js';
import { ProgressMeter } from './progress-meter.js';

/** A terminal is redrawn at most this often. */
const REDRAW_MS = 100;

/** Skipped entries a person is shown by name; the rest are counted. */
const SKIPPED_SHOWN = 10;

export interface TransferDisplay {
  /** A folder's entries that are not sent, before started. */
  skipped(entries: readonly SkippedEntry[]): void;
  started(transferId: string, manifest: Manifest): void;
  receiverKey(fingerprint: string, port: number): void;
  progress(bytes: number, total: number, pieces: number): void;
}

abstract class TimedDisplay {
  private readonly startedAt = Date.now();
  protected meter: ProgressMeter | undefined;
  private lastShown = 0;
  /** A folder's layout, so progress can count its files. */
  protected layout: TreeLayout | undefined;
  protected skippedEntries: readonly SkippedEntry[] = [];

  skipped(entries: readonly SkippedEntry[]): void {
    this.skippedEntries = entries;
  }

  protected track(m: Manifest): void {
    this.meter = new ProgressMeter(m.fileSize);
    this.layout = m.tree ? new TreeLayout(m.tree.entries) : undefined;
  }

  /** Files whose every byte is done, while pieces complete roughly in order: the files below the bytes done. */
  protected files(bytes: number): { done: number; total: number } | undefined {
    return this.layout && { done: this.layout.filesBelow(bytes), total: this.layout.files.length };
  }

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
    this.track(m);
    const what = m.tree ? `the folder "${escapeText(m.fileName)}" (${describeEntries(m.tree.entries)}, ` : `"${escapeText(m.fileName)}" (`;
    this.context.stdout.write(
      `transfer ${transferId}: ${m.resume ? 'resuming' : 'sending'} ${what}${formatBytes(m.fileSize)}, ${m.pieceCount} pieces)\n`,
    );
    const skipped = this.skippedEntries;
    if (skipped.length > 0) {
      const named = skipped.slice(0, SKIPPED_SHOWN).map((s) => `  ${escapeText(s.path)} (${s.kind})\n`);
      const more =
        skipped.length > SKIPPED_SHOWN
          ? `  and ${skipped.length - SKIPPED_SHOWN} more (securetransfer status names the first twenty)\n`
          : '';
      this.context.stderr.write(
        `skipped ${skipped.length} entries that are not files or folders (links are never followed):\n${named.join('')}${more}`,
      );
    }
  }

  receiverKey(): void {}

  progress(bytes: number, total: number): void {
    if (!this.tty || !this.meter) return;
    const reading = this.meter.update(bytes, Date.now());
    if (!this.due(bytes, total, REDRAW_MS)) return;
    this.drawn = true;
    this.context.stderr.write(`\r${progressLine(reading, this.files(bytes))}`);
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
    this.track(m);
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
      ...(m.tree && { entries: m.tree.entries.length, skipped: this.skippedEntries.map((s) => ({ path: s.path, kind: s.kind })) }),
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
      ...(this.layout && { files: this.layout.filesBelow(bytes), filesTotal: this.layout.files.length }),
      rate: Math.round(reading.rate),
      eta: reading.etaSeconds === undefined ? null : Math.round(reading.etaSeconds * 10) / 10,
    });
  }
}
