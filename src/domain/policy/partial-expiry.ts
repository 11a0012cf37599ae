// Incomplete transfers do not wait for ever (docs/defences.md#partial-files): one that nobody
// has touched for the retention period is expired (its partial file removed, its record marked,
// an audit event), so abandoned uploads cannot fill the disk over time. Pure.

export interface IncompleteTransfer {
  readonly id: string;
  readonly updatedAt: number;
}

/** The transfers to expire at now: untouched for retentionMs and not being worked on. */
export function transfersToExpire<T extends IncompleteTransfer>(
  candidates: readonly T[],
  now: number,
  retentionMs: number,
  inUse: (id: string) => boolean,
): T[] {
  return candidates.filter((t) => now - t.updatedAt >= retentionMs && !inUse(t.id));
}

export interface PartialOnDisk {
  readonly transferId: string;
  readonly modifiedAt: number;
}

/**
 * Partial files that no incomplete transfer owns (left by a crash between the file and its
 * record, by an earlier version, or by hand), once older than the retention: they are removed
 * too, so nothing under the partial prefix lives for ever.
 */
export function orphanPartials(
  partials: readonly PartialOnDisk[],
  now: number,
  retentionMs: number,
  ownedByIncomplete: (id: string) => boolean,
): PartialOnDisk[] {
  return partials.filter((p) => now - p.modifiedAt >= retentionMs && !ownedByIncomplete(p.transferId));
}
