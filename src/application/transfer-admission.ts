// From the sender's key and manifest to an admitted transfer, before ACCEPT: the manifest within
// the limits, the resume judged (only the key that started a transfer continues it, judged before
// the id is claimed, so whoever merely knows an id cannot keep its owner's resume busy:
// docs/defences.md#resume), the final name free, and the transfer's disk space, memory and id
// claimed from the server (docs/defences.md#disk-and-sessions). Nothing here writes a record or
// creates a file; a refusal says what the peer is told and what the audit keeps. The sender's key
// itself is judged first, against the allow-list.
import { fail, failureOf, ok, type ErrorCode, type Result } from '../domain/errors.js';
import type { PartialFile, ReceiveFolder } from '../domain/ports/files.js';
import type { TransferRecord } from '../domain/ports/transfer-store.js';
import { decodeManifest, pieceRange, withTree, type Manifest, type ManifestHead } from '../domain/transfer/manifest.js';
import { ReceivingTransfer, type HeldPiece } from '../domain/transfer/receiving-transfer.js';
import { MAX_ENTRIES_CHUNK } from '../domain/wire/messages.js';
import { entryListHash, treeDiskOverhead } from '../domain/transfer/tree.js';
import { judgeResume } from '../domain/transfer/resume-policy.js';
import type { ReceiveSessionDeps, ReceiveSessionLimits, SessionHost } from './session-host.js';

export interface Admitted {
  readonly transfer: ReceivingTransfer;
  /** The record of an earlier attempt this one continues. */
  readonly earlier: TransferRecord | undefined;
  /** A resume's partial file, opened; a new transfer's is created after its record. */
  readonly partial: PartialFile | undefined;
}

export interface Refusal {
  readonly ok: false;
  readonly code: ErrorCode;
  /** What the peer is told. */
  readonly detail: string;
  /** What the audit keeps: the same, with what was refused. */
  readonly auditDetail: string;
}

/**
 * Memory a folder's list takes per encoded byte while the transfer runs: the bytes, the decoded
 * entries (an object and a string each), the checks' keys and the two layouts (the session's and
 * the partial tree's). Measured at about 6.3 for decoding, checking and one layout.
 */
const LIST_MEMORY_PER_BYTE = 8;

export class TransferAdmission {
  /** The transfer claimed from the host, until released. */
  private claimed: { readonly id: string; readonly pieceCount: number } | undefined;

  constructor(
    private readonly deps: Pick<ReceiveSessionDeps, 'store' | 'folder' | 'crypto'>,
    private readonly limits: Pick<ReceiveSessionLimits, 'maxTransferSize' | 'maxPayloadSize' | 'maxFiles'>,
    private readonly host: SessionHost,
  ) {}

  /**
   * readList gives the next ENTRIES message's bytes (at most the count asked for) while a
   * folder's entry list arrives; it throws when the connection fails or the peer sends anything else.
   */
  async admit(
    payload: Uint8Array,
    sender: string,
    readList: (atMost: number) => Promise<Uint8Array>,
  ): Promise<{ readonly ok: true; readonly value: Admitted } | Refusal> {
    const { store, folder } = this.deps;
    const decoded = decodeManifest(payload, this.limits);
    if (!decoded.ok) return { ...decoded, auditDetail: `manifest refused: ${decoded.detail}` };
    const whole = await this.wholeManifest(decoded.value, readList);
    if (!whole.ok) return { ...whole, auditDetail: `manifest refused: ${whole.detail}` };
    const m = whole.value;
    const refuse = (code: ErrorCode, detail: string): Refusal => ({
      ok: false,
      code,
      detail,
      auditDetail: `transfer ${m.transferId} refused: ${detail}`,
    });
    let earlier: TransferRecord | undefined;
    try {
      earlier = await store.get(m.transferId, 'receiver');
    } catch (e) {
      return refuse('E_UNAVAILABLE', `the receiver cannot read its database: ${(e as Error).message}`);
    }
    const judged = judgeResume(m, {
      earlier,
      clientFingerprint: sender,
      entryListHash: entryListHash(m.tree?.list, this.deps.crypto.sha256),
    });
    if (!judged.ok) return refuse(judged.code, judged.detail);
    if (!judged.value) earlier = undefined; // a resume this receiver never recorded starts afresh
    let held: HeldPiece[] = earlier ? (await store.pieces(m.transferId, 'receiver')).filter((p) => p.index < m.pieceCount) : [];
    const opened = ReceivingTransfer.open(m, { nameTaken: await folder.exists(m.fileName, m.tree ? m.transferId : undefined), held });
    if (!opened.ok) return refuse(opened.code, opened.detail);
    // The partial file is sparse: only the bytes still to come need room (a damaged held piece is
    // written again where its bytes already are). The id is claimed before its partial file is
    // opened, so expiry cannot remove the file under a resume.
    const claim = await this.claim(m, sender, held);
    if (!claim.ok) return refuse(claim.code, claim.detail);
    if (held.length === 0 || (await folder.hasPartial(m.transferId))) {
      const partial = held.length > 0 ? await folder.openPartial(m.transferId, false, m.tree?.entries) : undefined;
      return ok({ transfer: opened.value, earlier, partial });
    }
    // Recorded pieces without their file (removed by hand): everything comes again.
    held = [];
    this.release();
    const again = await this.claim(m, sender, held);
    if (!again.ok) return refuse(again.code, again.detail);
    const afresh = ReceivingTransfer.open(m, { nameTaken: false, held });
    if (!afresh.ok) return refuse(afresh.code, afresh.detail);
    return ok({ transfer: afresh.value, earlier, partial: undefined });
  }

