// Configuration from environment variables with sane defaults, validated at start (README
// "Configuration"; the defences in docs/defences.md).
// Every problem is reported at once, each naming the variable, the value and the rule.
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { SecureTransferError } from '../domain/errors.js';
import type { StartupRules } from '../domain/policy/startup-throttle.js';
import { DEFAULT_MAX_FILES } from '../domain/limits.js';
import {
  atLeast,
  nonEmpty,
  oneOf,
  parseAddressList,
  parseDatabase,
  parseDuration,
  parseInteger,
  parseSize,
  parseStartups,
  type Parsed,
} from './config-values.js';

export type CryptoChoice = 'openssl' | 'node' | 'noble';
export type CodecChoice = 'napi' | 'codec';

export interface Config {
  readonly host: string;
  readonly port: number;
  readonly maxTransferSize: number;
  /** ST_MAX_FILES: entries (files and folders) of one folder transfer. */
  readonly maxFiles: number;
  readonly maxPayloadSize: number;
  readonly maxConcurrentPerIp: number;
  /** 0 means unlimited. */
  readonly rateLimitBytesPerSec: number;
  readonly banThreshold: number;
  readonly banWindowSec: number;
  readonly banDurationSec: number;
  /** The longest ban a repeat offender gets (bans double each time up to it). */
  readonly maxBanDurationSec: number;
  /** ST_MAX_STARTUPS: handshakes in progress, start:rate:full like OpenSSH's MaxStartups. */
  readonly startups: StartupRules;
  readonly maxHandshakesPerIp: number;
  /** Transfers in progress at once, in total and per sender key. */
  readonly maxSessions: number;
  readonly maxTransfersPerKey: number;
  /** Bytes of the output folder's file system never promised to a transfer. */
  readonly minFreeSpace: number;
  /** Piece buffers and per-piece state of all sessions together. */
  readonly maxReceiveMemory: number;
  /** After ACCEPT a session must move minProgressBytes every progressIntervalSec. */
  readonly minProgressBytes: number;
  readonly progressIntervalSec: number;
  readonly partialRetentionSec: number;
  readonly auditRetentionSec: number;
  readonly logMaxFiles: number;
  /** ST_PROXY_PROTOCOL=v2 with ST_TRUSTED_PROXIES: clients arrive through a balancer (docs/scaling.md). */
  readonly proxyProtocol: 'off' | 'v2';
  /** IP addresses and CIDR blocks (203.0.113.0/24, 2001:db8::/32) allowed to send a PROXY header. */
  readonly trustedProxies: readonly string[];
  readonly logPath: string;
  readonly logLevel: string;
  readonly logRotationBytes: number;
  readonly logRetentionSec: number;
  readonly dbPath: string;
  /**
   * DB_URL: PostgreSQL instead of SQLite. A postgres:// URL, or 'postgres' alone to take the
   * connection from the libpq variables (PGHOST, PGUSER, ...); undefined keeps SQLite at dbPath.
   */
  readonly database: { readonly kind: 'sqlite' } | { readonly kind: 'postgres'; readonly url: string | undefined };
  readonly outputDir: string;
  readonly handshakeTimeoutSec: number;
  readonly idleTimeoutSec: number;
  readonly hostKeyPath: string;
  readonly identityPath: string;
  readonly knownHostsPath: string;
  /** ST_AUTHORIZED_KEYS: the receiver's allow-list of sender keys; undefined accepts any key. */
  readonly authorizedKeysPath: string | undefined;
  readonly crypto: CryptoChoice;
  /** zstd through zstd-napi (native, the fast default) or zstd-codec (WebAssembly). */
  readonly codec: CodecChoice;
  /** ST_DIRECT_IO: the receiver writes aligned pieces with O_DIRECT where the file system takes it. */
  readonly directIo: boolean;
}

const LOG_LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL', 'OFF'] as const;
const HOST = /^[A-Za-z0-9.:_-]+$/;

