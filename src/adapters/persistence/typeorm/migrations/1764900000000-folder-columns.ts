// Folders (docs/folders.md): each side keeps the hash of the entry list a resume must repeat,
// with its count; the sender also the list itself and what it skipped. Existing rows are single
// files: no entries.
import { TableColumn, type MigrationInterface, type QueryRunner } from 'typeorm';

export class FolderColumns1764900000000 implements MigrationInterface {
  name = 'FolderColumns1764900000000';

  async up(q: QueryRunner): Promise<void> {
    await q.addColumns('transfers', [
      new TableColumn({ name: 'entry_count', type: 'integer', default: 0 }),
      new TableColumn({ name: 'entry_list', type: 'text', isNullable: true }),
      new TableColumn({ name: 'entry_list_hash', type: 'varchar', length: '64', isNullable: true }),
      new TableColumn({ name: 'skipped_count', type: 'integer', default: 0 }),
      new TableColumn({ name: 'skipped_sample', type: 'text', isNullable: true }),
    ]);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const column of ['skipped_sample', 'skipped_count', 'entry_list_hash', 'entry_list', 'entry_count'])
      await q.dropColumn('transfers', column);
  }
}
