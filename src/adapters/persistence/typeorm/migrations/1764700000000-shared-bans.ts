// Bans shared by the receivers on one database (docs/scaling.md): an append-only board read by
// id, pruned once a ban has ended.
import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';

export class SharedBans1764700000000 implements MigrationInterface {
  name = 'SharedBans1764700000000';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'bans',
        columns: [
          { name: 'id', type: 'integer', isPrimary: true, isGenerated: true, generationStrategy: 'increment' },
          { name: 'source', type: 'varchar', length: '64' },
          { name: 'until', type: 'bigint' },
          { name: 'round', type: 'integer' },
          { name: 'offences', type: 'integer' },
        ],
      }),
    );
    await q.createIndex('bans', new TableIndex({ name: 'idx_bans_until', columnNames: ['until'] }));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('bans');
  }
}
