// The CLI's view of the application, built from the role containers. Each call builds the
// container it needs and disposes it afterwards, closing the database and flushing the log.
import type {
  AskPassword,
  CliApp,
  KeygenInput,
  ReceiveInput,
  ResumeInput,
  RunningReceiver,
  SendInput,
} from '../adapters/cli/cli-app-port.js';
import type { MadeIdentityKey } from '../application/make-identity-key.js';
import type { SendFile } from '../application/send-file.js';
import type { SendFileRequest, SendOutcome } from '../application/send-request.js';
import { fingerprintOf } from '../domain/fingerprint.js';
import type { AuditEvent, AuditQuery } from '../domain/ports/audit-log.js';
import type { TransferRecord } from '../domain/ports/transfer-store.js';
import { loadConfig, type Config } from './config.js';
import { keygenContainer, queryContainer, receiverContainer, senderContainer } from './containers.js';
import { TOKENS } from './tokens.js';

const CONNECT_TIMEOUT_MS = 10_000;

export class BootstrapCliApp implements CliApp {
  constructor(private readonly env: Readonly<Record<string, string | undefined>>) {}

  private config(overrides: Record<string, string | undefined> = {}): Config {
    const defined = Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined));
    return loadConfig({ ...this.env, ...defined });
  }

  /** docs/requirements.md#command-line: a secret from the environment first, else the person at the terminal; never argv. */
  private passwordFromEnv(): string | undefined {
    const fromEnv = this.env['ST_KEY_PASSWORD'];
    return fromEnv === undefined || fromEnv === '' ? undefined : fromEnv;
  }

  private passwordFor(path: string, ask: AskPassword): () => Promise<string> {
    const fromEnv = this.passwordFromEnv();
    return fromEnv === undefined ? () => ask(`password for ${path}: `) : () => Promise.resolve(fromEnv);
  }

  async keygen(input: KeygenInput): Promise<MadeIdentityKey> {
    const role = await keygenContainer(this.config(), input.outputDir);
    try {
      // --password (compatibility) wins over the environment, which wins over asking twice.
      const password =
        input.password ?? this.passwordFromEnv() ?? (await input.askPassword('password for the new key: ', { confirm: true }));
      return await (await role.container.getAsync(TOKENS.MakeIdentityKey)).execute(password);
    } finally {
      await role.dispose();
    }
  }

  async send(input: SendInput): Promise<SendOutcome> {
    return this.withSender(input, (sendFile, request) => sendFile.execute(request));
  }

  async resume(input: ResumeInput): Promise<SendOutcome> {
    return this.withSender(input, (sendFile, request) => sendFile.resume({ ...request, transferId: input.transferId }));
  }

  private async withSender(
    input: SendInput,
    run: (sendFile: SendFile, request: SendFileRequest) => Promise<SendOutcome>,
  ): Promise<SendOutcome> {
    const config = this.config();
    const identityPath = input.identityPath ?? config.identityPath;
    const role = await senderContainer(config, {
      expectedServerFingerprint: input.serverKey,
      identityPath: input.identityPath,
      password: this.passwordFor(identityPath, input.askPassword),
    });
    try {
      const sendFile = await role.container.getAsync(TOKENS.SendFile);
      const port = input.port ?? config.port;
      return await run(sendFile, {
        host: input.host,
        port,
        filePath: input.file,
        compressionLevel: input.compressionLevel,
        connectTimeoutMs: CONNECT_TIMEOUT_MS,
        idleTimeoutMs: config.idleTimeoutSec * 1000,
        onStart: input.onStart,
        onSkipped: input.onSkipped,
        onProgress: input.onProgress,
        onReceiverKey: (fingerprint) => input.onReceiverKey(fingerprint, port),
        onTrustNote: input.onTrustNote,
      });
    } finally {
      await role.dispose();
    }
  }

  async receive(input: ReceiveInput): Promise<RunningReceiver> {
    const config = this.config({
      ST_HOST: input.host,
      ST_PORT: input.port === undefined ? undefined : String(input.port),
      ST_OUTPUT_DIR: input.outputDir,
      ST_AUTHORIZED_KEYS: input.authorizedKeysPath,
    });
    const role = await receiverContainer(config, {
      keyPath: input.keyPath,
      password: this.passwordFor(input.keyPath ?? config.hostKeyPath, input.askPassword),
      onSession: input.onSessionEnded,
      onTransferStarted: input.onTransferStarted,
    });
    try {
      const server = await role.container.getAsync(TOKENS.ReceiveServer);
      const crypto = await role.container.getAsync(TOKENS.Crypto);
      const hostKey = await role.container.getAsync(TOKENS.HostKey);
      const clients = await role.container.getAsync(TOKENS.ClientAuthorization);
      const listener = await server.start();
      return {
        address: `${listener.host}:${listener.port}`,
        fingerprint: fingerprintOf(hostKey.publicKey, crypto.sha256),
        outputDir: config.outputDir,
        clientPolicy: clients.describe(),
        stop: async () => {
          await server.stop();
          await role.dispose();
        },
      };
    } catch (e) {
      await role.dispose();
      throw e;
    }
  }

  async transfers(id: string | undefined): Promise<TransferRecord[]> {
    const role = await queryContainer(this.config());
    try {
      const status = await role.container.getAsync(TOKENS.TransferStatus);
      return id === undefined ? await status.all() : await status.byId(id);
    } finally {
      await role.dispose();
    }
  }

  async audit(query: AuditQuery): Promise<AuditEvent[]> {
    const role = await queryContainer(this.config());
    try {
      const audit = await role.container.getAsync(TOKENS.AuditLog);
      return await audit.query(query);
    } finally {
      await role.dispose();
    }
  }
}
