// What the CLI commands need from the application, implemented by bootstrap. Keeping it an
// interface lets the commands stay ignorant of containers and configuration loading.
import type { BaseContext } from 'clipanion';
import type { SendOutcome } from '../../application/send-file.js';
import type { AuditEvent } from '../../domain/ports/audit-log.js';
import type { TransferRecord } from '../../domain/ports/transfer-store.js';
import type { Manifest } from '../../domain/transfer/manifest.js';

export interface SendInput {
  readonly host: string;
  readonly port: number | undefined;
  readonly file: string;
  readonly compressionLevel: number;
  readonly serverKey: string | undefined;
  readonly onStart: (transferId: string, manifest: Manifest) => void;
  readonly onProgress: (bytesDone: number, bytesTotal: number) => void;
  readonly onTrustNote: (note: string) => void;
}

export interface ReceiveInput {
  readonly host: string | undefined;
  readonly port: number | undefined;
  readonly outputDir: string | undefined;
  readonly onLine: (line: string) => void;
}

export interface RunningReceiver {
  readonly address: string;
  readonly fingerprint: string;
  readonly outputDir: string;
  stop(): Promise<void>;
}

export interface CliApp {
  send(input: SendInput): Promise<SendOutcome>;
  receive(input: ReceiveInput): Promise<RunningReceiver>;
  transfers(id: string | undefined): Promise<TransferRecord[]>;
  audit(filter: { transferId?: string; peerAddress?: string }): Promise<AuditEvent[]>;
}

export interface CliContext extends BaseContext {
  readonly app: CliApp;
}
