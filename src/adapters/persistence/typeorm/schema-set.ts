// The entities and migrations every TypeORM database adapter opens with: one list, so SQLite and
// PostgreSQL can never drift apart.
import { InitialSchema1764400000000 } from './migrations/1764400000000-initial-schema.js';
import { ResumeColumns1764500000000 } from './migrations/1764500000000-resume-columns.js';
import { RetentionIndexes1764600000000 } from './migrations/1764600000000-retention-indexes.js';
import { SharedBans1764700000000 } from './migrations/1764700000000-shared-bans.js';
import { SharedOffencesAndSpace1764800000000 } from './migrations/1764800000000-shared-offences-and-space.js';
import { FolderColumns1764900000000 } from './migrations/1764900000000-folder-columns.js';
import { AuditSchema, BanSchema, OffenceReportSchema, PieceSchema, ReservationSchema, TransferSchema } from './schemas.js';

export const entities = [TransferSchema, PieceSchema, AuditSchema, BanSchema, OffenceReportSchema, ReservationSchema];
export const migrations = [
  InitialSchema1764400000000,
  ResumeColumns1764500000000,
  RetentionIndexes1764600000000,
  SharedBans1764700000000,
  SharedOffencesAndSpace1764800000000,
  FolderColumns1764900000000,
];
