// Bounded growth (docs/defences.md#audit, #partial-files): audit events are pruned by age and
// incomplete transfers expired by their last update, so both are found through an index rather
// than a scan of tables that a flood makes large.
import { TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';

export class RetentionIndexes1764600000000 implements MigrationInterface {
  name = 'RetentionIndexes1764600000000';

  async up(q: QueryRunner): Promise<void> {
    await q.createIndex('audit_events', new TableIndex({ name: 'idx_audit_at', columnNames: ['at'] }));
    await q.createIndex(
      'transfers',
      new TableIndex({ name: 'idx_transfers_role_status_updated', columnNames: ['role', 'status', 'updated_at'] }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropIndex('transfers', 'idx_transfers_role_status_updated');
    await q.dropIndex('audit_events', 'idx_audit_at');
  }
}
