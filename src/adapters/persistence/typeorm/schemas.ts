// TypeORM mapping with EntitySchema: the domain records stay plain objects, free of decorators.
// Column types are ones SQLite and PostgreSQL both have; 64-bit numbers use bigint, which
// PostgreSQL drivers return as strings, so a transformer turns them back into numbers.
import { EntitySchema, type ValueTransformer } from 'typeorm';
import type { AuditEvent } from '../../../domain/ports/audit-log.js';
import type { TransferRecord } from '../../../domain/ports/transfer-store.js';

const bigintNumber: ValueTransformer = {
  to: (value: number | null | undefined) => value,
  from: (value: string | number | null) => (value === null || value === undefined ? value : Number(value)),
};

/** Bytes as base64 text: one column type that SQLite and PostgreSQL both have. */
const base64Bytes: ValueTransformer = {
  to: (value: Uint8Array | null | undefined) =>
    value ? Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64') : value,
  from: (value: string | null) => (typeof value === 'string' ? new Uint8Array(Buffer.from(value, 'base64')) : value),
};

export interface PieceRow {
  transferId: string;
  role: string;
  index: number;
  /** SHA-256 as hex: portable across databases and readable in a SQL shell. */
  hash: string;
}

export interface AuditRow extends Omit<AuditEvent, 'peerAddress' | 'transferId' | 'peerFingerprint' | 'code' | 'detail'> {
  id?: number;
  peerAddress: string | null;
  transferId: string | null;
  peerFingerprint: string | null;
  code: string | null;
  detail: string | null;
}

export const TransferSchema = new EntitySchema<TransferRecord>({
  name: 'Transfer',
  tableName: 'transfers',
  columns: {
    id: { type: 'varchar', length: 36, primary: true },
    role: { type: 'varchar', length: 8, primary: true },
    fileName: { name: 'file_name', type: 'varchar', length: 1024 },
    localPath: { name: 'local_path', type: 'varchar', length: 4096 },
    fileSize: { name: 'file_size', type: 'bigint', transformer: bigintNumber },
    pieceSize: { name: 'piece_size', type: 'integer' },
    pieceCount: { name: 'piece_count', type: 'integer' },
    compression: { type: 'varchar', length: 16 },
    status: { type: 'varchar', length: 16 },
    piecesDone: { name: 'pieces_done', type: 'integer' },
    bytesDone: { name: 'bytes_done', type: 'bigint', transformer: bigintNumber },
    wireBytes: { name: 'wire_bytes', type: 'bigint', transformer: bigintNumber },
    peerAddress: { name: 'peer_address', type: 'varchar', length: 300 },
    peerFingerprint: { name: 'peer_fingerprint', type: 'varchar', length: 100, nullable: true },
    createdAt: { name: 'created_at', type: 'bigint', transformer: bigintNumber },
    updatedAt: { name: 'updated_at', type: 'bigint', transformer: bigintNumber },
    completedAt: { name: 'completed_at', type: 'bigint', nullable: true, transformer: bigintNumber },
    errorCode: { name: 'error_code', type: 'varchar', length: 40, nullable: true },
    errorDetail: { name: 'error_detail', type: 'varchar', length: 2000, nullable: true },
    sourceModifiedAt: { name: 'source_modified_at', type: 'bigint', nullable: true, transformer: bigintNumber },
    attempts: { type: 'integer', default: 1 },
    entryCount: { name: 'entry_count', type: 'integer', default: 0 },
    entryList: { name: 'entry_list', type: 'text', nullable: true, transformer: base64Bytes },
    entryListHash: { name: 'entry_list_hash', type: 'varchar', length: 64, nullable: true },
    skippedCount: { name: 'skipped_count', type: 'integer', default: 0 },
    skippedSample: { name: 'skipped_sample', type: 'text', nullable: true },
  },
});

export const PieceSchema = new EntitySchema<PieceRow>({
  name: 'Piece',
  tableName: 'pieces',
  columns: {
    transferId: { name: 'transfer_id', type: 'varchar', length: 36, primary: true },
    role: { type: 'varchar', length: 8, primary: true },
    index: { name: 'piece_index', type: 'integer', primary: true },
    hash: { type: 'varchar', length: 64 },
  },
});

export const AuditSchema = new EntitySchema<AuditRow>({
  name: 'AuditEvent',
  tableName: 'audit_events',
  columns: {
    id: { type: 'integer', primary: true, generated: 'increment' },
    type: { type: 'varchar', length: 40 },
    at: { type: 'bigint', transformer: bigintNumber },
    peerAddress: { name: 'peer_address', type: 'varchar', length: 300, nullable: true },
    transferId: { name: 'transfer_id', type: 'varchar', length: 36, nullable: true },
    peerFingerprint: { name: 'peer_fingerprint', type: 'varchar', length: 100, nullable: true },
    code: { type: 'varchar', length: 40, nullable: true },
    detail: { type: 'varchar', length: 2000, nullable: true },
  },
});

export interface BanRow {
  id?: number;
  source: string;
  until: number;
  round: number;
  offences: number;
}

export const BanSchema = new EntitySchema<BanRow>({
  name: 'Ban',
  tableName: 'bans',
  columns: {
    id: { type: 'integer', primary: true, generated: 'increment' },
    source: { type: 'varchar', length: 64 },
    until: { type: 'bigint', transformer: bigintNumber },
    round: { type: 'integer' },
    offences: { type: 'integer' },
  },
});

export interface OffenceReportRow {
  id?: number;
  source: string;
  count: number;
  reporter: string;
  at: number;
}

export const OffenceReportSchema = new EntitySchema<OffenceReportRow>({
  name: 'OffenceReport',
  tableName: 'offence_reports',
  columns: {
    // bigint on PostgreSQL (see its migration): read back as a number.
    id: { type: 'integer', primary: true, generated: 'increment', transformer: bigintNumber },
    source: { type: 'varchar', length: 64 },
    count: { type: 'integer' },
    reporter: { type: 'varchar', length: 36 },
    at: { type: 'bigint', transformer: bigintNumber },
  },
});

export interface ReservationRow {
  folderId: string;
  receiver: string;
  bytes: number;
  at: number;
}

export const ReservationSchema = new EntitySchema<ReservationRow>({
  name: 'Reservation',
  tableName: 'disk_reservations',
  columns: {
    folderId: { name: 'folder_id', type: 'varchar', length: 36, primary: true },
    receiver: { type: 'varchar', length: 36, primary: true },
    bytes: { type: 'bigint', transformer: bigintNumber },
    at: { type: 'bigint', transformer: bigintNumber },
  },
});
