import { escapeText } from '../../domain/escape-text.js';
import type { TransferRecord } from '../../domain/ports/transfer-store.js';
import type { AuditEvent } from '../../domain/ports/audit-log.js';
import { formatDuration, type ProgressReading } from './progress-meter.js';

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${n} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/** A progress line for a terminal: bar, percentage, bytes, rate and time left. */
/** files: a folder's files done and in all. */
export function progressLine(r: ProgressReading, files?: { readonly done: number; readonly total: number }): string {
  const fraction = r.total === 0 ? 1 : r.bytes / r.total;
  const width = 30;
  const filled = Math.round(fraction * width);
  const bar = `[${'#'.repeat(filled)}${' '.repeat(width - filled)}] ${(fraction * 100).toFixed(1).padStart(5)}%`;
  const count = files ? `  ${files.done}/${files.total} files` : '';
  return `${bar}  ${formatBytes(r.bytes)} / ${formatBytes(r.total)}${count}  ${formatBytes(r.rate)}/s  ETA ${formatDuration(r.etaSeconds)}`;
}

/** "305 files and 3 folders" for a folder's entries (its top folder not counted). */
export function describeEntries(entries: readonly { readonly kind: string }[]): string {
  const files = entries.filter((e) => e.kind === 'file').length;
  const folders = entries.length - files - 1;
  return `${files} file${files === 1 ? '' : 's'} and ${folders} folder${folders === 1 ? '' : 's'}`;
}

const iso = (ms: number | null) => (ms === null ? '-' : new Date(ms).toISOString());

/** Human-readable record; every value that may have come from the network is escaped. */
export function formatTransfer(t: TransferRecord): string {
  const lines = [
    `${t.id}  ${t.role}  ${t.status.toUpperCase()}`,
    `  file:    ${escapeText(t.fileName)} (${formatBytes(t.fileSize)})  ->  ${escapeText(t.localPath)}`,
    `  pieces:  ${t.piecesDone}/${t.pieceCount} of ${formatBytes(t.pieceSize)}, ${formatBytes(t.bytesDone)} done, ${formatBytes(t.wireBytes)} on the wire, compression ${t.compression}`,
    `  peer:    ${escapeText(t.peerAddress)}  key ${t.peerFingerprint ?? '-'}`,
    `  times:   created ${iso(t.createdAt)}, updated ${iso(t.updatedAt)}, completed ${iso(t.completedAt)} (${(((t.completedAt ?? t.updatedAt) - t.createdAt) / 1000).toFixed(1)} s, ${t.attempts} attempt${t.attempts === 1 ? '' : 's'})`,
  ];
  if (t.entryCount > 0) lines.push(`  folder:  ${t.entryCount} entries, files and folders, the top one included`);
  if (t.skippedCount > 0) {
    const named = (t.skippedSample ?? '').split('\n').map(escapeText);
    const more = t.skippedCount > named.length ? `, and ${t.skippedCount - named.length} more` : '';
    lines.push(`  skipped: ${t.skippedCount} entries not sent (links and special files are never followed): ${named.join(', ')}${more}`);
  }
  if (t.errorCode) lines.push(`  error:   ${t.errorCode}: ${escapeText(t.errorDetail ?? '')}`);
  if (t.role === 'sender' && (t.status === 'failed' || t.status === 'interrupted')) {
    lines.push(`  resume:  securetransfer resume --transfer-id ${t.id} --host HOST --port PORT --file ${escapeText(t.localPath)}`);
  }
  return lines.join('\n');
}

/** One audit event a line; every value that may have come from the network is escaped. */
export function formatAuditEvent(e: AuditEvent): string {
  const parts = [iso(e.at), e.type.padEnd(19), e.peerAddress ? escapeText(e.peerAddress) : '-'];
  if (e.transferId) parts.push(`transfer=${e.transferId}`);
  if (e.peerFingerprint) parts.push(`key=${escapeText(e.peerFingerprint)}`);
  if (e.code) parts.push(e.code);
  if (e.detail) parts.push(escapeText(e.detail));
  return parts.join('  ');
}
