import { readdirSync, statSync, unlinkSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import log4js from 'log4js';
import type { LogFields, Logger } from '../../domain/ports/logger.js';
import { escapeText } from '../../domain/escape-text.js';

export interface LogOptions {
  readonly path: string;
  readonly level: string;
  /** Bytes before a file rolls over (ST_LOG_ROTATION, README "Configuration"). */
  readonly rotationBytes: number;
  /** Rolled files older than this are deleted (ST_LOG_RETENTION, README "Configuration"). */
  readonly retentionMs: number;
  /** Rolled files kept at most, whatever their age (ST_LOG_MAX_FILES): bounds the disk a flood can fill. */
  readonly maxFiles: number;
  /** Also print to stderr (the receiver in a terminal or a container). */
  readonly console: boolean;
}

const SWEEP_INTERVAL_MS = 6 * 60 * 60 * 1000;

/** A field value in double quotes: backslash and quote escaped first, so escapes stay unambiguous. */
function quote(value: string): string {
  return `"${escapeText(value.replace(/\\/g, '\\\\').replace(/"/g, '\\"'))}"`;
}

function format(message: string, fields?: LogFields): string {
  const text = escapeText(message);
  if (!fields) return text;
  const parts = Object.entries(fields)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? quote(v) : String(v)}`);
  return parts.length ? `${text} ${parts.join(' ')}` : text;
}

/**
 * log4js's dateFile appender rolls daily and at the size limit; its own clean-up counts files,
 * not days, so a sweep deletes rolled files older than the retention period.
 */
export function sweepOldLogs(logPath: string, retentionMs: number, now: number): string[] {
  const dir = dirname(logPath);
  const stem = basename(logPath).replace(/\.log$/, '');
  const removed: string[] = [];
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return removed;
  }
  for (const name of names) {
    if (name === basename(logPath) || !name.startsWith(stem)) continue;
    const file = join(dir, name);
    try {
      if (now - statSync(file).mtimeMs > retentionMs) {
        unlinkSync(file);
        removed.push(file);
      }
    } catch {
      // Another process may have removed it first.
    }
  }
  return removed;
}

export class Log4jsLogger implements Logger {
  private readonly logger: log4js.Logger;
  private readonly sweep: NodeJS.Timeout;

  constructor(options: LogOptions) {
    const appenders: Record<string, log4js.Appender> = {
      file: {
        type: 'dateFile',
        filename: options.path,
        pattern: 'yyyy-MM-dd',
        keepFileExt: true,
        maxLogSize: options.rotationBytes,
        numBackups: options.maxFiles,
        layout: { type: 'pattern', pattern: '%d{ISO8601_WITH_TZ_OFFSET} %p %m' },
      },
    };
    if (options.console) appenders['stderr'] = { type: 'stderr', layout: { type: 'pattern', pattern: '%d{ISO8601} %p %m' } };
    log4js.configure({ appenders, categories: { default: { appenders: Object.keys(appenders), level: options.level } } });
    this.logger = log4js.getLogger('securetransfer');
    sweepOldLogs(options.path, options.retentionMs, Date.now());
    this.sweep = setInterval(() => sweepOldLogs(options.path, options.retentionMs, Date.now()), SWEEP_INTERVAL_MS);
    this.sweep.unref();
  }

  debug(message: string, fields?: LogFields): void {
    this.logger.debug(format(message, fields));
  }
  info(message: string, fields?: LogFields): void {
    this.logger.info(format(message, fields));
  }
  warn(message: string, fields?: LogFields): void {
    this.logger.warn(format(message, fields));
  }
  error(message: string, fields?: LogFields): void {
    this.logger.error(format(message, fields));
  }

  shutdown(): Promise<void> {
    clearInterval(this.sweep);
    return new Promise((resolve) => log4js.shutdown(() => resolve()));
  }
}
