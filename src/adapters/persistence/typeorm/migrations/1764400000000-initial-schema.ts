// Schema changes go through migrations, never synchronize (docs/requirements.md#durability). Built with TypeORM's Table
// API rather than SQL text so the same migration serves SQLite and PostgreSQL.
import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';

export class InitialSchema1764400000000 implements MigrationInterface {
  name = 'InitialSchema1764400000000';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'transfers',
        columns: [
          { name: 'id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'role', type: 'varchar', length: '8', isPrimary: true },
          { name: 'file_name', type: 'varchar', length: '1024' },
          { name: 'local_path', type: 'varchar', length: '4096' },
          { name: 'file_size', type: 'bigint' },
          { name: 'piece_size', type: 'integer' },
          { name: 'piece_count', type: 'integer' },
          { name: 'compression', type: 'varchar', length: '16' },
          { name: 'status', type: 'varchar', length: '16' },
          { name: 'pieces_done', type: 'integer' },
          { name: 'bytes_done', type: 'bigint' },
          { name: 'wire_bytes', type: 'bigint' },
          { name: 'peer_address', type: 'varchar', length: '300' },
          { name: 'peer_fingerprint', type: 'varchar', length: '100', isNullable: true },
          { name: 'created_at', type: 'bigint' },
          { name: 'updated_at', type: 'bigint' },
          { name: 'completed_at', type: 'bigint', isNullable: true },
          { name: 'error_code', type: 'varchar', length: '40', isNullable: true },
          { name: 'error_detail', type: 'varchar', length: '2000', isNullable: true },
        ],
      }),
    );
    await q.createTable(
      new Table({
        name: 'pieces',
        columns: [
          { name: 'transfer_id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'role', type: 'varchar', length: '8', isPrimary: true },
          { name: 'piece_index', type: 'integer', isPrimary: true },
          { name: 'hash', type: 'varchar', length: '64' },
        ],
      }),
    );
    await q.createTable(
      new Table({
        name: 'audit_events',
        columns: [
          { name: 'id', type: 'integer', isPrimary: true, isGenerated: true, generationStrategy: 'increment' },
          { name: 'type', type: 'varchar', length: '40' },
          { name: 'at', type: 'bigint' },
          { name: 'peer_address', type: 'varchar', length: '300', isNullable: true },
          { name: 'transfer_id', type: 'varchar', length: '36', isNullable: true },
          { name: 'peer_fingerprint', type: 'varchar', length: '100', isNullable: true },
          { name: 'code', type: 'varchar', length: '40', isNullable: true },
          { name: 'detail', type: 'varchar', length: '2000', isNullable: true },
        ],
      }),
    );
    await q.createIndex('transfers', new TableIndex({ name: 'idx_transfers_created', columnNames: ['created_at'] }));
    await q.createIndex('audit_events', new TableIndex({ name: 'idx_audit_transfer', columnNames: ['transfer_id'] }));
    await q.createIndex('audit_events', new TableIndex({ name: 'idx_audit_peer', columnNames: ['peer_address'] }));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('audit_events');
    await q.dropTable('pieces');
    await q.dropTable('transfers');
  }
}