  /**
   * A folder's manifest with the rest of its entry list, whose count and length the head already
   * passed: the memory for it is held before the first byte is taken in, and the bytes are only
   * ever those that arrived.
   */
  private async wholeManifest(head: ManifestHead, readList: (atMost: number) => Promise<Uint8Array>): Promise<Result<Manifest>> {
    const pending = head.pendingTree;
    if (!pending) return ok(head.manifest);
    const held = this.host.holdState(LIST_MEMORY_PER_BYTE * pending.listLength);
    if (!held.ok) return held;
    // One buffer, filled in place: many tiny messages cost no more than one list.
    const list = new Uint8Array(pending.listLength);
    list.set(pending.inline);
    let got = pending.inline.length;
    while (got < pending.listLength) {
      const due = Math.min(MAX_ENTRIES_CHUNK, pending.listLength - got);
      const chunk = await readList(pending.listLength - got);
      if (chunk.length < due) {
        return fail('E_MALFORMED_FRAME', `an ENTRIES message of ${chunk.length} bytes where ${due} were due (each is full but the last)`);
      }
      list.set(chunk, got);
      got += chunk.length;
    }
    return withTree(head.manifest, list, pending.entryCount, this.limits);
  }

  /** Gives back what the claim took (idempotent). */
  release(): void {
    if (!this.claimed) return;
    this.host.release(this.claimed.id, this.claimed.pieceCount);
    this.claimed = undefined;
  }

  /** Claims the transfer's id, disk space and memory from the host, for the bytes not held. */
  private async claim(m: Manifest, sender: string, held: readonly HeldPiece[]): Promise<Result<void>> {
    let heldBytes = 0;
    for (const p of held) heldBytes += pieceRange(m, p.index).length;
    // A folder costs its folders, inodes and partly filled blocks too, not only its contents.
    const bytes = m.fileSize - heldBytes + treeDiskOverhead(m.tree?.entries);
    const admitted = await this.host.admit({ transferId: m.transferId, sender, bytes, pieceCount: m.pieceCount });
    if (admitted.ok) this.claimed = { id: m.transferId, pieceCount: m.pieceCount };
    return admitted;
  }
}

/** The allow-list's decision on the sender's key; a list that cannot be read refuses (fail closed). */
export async function authorizeClient(
  deps: Pick<ReceiveSessionDeps, 'clients' | 'logger'>,
  peer: string,
  clientKey: Uint8Array,
  fingerprint: string,
): Promise<{ readonly detail: string; readonly toPeer: string } | undefined> {
  const toPeer = `this receiver does not accept the key ${fingerprint}`;
  try {
    if (await deps.clients.allows(clientKey)) return undefined;
    return { detail: `client key ${fingerprint} is not on the allow-list`, toPeer };
  } catch (e) {
    deps.logger.error('allow-list unreadable: refusing the client', { peer, reason: (e as Error).message });
    return { detail: `allow-list unreadable, client refused: ${(e as Error).message}`, toPeer };
  }
}

/**
 * The partial file of an accepted transfer that has none open yet. A new transfer's must not
 * exist: whatever sits under its name (a planted file or link) is refused, never opened or
 * followed. A resume whose file is gone (removed by hand) starts a new one.
 */
export async function openPartialFile(folder: ReceiveFolder, m: Manifest, isResume: boolean): Promise<Result<PartialFile>> {
  const create = !isResume || !(await folder.hasPartial(m.transferId));
  try {
    return ok(await folder.openPartial(m.transferId, create, m.tree?.entries));
  } catch (e) {
    return failureOf(e, 'E_IO');
  }
}
