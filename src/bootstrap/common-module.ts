// Bindings both roles share: configuration, clock, crypto, codec, logging and the database.
import { ContainerModule } from 'inversify';
import { NobleCryptoPrimitives } from '../adapters/crypto/noble-crypto-primitives.js';
import { NodeCryptoPrimitives } from '../adapters/crypto/node-crypto-primitives.js';
import { OpenSslAeadCryptoPrimitives } from '../adapters/crypto/openssl-aead-crypto-primitives.js';
import { SystemClock } from '../adapters/clock/system-clock.js';
import { ZstdCodecAdapter } from '../adapters/codec/zstd-codec.js';
import { ZstdNapiCodec } from '../adapters/codec/zstd-napi-codec.js';
import { Log4jsLogger } from '../adapters/logging/log4js-logger.js';
import { LoggedAuditLog } from '../adapters/logging/logged-audit-log.js';
import { openSqliteDataSource } from '../adapters/persistence/typeorm/sqlite-data-source.js';
import { TypeOrmAuditLog } from '../adapters/persistence/typeorm/typeorm-audit-log.js';
import { TypeOrmBanBoard } from '../adapters/persistence/typeorm/typeorm-ban-board.js';
import { TypeOrmReservationBoard } from '../adapters/persistence/typeorm/typeorm-reservation-board.js';
import { PostgresAdvisoryClaims } from '../adapters/persistence/typeorm/postgres-advisory-claims.js';
import { InMemoryTransferClaims } from '../adapters/persistence/memory/in-memory-transfer-claims.js';
import type { TransferClaims } from '../domain/ports/transfer-claims.js';
import { TypeOrmTransferStore } from '../adapters/persistence/typeorm/typeorm-transfer-store.js';
import { TransferStatus } from '../application/transfer-status.js';
import type { CryptoPrimitives } from '../domain/ports/crypto-primitives.js';
import type { Config, CryptoChoice } from './config.js';
import { TOKENS } from './tokens.js';

export interface CommonOptions {
  /** Log lines also go to stderr (the receiver's console). */
  readonly logToConsole: boolean;
}

function cryptoFor(choice: CryptoChoice): CryptoPrimitives {
  switch (choice) {
    case 'openssl':
      return new OpenSslAeadCryptoPrimitives();
    case 'node':
      return new NodeCryptoPrimitives();
    case 'noble':
      return new NobleCryptoPrimitives();
  }
}

export function commonModule(config: Config, options: CommonOptions): ContainerModule {
  return new ContainerModule(({ bind }) => {
    bind(TOKENS.Config).toConstantValue(config);
    bind(TOKENS.Clock).toConstantValue(new SystemClock());
    // Resolved on first use: status and audit never load the native AES-GCM binding.
    bind(TOKENS.Crypto)
      .toResolvedValue(() => cryptoFor(config.crypto))
      .inSingletonScope();
    bind(TOKENS.Codec)
      .toResolvedValue(() => (config.codec === 'codec' ? ZstdCodecAdapter.create() : new ZstdNapiCodec()))
      .inSingletonScope();
    bind(TOKENS.Logger)
      .toResolvedValue(
        () =>
          new Log4jsLogger({
            path: config.logPath,
            level: config.logLevel,
            rotationBytes: config.logRotationBytes,
            retentionMs: config.logRetentionSec * 1000,
            maxFiles: config.logMaxFiles,
            console: options.logToConsole,
          }),
      )
      .inSingletonScope()
      .onDeactivation((logger) => logger.shutdown());
    // The database is the one binding that changes between SQLite and PostgreSQL: the stores on
    // top of it are the same TypeORM adapters, passing the same contract suite.
    // PostgreSQL's client is imported only where it is the store: loading pg (and the fetch
    // machinery its first module touches) cost every SQLite command about 35 ms at start
    // (docs/PERFORMANCE.md#start-up).
    const database = config.database;
    bind(TOKENS.DataSource)
      .toResolvedValue(() =>
        database.kind === 'postgres'
          ? import('../adapters/persistence/typeorm/postgres-data-source.js').then((pg) => pg.openPostgresDataSource(database.url))
          : openSqliteDataSource(config.dbPath),
      )
      .inSingletonScope()
      .onDeactivation(async (ds) => {
        if (ds.isInitialized) await ds.destroy();
      });
    bind(TOKENS.TransferStore)
      .toResolvedValue((ds) => new TypeOrmTransferStore(ds), [TOKENS.DataSource])
      .inSingletonScope();
    bind(TOKENS.BanBoard)
      .toResolvedValue((ds) => new TypeOrmBanBoard(ds), [TOKENS.DataSource])
      .inSingletonScope();
    bind(TOKENS.ReservationBoard)
      .toResolvedValue((ds) => new TypeOrmReservationBoard(ds), [TOKENS.DataSource])
      .inSingletonScope();
    // Claims across receivers need a database they share: PostgreSQL's advisory locks. SQLite is
    // one receiver's database, where claims in memory are the whole truth.
    bind(TOKENS.TransferClaims)
      .toResolvedValue(
        (ds, logger): TransferClaims =>
          config.database.kind === 'postgres'
            ? new PostgresAdvisoryClaims(ds, (ids) =>
                logger.error('the database connection of the transfer claims was lost and another receiver took some of them meanwhile', {
                  transfers: ids.join(','),
                }),
              )
            : new InMemoryTransferClaims(),
        [TOKENS.DataSource, TOKENS.Logger],
      )
      .inSingletonScope()
      .onDeactivation((claims) => claims.close());
    bind(TOKENS.AuditLog)
      .toResolvedValue((ds, logger) => new LoggedAuditLog(new TypeOrmAuditLog(ds), logger), [TOKENS.DataSource, TOKENS.Logger])
      .inSingletonScope();
    bind(TOKENS.TransferStatus).toResolvedValue((store) => new TransferStatus(store), [TOKENS.TransferStore]);
  });
}
