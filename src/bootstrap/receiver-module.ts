import { ContainerModule } from 'inversify';
import { KeyFileIdentityStore } from '../adapters/filesystem/key-file-identity-store.js';
import { NodeReceiveFolder } from '../adapters/filesystem/node-receive-folder.js';
import { TcpTransport } from '../adapters/tcp/tcp-transport.js';
import { ReceiveServer } from '../application/receive-server.js';
import type { SessionOutcome } from '../application/receive-session.js';
import type { Config } from './config.js';
import { TOKENS } from './tokens.js';

export interface ReceiverOptions {
  readonly onSession?: (outcome: SessionOutcome) => void;
}

export function receiverModule(config: Config, options: ReceiverOptions): ContainerModule {
  return new ContainerModule(({ bind }) => {
    bind(TOKENS.Transport).toConstantValue(new TcpTransport());
    bind(TOKENS.ReceiveFolder).toConstantValue(new NodeReceiveFolder(config.outputDir));
    bind(TOKENS.IdentityStore).toResolvedValue((crypto) => new KeyFileIdentityStore(config.hostKeyPath, crypto), [TOKENS.Crypto]);
    bind(TOKENS.HostKey)
      .toResolvedValue(async (store) => (await store.loadOrCreate()).keyPair, [TOKENS.IdentityStore])
      .inSingletonScope();
    bind(TOKENS.ReceiveServer)
      .toResolvedValue(
        (transport, crypto, codec, clock, store, audit, folder, logger, identity) =>
          new ReceiveServer(
            transport,
            { crypto, codec, clock, store, audit, folder, logger, identity },
            {
              host: config.host,
              port: config.port,
              maxConcurrentPerIp: config.maxConcurrentPerIp,
              maxTransferSize: config.maxTransferSize,
              maxPayloadSize: config.maxPayloadSize,
              handshakeTimeoutMs: config.handshakeTimeoutSec * 1000,
              idleTimeoutMs: config.idleTimeoutSec * 1000,
            },
            options.onSession,
          ),
        [TOKENS.Transport, TOKENS.Crypto, TOKENS.Codec, TOKENS.Clock, TOKENS.TransferStore, TOKENS.AuditLog, TOKENS.ReceiveFolder, TOKENS.Logger, TOKENS.HostKey],
      )
      .inSingletonScope();
  });
}
