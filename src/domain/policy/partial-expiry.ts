// Incomplete transfers do not wait for ever (docs/defences.md#partial-files): one that nobody
// has touched for the retention period is expired (its partial file removed, its record marked,
// an audit event), so abandoned uploads cannot fill the disk over time. Pure.

export interface IncompleteTransfer {
  readonly id: string;
  readonly updatedAt: number;
}

/** The transfers to expire at now: untouched for retentionMs and not being worked on. */
export function transfersToExpire<T extends IncompleteTransfer>(candidates: readonly T[], now: number, retentionMs: number, inUse: (id: string) => boolean): T[] {
  return candidates.filter((t) => now - t.updatedAt >= retentionMs && !inUse(t.id));
}
