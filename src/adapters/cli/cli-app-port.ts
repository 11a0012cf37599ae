// What the CLI commands need from the application, implemented by bootstrap. Keeping it an
// interface lets the commands stay ignorant of containers and configuration loading.
import type { BaseContext } from 'clipanion';
import type { MadeIdentityKey } from '../../application/make-identity-key.js';
import type { SendOutcome } from '../../application/send-request.js';
import type { SessionOutcome, StartedTransfer } from '../../application/session-host.js';
import type { AuditEvent, AuditQuery } from '../../domain/ports/audit-log.js';
import type { TransferRecord } from '../../domain/ports/transfer-store.js';
import type { SkippedEntry } from '../../domain/ports/files.js';
import type { Manifest } from '../../domain/transfer/manifest.js';

/** Asks the person at the terminal (or reads stdin) for a password; confirm asks twice. */
export type AskPassword = (prompt: string, options?: { confirm?: boolean }) => Promise<string>;

export interface SendInput {
  readonly host: string;
  readonly port: number | undefined;
  readonly file: string;
  readonly compressionLevel: number | 'auto';
  readonly serverKey: string | undefined;
  /** --identity: a key made by keygen; otherwise ST_IDENTITY_PATH, created on first use. */
  readonly identityPath: string | undefined;
  readonly askPassword: AskPassword;
  readonly onStart: (transferId: string, manifest: Manifest) => void;
  /** A folder's entries that are not sent (links and special files), before onStart. */
  readonly onSkipped: (skipped: readonly SkippedEntry[]) => void;
  /** The receiver's key passed the trust check; port is the one connected to (--port or ST_PORT). */
  readonly onReceiverKey: (fingerprint: string, port: number) => void;
  readonly onProgress: (bytesDone: number, bytesTotal: number, piecesDone: number) => void;
  readonly onTrustNote: (note: string) => void;
}

export interface ResumeInput extends Omit<SendInput, 'compressionLevel'> {
  readonly transferId: string;
  readonly compressionLevel: number | 'auto';
}

export interface ReceiveInput {
  readonly host: string | undefined;
  readonly port: number | undefined;
  readonly outputDir: string | undefined;
  /** --key: the host key (made by keygen); otherwise ST_HOST_KEY_PATH, created on first start. */
  readonly keyPath: string | undefined;
  /** --authorized-keys: overrides ST_AUTHORIZED_KEYS. */
  readonly authorizedKeysPath: string | undefined;
  readonly askPassword: AskPassword;
  /** Each transfer a session accepts. */
  readonly onTransferStarted: (started: StartedTransfer) => void;
  /** Each session's end: a transfer completed or failed, or a connection refused. */
  readonly onSessionEnded: (outcome: SessionOutcome) => void;
}

export interface RunningReceiver {
  readonly address: string;
  readonly fingerprint: string;
  readonly outputDir: string;
  /** Who may send: everyone, or the keys of the allow-list. */
  readonly clientPolicy: string;
  stop(): Promise<void>;
}

export interface KeygenInput {
  readonly outputDir: string;
  /** --password, kept for compatibility; otherwise ST_KEY_PASSWORD or askPassword. */
  readonly password: string | undefined;
  readonly askPassword: AskPassword;
}

export interface CliApp {
  keygen(input: KeygenInput): Promise<MadeIdentityKey>;
  send(input: SendInput): Promise<SendOutcome>;
  resume(input: ResumeInput): Promise<SendOutcome>;
  receive(input: ReceiveInput): Promise<RunningReceiver>;
  transfers(id: string | undefined): Promise<TransferRecord[]>;
  audit(query: AuditQuery): Promise<AuditEvent[]>;
}

export interface CliContext extends BaseContext {
  readonly app: CliApp;
}
