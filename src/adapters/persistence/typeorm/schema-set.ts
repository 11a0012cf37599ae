// The entities and migrations every TypeORM database adapter opens with: one list, so SQLite and
// PostgreSQL can never drift apart.
import { InitialSchema1764400000000 } from './migrations/1764400000000-initial-schema.js';
import { ResumeColumns1764500000000 } from './migrations/1764500000000-resume-columns.js';
import { RetentionIndexes1764600000000 } from './migrations/1764600000000-retention-indexes.js';
import { AuditSchema, PieceSchema, TransferSchema } from './schemas.js';

export const entities = [TransferSchema, PieceSchema, AuditSchema];
export const migrations = [InitialSchema1764400000000, ResumeColumns1764500000000, RetentionIndexes1764600000000];
