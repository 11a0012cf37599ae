// Offences and disk reservations shared by the receivers on one database (docs/scaling.md):
// offence reports are append-only, read by id and pruned by age; reservations are one row per
// receiver and output folder, refreshed as a heartbeat.
import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';

export class SharedOffencesAndSpace1764800000000 implements MigrationInterface {
  name = 'SharedOffencesAndSpace1764800000000';

  async up(q: QueryRunner): Promise<void> {
    // A flood writes reports fast: 64-bit ids on PostgreSQL (SQLite's integer key is 64 bits already).
    const idType = q.connection.driver.options.type === 'postgres' ? 'bigint' : 'integer';
    await q.createTable(
      new Table({
        name: 'offence_reports',
        columns: [
          { name: 'id', type: idType, isPrimary: true, isGenerated: true, generationStrategy: 'increment' },
          { name: 'source', type: 'varchar', length: '64' },
          { name: 'count', type: 'integer' },
          { name: 'reporter', type: 'varchar', length: '36' },
          { name: 'at', type: 'bigint' },
        ],
      }),
    );
    await q.createIndex('offence_reports', new TableIndex({ name: 'idx_offence_reports_at', columnNames: ['at'] }));
    await q.createTable(
      new Table({
        name: 'disk_reservations',
        columns: [
          { name: 'folder_id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'receiver', type: 'varchar', length: '36', isPrimary: true },
          { name: 'bytes', type: 'bigint' },
          { name: 'at', type: 'bigint' },
        ],
      }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('disk_reservations');
    await q.dropTable('offence_reports');
  }
}
