// Parsers for configuration values: sizes with units ("10GB", "64MiB"), durations ("7 days").
// Each returns the value, or what it expected, for an error message that states the rule.
import { isIP } from 'node:net';

export type Parsed<T> = { readonly value: T } | { readonly expected: string };

const SIZE_UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  k: 1e3,
  m: 1e6,
  g: 1e9,
  t: 1e12,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
  tib: 1024 ** 4,
};

/** "10GB" = 10^10 bytes, "64MiB" = 64*2^20; "10 MB/s" is accepted for rates. */
export function parseSize(text: string): Parsed<number> {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*(?:\/\s*s)?\s*$/.exec(text);
  const unit = m?.[2]?.toLowerCase() ?? '';
  if (!m || !(unit in SIZE_UNITS)) return { expected: 'a size in bytes, optionally with a unit (KB, MB, GB, TB, KiB, MiB, GiB, TiB)' };
  const value = Math.round(Number(m[1]) * (SIZE_UNITS[unit] as number));
  return Number.isSafeInteger(value) ? { value } : { expected: 'a size below 2^53 bytes' };
}

const DURATION_UNITS: Record<string, number> = {
  s: 1,
  sec: 1,
  second: 1,
  seconds: 1,
  m: 60,
  min: 60,
  minute: 60,
  minutes: 60,
  h: 3600,
  hour: 3600,
  hours: 3600,
  d: 86400,
  day: 86400,
  days: 86400,
  w: 604800,
  week: 604800,
  weeks: 604800,
};

/** Seconds; a bare number takes the default unit ("7" as a retention means 7 days). */
export function parseDuration(text: string, defaultUnitSeconds: number): Parsed<number> {
  const m = /^\s*(\d+)\s*([a-zA-Z]*)\s*$/.exec(text);
  const unit = m?.[2]?.toLowerCase() ?? '';
  if (!m || (unit !== '' && !(unit in DURATION_UNITS)))
    return { expected: 'a whole number with an optional unit (s, m, h, d, w; "7 days")' };
  return { value: Number(m[1]) * (unit === '' ? defaultUnitSeconds : (DURATION_UNITS[unit] as number)) };
}

/** OpenSSH's MaxStartups form: "full" alone, or "start:rate:full" (rate in percent). */
export function parseStartups(text: string): Parsed<{ start: number; rate: number; full: number }> {
  const expected = { expected: 'start:rate:full (whole numbers, 1 <= start <= full, rate 0-100), or one number for full' };
  const m = /^\s*(\d+)(?::(\d+):(\d+))?\s*$/.exec(text);
  if (!m) return expected;
  const first = Number(m[1]);
  const rules = m[2] === undefined ? { start: first, rate: 100, full: first } : { start: first, rate: Number(m[2]), full: Number(m[3]) };
  if (rules.start < 1 || rules.full < rules.start || rules.rate > 100 || rules.full > 100_000) return expected;
  return { value: rules };
}

/** DB_URL: empty or unset for SQLite, a postgres:// URL, or 'postgres' for the libpq variables. */
export function parseDatabase(text: string): Parsed<{ kind: 'sqlite' } | { kind: 'postgres'; url: string | undefined }> {
  if (text === 'sqlite') return { value: { kind: 'sqlite' } };
  if (text === 'postgres') return { value: { kind: 'postgres', url: undefined } };
  if (/^postgres(ql)?:\/\/\S*$/.test(text)) {
    try {
      new URL(text);
      return { value: { kind: 'postgres', url: text } };
    } catch {
      // falls through to the rule
    }
  }
  return { expected: "a postgres:// or postgresql:// URL, or 'postgres' to use the PG* variables" };
}

/** A comma-separated list of IP addresses and CIDR blocks; empty for none. */
export function parseAddressList(text: string): Parsed<string[]> {
  const items = text
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t !== '');
  const expected = {
    expected: 'IP addresses or CIDR blocks (at least /8 for IPv4, /16 for IPv6) separated by commas (10.0.0.5, 10.1.0.0/16, 2001:db8::/32)',
  };
  for (const item of items) {
    const [address = '', bits, ...rest] = item.split('/');
    if (rest.length > 0 || !isIP(address)) return expected;
    const max = isIP(address) === 4 ? 32 : 128;
    // A block as wide as /0 would let anyone name any client: the shortest taken is /8 and /16.
    const min = isIP(address) === 4 ? 8 : 16;
    if (bits !== undefined && (!/^\d{1,3}$/.test(bits) || Number(bits) > max || Number(bits) < min)) return expected;
  }
  return { value: items };
}

export function parseInteger(text: string, min: number, max: number): Parsed<number> {
  const n = Number(text);
  if (!/^\s*\d+\s*$/.test(text) || n < min || n > max) return { expected: `a whole number from ${min} to ${max}` };
  return { value: n };
}

/** Narrows a parsed value further: at least min. */
export function atLeast(parsed: Parsed<number>, min: number, expected: string): Parsed<number> {
  return 'value' in parsed && parsed.value < min ? { expected } : parsed;
}

export function oneOf<T extends string>(text: string, options: readonly T[]): Parsed<T> {
  const found = options.find((o) => o.toLowerCase() === text.toLowerCase());
  return found ? { value: found } : { expected: `one of ${options.join(', ')}` };
}

export function nonEmpty(text: string, what: string): Parsed<string> {
  return text.trim() ? { value: text } : { expected: what };
}
