// What a resume needs to know. The sender keeps its source's modification time (a
// changed source is refused) and each side counts the attempts. Existing rows get one attempt
// and no recorded time (a resume of such a transfer relies on the held-piece hashes alone).
import { TableColumn, type MigrationInterface, type QueryRunner } from 'typeorm';

export class ResumeColumns1764500000000 implements MigrationInterface {
  name = 'ResumeColumns1764500000000';

  async up(q: QueryRunner): Promise<void> {
    await q.addColumns('transfers', [
      new TableColumn({ name: 'source_modified_at', type: 'bigint', isNullable: true }),
      new TableColumn({ name: 'attempts', type: 'integer', default: 1 }),
    ]);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropColumn('transfers', 'attempts');
    await q.dropColumn('transfers', 'source_modified_at');
  }
}
