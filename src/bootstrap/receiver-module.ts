import { randomUUID } from 'node:crypto';
import { BlockList, isIP } from 'node:net';
import { ContainerModule } from 'inversify';
import { KeyFileIdentityStore } from '../adapters/filesystem/key-file-identity-store.js';
import { NodeReceiveFolder } from '../adapters/filesystem/node-receive-folder.js';
import { TcpTransport } from '../adapters/tcp/tcp-transport.js';
import { AuthorizedKeysFile } from '../adapters/trust/authorized-keys-file.js';
import { anyClientKey } from '../adapters/trust/any-client-key.js';
import { ReceiveServer } from '../application/receive-server.js';
import type { SessionOutcome, StartedTransfer } from '../application/session-host.js';
import type { Config } from './config.js';
import { TOKENS } from './tokens.js';

export interface ReceiverOptions {
  readonly onSession?: (outcome: SessionOutcome) => void;
  readonly onTransferStarted?: (started: StartedTransfer) => void;
  /** --key: a host key the user named, which must exist; otherwise ST_HOST_KEY_PATH, made on first start. */
  readonly keyPath?: string | undefined;
  /** Supplies the password of a sealed host key. */
  readonly password?: (() => Promise<string>) | undefined;
}

/** Whether an address is one of the listed addresses or inside one of the listed blocks. */
function trustedAddresses(list: readonly string[]): (address: string) => boolean {
  const blocks = new BlockList();
  for (const item of list) {
    const [address = '', bits] = item.split('/');
    const family = isIP(address) === 6 ? 'ipv6' : 'ipv4';
    if (bits === undefined) blocks.addAddress(address, family);
    else blocks.addSubnet(address, Number(bits), family);
  }
  return (address) => {
    const bare = address.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, '');
    return blocks.check(bare, isIP(bare) === 6 ? 'ipv6' : 'ipv4');
  };
}

export function receiverModule(config: Config, options: ReceiverOptions): ContainerModule {
  return new ContainerModule(({ bind }) => {
    bind(TOKENS.Transport).toConstantValue(new TcpTransport());
    bind(TOKENS.ReceiveFolder).toConstantValue(new NodeReceiveFolder(config.outputDir, { directWrites: config.directIo }));
    bind(TOKENS.IdentityStore).toResolvedValue(
      (crypto) =>
        new KeyFileIdentityStore(options.keyPath ?? config.hostKeyPath, crypto, {
          createIfMissing: options.keyPath === undefined,
          password: options.password,
        }),
      [TOKENS.Crypto],
    );
    bind(TOKENS.HostKey)
      .toResolvedValue(async (store) => (await store.loadOrCreate()).keyPair, [TOKENS.IdentityStore])
      .inSingletonScope()
      // docs/requirements.md#keys: the private key does not outlive the server.
      .onDeactivation((keyPair) => {
        keyPair.privateKey.fill(0);
      });
    bind(TOKENS.ClientAuthorization)
      .toResolvedValue(
        async (crypto) => {
          if (config.authorizedKeysPath === undefined) return anyClientKey;
          const file = new AuthorizedKeysFile(config.authorizedKeysPath, crypto);
          await file.load(); // a broken allow-list stops the start, naming the line
          return file;
        },
        [TOKENS.Crypto],
      )
      .inSingletonScope();
    bind(TOKENS.ReceiveServer)
      .toResolvedValue(
        (transport, crypto, codec, clock, store, audit, folder, logger, identity, clients, banBoard, claims, reservations) =>
          new ReceiveServer(
            transport,
            {
              crypto,
              codec,
              clock,
              store,
              audit,
              folder,
              logger,
              identity,
              clients,
              banBoard,
              claims,
              // Receivers that share a folder share a PostgreSQL database; SQLite is one receiver's.
              reservations: config.database.kind === 'postgres' ? reservations : undefined,
              onTransferStarted: options.onTransferStarted,
            },
            {
              host: config.host,
              port: config.port,
              maxConcurrentPerIp: config.maxConcurrentPerIp,
              maxHandshakesPerIp: config.maxHandshakesPerIp,
              startups: config.startups,
              ban: {
                threshold: config.banThreshold,
                windowMs: config.banWindowSec * 1000,
                banMs: config.banDurationSec * 1000,
                maxBanMs: config.maxBanDurationSec * 1000,
              },
              capacity: {
                minFreeSpace: config.minFreeSpace,
                maxTransfers: config.maxSessions,
                maxTransfersPerKey: config.maxTransfersPerKey,
              },
              maxReceiveMemory: config.maxReceiveMemory,
              partialRetentionMs: config.partialRetentionSec * 1000,
              auditRetentionMs: config.auditRetentionSec * 1000,
              random: Math.random,
              receiverId: randomUUID(),
              proxy: config.proxyProtocol === 'v2' ? { trusted: trustedAddresses(config.trustedProxies) } : undefined,
              maxTransferSize: config.maxTransferSize,
              maxFiles: config.maxFiles,
              maxPayloadSize: config.maxPayloadSize,
              handshakeTimeoutMs: config.handshakeTimeoutSec * 1000,
              idleTimeoutMs: config.idleTimeoutSec * 1000,
              rateLimitBytesPerSec: config.rateLimitBytesPerSec,
              progress: { intervalMs: config.progressIntervalSec * 1000, minBytes: config.minProgressBytes },
            },
            options.onSession,
          ),
        [
          TOKENS.Transport,
          TOKENS.Crypto,
          TOKENS.Codec,
          TOKENS.Clock,
          TOKENS.TransferStore,
          TOKENS.AuditLog,
          TOKENS.ReceiveFolder,
          TOKENS.Logger,
          TOKENS.HostKey,
          TOKENS.ClientAuthorization,
          TOKENS.BanBoard,
          TOKENS.TransferClaims,
          TOKENS.ReservationBoard,
        ],
      )
      .inSingletonScope();
  });
}
