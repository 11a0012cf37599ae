import { availableParallelism } from 'node:os';
import { ContainerModule } from 'inversify';
import { WorkerPieceCompressor } from '../adapters/codec/worker-piece-compressor.js';
import { KeyFileIdentityStore } from '../adapters/filesystem/key-file-identity-store.js';
import { NodeSourceFiles } from '../adapters/filesystem/node-source-files.js';
import { TcpTransport } from '../adapters/tcp/tcp-transport.js';
import { KnownHostsServerTrust } from '../adapters/trust/known-hosts-server-trust.js';
import { SendFile } from '../application/send-file.js';
import type { Config } from './config.js';
import { TOKENS } from './tokens.js';

export interface SenderOptions {
  /** --server-key: the receiver's fingerprint, checked before the known-hosts file. */
  readonly expectedServerFingerprint?: string | undefined;
  /** --identity: a key the user named, which must exist; otherwise the default, made on first use. */
  readonly identityPath?: string | undefined;
  /** Supplies the password of a sealed key. */
  readonly password?: (() => Promise<string>) | undefined;
}

export function senderModule(config: Config, options: SenderOptions): ContainerModule {
  return new ContainerModule(({ bind }) => {
    bind(TOKENS.Transport).toConstantValue(new TcpTransport());
    bind(TOKENS.SourceFiles).toConstantValue(new NodeSourceFiles());
    bind(TOKENS.IdentityStore).toResolvedValue(
      (crypto) =>
        new KeyFileIdentityStore(options.identityPath ?? config.identityPath, crypto, {
          createIfMissing: options.identityPath === undefined,
          password: options.password,
        }),
      [TOKENS.Crypto],
    );
    bind(TOKENS.ServerTrust).toResolvedValue(
      (crypto) => new KnownHostsServerTrust(config.knownHostsPath, crypto, options.expectedServerFingerprint),
      [TOKENS.Crypto],
    );
    // Compression moves to threads where there are cores beside the one that hashes and seals,
    // and the native codec (the WebAssembly one stays inline: it is the fallback, not the fast
    // path). Four threads at most: beyond that the network or the receiver is the limit.
    const cores = availableParallelism();
    const compressor = config.codec === 'napi' && cores > 1 ? new WorkerPieceCompressor(Math.min(4, cores - 1)) : undefined;
    bind(TOKENS.SendFile)
      .toResolvedValue(
        (transport, crypto, codec, clock, store, files, identity, trust, logger) =>
          new SendFile({ transport, crypto, codec, compressor, clock, store, files, identity, trust, logger }),
        [
          TOKENS.Transport,
          TOKENS.Crypto,
          TOKENS.Codec,
          TOKENS.Clock,
          TOKENS.TransferStore,
          TOKENS.SourceFiles,
          TOKENS.IdentityStore,
          TOKENS.ServerTrust,
          TOKENS.Logger,
        ],
      )
      .inSingletonScope()
      .onDeactivation(() => compressor?.close());
  });
}
