// Service identifiers: the only vocabulary the container knows. Symbols, typed by ServiceIdentifier.
import type { ServiceIdentifier } from 'inversify';
import type { DataSource } from 'typeorm';
import type { ClientAuthorization } from '../domain/ports/client-authorization.js';
import type { MakeIdentityKey } from '../application/make-identity-key.js';
import type { ReceiveServer } from '../application/receive-server.js';
import type { SendFile } from '../application/send-file.js';
import type { ServerTrust } from '../domain/ports/server-trust.js';
import type { TransferStatus } from '../application/transfer-status.js';
import type { AuditLog } from '../domain/ports/audit-log.js';
import type { BanBoard } from '../domain/ports/ban-board.js';
import type { ReservationBoard } from '../domain/ports/reservation-board.js';
import type { TransferClaims } from '../domain/ports/transfer-claims.js';
import type { Clock } from '../domain/ports/clock.js';
import type { Codec } from '../domain/ports/codec.js';
import type { CryptoPrimitives, KeyPair } from '../domain/ports/crypto-primitives.js';
import type { ReceiveFolder, SourceFiles } from '../domain/ports/files.js';
import type { IdentityStore } from '../domain/ports/identity-store.js';
import type { Logger } from '../domain/ports/logger.js';
import type { TransferStore } from '../domain/ports/transfer-store.js';
import type { Transport } from '../domain/ports/transport.js';
import type { Config } from './config.js';

const token = <T>(name: string): ServiceIdentifier<T> => Symbol.for(`securetransfer.${name}`);

export const TOKENS = {
  Config: token<Config>('Config'),
  Clock: token<Clock>('Clock'),
  Crypto: token<CryptoPrimitives>('Crypto'),
  Codec: token<Codec>('Codec'),
  Logger: token<Logger>('Logger'),
  DataSource: token<DataSource>('DataSource'),
  TransferStore: token<TransferStore>('TransferStore'),
  BanBoard: token<BanBoard>('BanBoard'),
  ReservationBoard: token<ReservationBoard>('ReservationBoard'),
  TransferClaims: token<TransferClaims>('TransferClaims'),
  AuditLog: token<AuditLog>('AuditLog'),
  Transport: token<Transport>('Transport'),
  SourceFiles: token<SourceFiles>('SourceFiles'),
  ReceiveFolder: token<ReceiveFolder>('ReceiveFolder'),
  IdentityStore: token<IdentityStore>('IdentityStore'),
  HostKey: token<KeyPair>('HostKey'),
  ServerTrust: token<ServerTrust>('ServerTrust'),
  ClientAuthorization: token<ClientAuthorization>('ClientAuthorization'),
  MakeIdentityKey: token<MakeIdentityKey>('MakeIdentityKey'),
  SendFile: token<SendFile>('SendFile'),
  ReceiveServer: token<ReceiveServer>('ReceiveServer'),
  TransferStatus: token<TransferStatus>('TransferStatus'),
} as const;