export function loadConfig(env: Readonly<Record<string, string | undefined>>): Config {
  const problems: string[] = [];
  function read<T>(name: string, fallback: string, parse: (text: string) => Parsed<T>): T {
    const raw = env[name];
    const text = raw === undefined || raw === '' ? fallback : raw;
    const parsed = parse(text);
    if ('expected' in parsed) {
      problems.push(`${name}=${JSON.stringify(text)} is invalid: expected ${parsed.expected}`);
      return undefined as T;
    }
    return parsed.value;
  }
  const path = (name: string, fallback: string) => resolve(read(name, fallback, (v) => nonEmpty(v, 'a file path')) ?? fallback);
  const positiveSize = (v: string) => atLeast(parseSize(v), 1, 'a size above zero');

  const home = env['HOME'] ?? homedir();
  const dbPath = path('DB_PATH', 'securetransfer.db');
  const config: Config = {
    host: read<string>('ST_HOST', '0.0.0.0', (v) => (HOST.test(v) ? { value: v } : { expected: 'a host name or IP address' })),
    port: read('ST_PORT', '9000', (v) => parseInteger(v, 1024, 65535)),
    maxTransferSize: read('ST_MAX_TRANSFER_SIZE', '10GB', positiveSize),
    maxFiles: read('ST_MAX_FILES', String(DEFAULT_MAX_FILES), (v) => parseInteger(v, 1, 1_000_000)),
    maxPayloadSize: read('ST_MAX_PAYLOAD_SIZE', '64MB', (v) => atLeast(parseSize(v), 64 * 1024, 'a size of at least 64KiB (one record)')),
    maxConcurrentPerIp: read('ST_MAX_CONCURRENT_PER_IP', '5', (v) => parseInteger(v, 1, 100_000)),
    rateLimitBytesPerSec: read('ST_RATE_LIMIT_BYTES_PER_SEC', '10MB', parseSize),
    banThreshold: read('ST_FAILED_HANDSHAKE_BAN_THRESHOLD', '3', (v) => parseInteger(v, 1, 1_000_000)),
    banWindowSec: read('ST_FAILED_HANDSHAKE_BAN_WINDOW_SEC', '60', (v) => parseInteger(v, 1, 31_536_000)),
    banDurationSec: read('ST_BAN_DURATION_SEC', '600', (v) => parseInteger(v, 1, 31_536_000)),
    maxBanDurationSec: read('ST_MAX_BAN_DURATION_SEC', '86400', (v) => parseInteger(v, 1, 31_536_000)),
    startups: read('ST_MAX_STARTUPS', '64:30:256', parseStartups),
    maxHandshakesPerIp: read('ST_MAX_HANDSHAKES_PER_IP', '3', (v) => parseInteger(v, 1, 100_000)),
    maxSessions: read('ST_MAX_SESSIONS', '64', (v) => parseInteger(v, 1, 100_000)),
    maxTransfersPerKey: read('ST_MAX_TRANSFERS_PER_KEY', '8', (v) => parseInteger(v, 1, 100_000)),
    minFreeSpace: read('ST_MIN_FREE_SPACE', '1GiB', parseSize),
    maxReceiveMemory: read('ST_MAX_RECEIVE_MEMORY', '256MiB', (v) =>
      atLeast(parseSize(v), 16 * 1024 * 1024, 'a size of at least 16MiB (a few piece buffers)'),
    ),
    minProgressBytes: read('ST_MIN_PROGRESS_BYTES', '64KiB', parseSize),
    progressIntervalSec: read('ST_PROGRESS_INTERVAL_SEC', '30', (v) => parseInteger(v, 1, 86400)),
    partialRetentionSec: read('ST_PARTIAL_RETENTION', '7 days', (v) => atLeast(parseDuration(v, 86400), 1, 'a duration above zero')),
    auditRetentionSec: read('ST_AUDIT_RETENTION', '90 days', (v) => atLeast(parseDuration(v, 86400), 1, 'a duration above zero')),
    logMaxFiles: read('ST_LOG_MAX_FILES', '20', (v) => parseInteger(v, 1, 10_000)),
    proxyProtocol: read('ST_PROXY_PROTOCOL', 'off', (v) => oneOf(v, ['off', 'v2'] as const)),
    trustedProxies: read('ST_TRUSTED_PROXIES', '', parseAddressList),
    logPath: path('ST_LOG_PATH', 'logs/securetransfer.log'),
    logLevel: read('LOG_LEVEL', 'INFO', (v) => oneOf(v, LOG_LEVELS)),
    logRotationBytes: read('ST_LOG_ROTATION', '10MB', positiveSize),
    logRetentionSec: read('ST_LOG_RETENTION', '7 days', (v) => atLeast(parseDuration(v, 86400), 1, 'a duration above zero')),
    dbPath,
    database: read('DB_URL', 'sqlite', parseDatabase),
    outputDir: path('ST_OUTPUT_DIR', 'received'),
    handshakeTimeoutSec: read('ST_HANDSHAKE_TIMEOUT_SEC', '10', (v) => parseInteger(v, 1, 3600)),
    idleTimeoutSec: read('ST_IDLE_TIMEOUT_SEC', '60', (v) => parseInteger(v, 1, 86400)),
    hostKeyPath: path('ST_HOST_KEY_PATH', join(dirname(dbPath), 'securetransfer_host_key')),
    identityPath: path('ST_IDENTITY_PATH', join(home, '.securetransfer', 'id_x25519')),
    knownHostsPath: path('ST_KNOWN_HOSTS', join(home, '.securetransfer', 'known_hosts')),
    authorizedKeysPath: env['ST_AUTHORIZED_KEYS'] ? resolve(env['ST_AUTHORIZED_KEYS']) : undefined,
    crypto: read('ST_CRYPTO', 'openssl', (v) => oneOf(v, ['openssl', 'node', 'noble'] as const)),
    codec: read('ST_CODEC', 'napi', (v) => oneOf(v, ['napi', 'codec'] as const)),
    directIo: read('ST_DIRECT_IO', 'auto', (v) => oneOf(v, ['auto', 'off'] as const)) === 'auto',
  };
  if (config.maxBanDurationSec < config.banDurationSec)
    problems.push(
      `ST_MAX_BAN_DURATION_SEC=${config.maxBanDurationSec} is invalid: expected at least ST_BAN_DURATION_SEC (${config.banDurationSec})`,
    );
  if (config.proxyProtocol === 'v2' && config.trustedProxies.length === 0)
    problems.push('ST_PROXY_PROTOCOL=v2 needs ST_TRUSTED_PROXIES: the addresses of the balancers allowed to name clients');
  if (problems.length > 0) throw new SecureTransferError('E_CONFIG', `invalid configuration:\n  ${problems.join('\n  ')}`);
  return config;
}
