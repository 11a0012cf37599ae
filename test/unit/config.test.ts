import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '../../src/bootstrap/config.js';
import { SecureTransferError } from '../../src/domain/errors.js';

describe('configuration from the environment', () => {
  it('has the defaults of the spec', () => {
    const c = loadConfig({ HOME: '/home/x' });
    assert.equal(c.host, '0.0.0.0');
    assert.equal(c.port, 9000);
    assert.equal(c.maxTransferSize, 10e9);
    assert.equal(c.maxPayloadSize, 64e6);
    assert.equal(c.maxConcurrentPerIp, 5);
    assert.equal(c.rateLimitBytesPerSec, 10e6);
    assert.equal(c.banThreshold, 3);
    assert.equal(c.banWindowSec, 60);
    assert.equal(c.logLevel, 'INFO');
    assert.equal(c.logRotationBytes, 10e6);
    assert.equal(c.logRetentionSec, 7 * 86400);
    assert.match(c.dbPath, /securetransfer\.db$/);
    assert.match(c.logPath, /logs\/securetransfer\.log$/);
    assert.equal(c.knownHostsPath, '/home/x/.securetransfer/known_hosts');
  });

  it('has the defences of docs/defences.md by default', () => {
    const c = loadConfig({ HOME: '/home/x' });
    assert.deepEqual(c.startups, { start: 64, rate: 30, full: 256 });
    assert.equal(c.maxHandshakesPerIp, 3);
    assert.equal(c.maxSessions, 64);
    assert.equal(c.maxTransfersPerKey, 8);
    assert.equal(c.minFreeSpace, 1024 ** 3);
    assert.equal(c.maxReceiveMemory, 256 * 1024 ** 2);
    assert.equal(c.partialRetentionSec, 7 * 86400);
    assert.equal(c.auditRetentionSec, 90 * 86400);
    assert.equal(c.maxBanDurationSec, 86400);
    assert.equal(c.logMaxFiles, 20);
  });

  it("reads ST_MAX_STARTUPS as OpenSSH's start:rate:full, or one number for full", () => {
    assert.deepEqual(loadConfig({ ST_MAX_STARTUPS: '10:30:100' }).startups, { start: 10, rate: 30, full: 100 });
    assert.deepEqual(loadConfig({ ST_MAX_STARTUPS: '50' }).startups, { start: 50, rate: 100, full: 50 });
    for (const bad of ['100:30:10', '10:130:100', '0:30:100', '10:30', 'many']) {
      assert.throws(
        () => loadConfig({ ST_MAX_STARTUPS: bad }),
        new RegExp(`ST_MAX_STARTUPS="${bad}" is invalid: expected start:rate:full`),
      );
    }
  });

  it('keeps SQLite unless DB_URL names PostgreSQL, by URL or by the PG* variables', () => {
    assert.deepEqual(loadConfig({}).database, { kind: 'sqlite' });
    assert.deepEqual(loadConfig({ DB_URL: 'postgres://st:pw@db:5432/transfers' }).database, {
      kind: 'postgres',
      url: 'postgres://st:pw@db:5432/transfers',
    });
    assert.deepEqual(loadConfig({ DB_URL: 'postgres' }).database, { kind: 'postgres', url: undefined });
    assert.throws(() => loadConfig({ DB_URL: 'mysql://db/x' }), /DB_URL="mysql:\/\/db\/x" is invalid/);
  });

  it('takes PROXY protocol v2 only with the balancers it trusts, as addresses and CIDR blocks', () => {
    const c = loadConfig({ ST_PROXY_PROTOCOL: 'v2', ST_TRUSTED_PROXIES: '10.0.0.5, 10.1.0.0/16,2001:db8::/32' });
    assert.equal(c.proxyProtocol, 'v2');
    assert.deepEqual(c.trustedProxies, ['10.0.0.5', '10.1.0.0/16', '2001:db8::/32']);
    assert.throws(() => loadConfig({ ST_PROXY_PROTOCOL: 'v2' }), /ST_PROXY_PROTOCOL=v2 needs ST_TRUSTED_PROXIES/);
    for (const bad of ['10.0.0.300', '10.0.0.0/33', 'balancer.internal', '10.0.0.0/8/1', '0.0.0.0/0', '::/0', '10.0.0.0/7']) {
      assert.throws(
        () => loadConfig({ ST_TRUSTED_PROXIES: bad }),
        /ST_TRUSTED_PROXIES=.* is invalid: expected IP addresses or CIDR blocks/,
        bad,
      );
    }
    assert.equal(loadConfig({}).proxyProtocol, 'off');
  });

  it('refuses a longest ban shorter than the first ban', () => {
    assert.throws(
      () => loadConfig({ ST_BAN_DURATION_SEC: '3600', ST_MAX_BAN_DURATION_SEC: '60' }),
      /ST_MAX_BAN_DURATION_SEC=60 is invalid: expected at least ST_BAN_DURATION_SEC/,
    );
  });

  it('accepts sizes with units and durations', () => {
    const c = loadConfig({
      ST_MAX_TRANSFER_SIZE: '64MiB',
      ST_RATE_LIMIT_BYTES_PER_SEC: '0',
      ST_LOG_RETENTION: '12h',
      ST_LOG_ROTATION: '1.5MB',
      LOG_LEVEL: 'debug',
    });
    assert.equal(c.maxTransferSize, 64 * 1024 * 1024);
    assert.equal(c.rateLimitBytesPerSec, 0);
    assert.equal(c.logRetentionSec, 12 * 3600);
    assert.equal(c.logRotationBytes, 1_500_000);
    assert.equal(c.logLevel, 'DEBUG');
  });

  it('reports every invalid variable at once, naming variable, value and rule', () => {
    assert.throws(
      () => loadConfig({ ST_PORT: '80', ST_MAX_CONCURRENT_PER_IP: 'many', ST_MAX_TRANSFER_SIZE: '10 parsecs', ST_CRYPTO: 'rot13' }),
      (e: unknown) => {
        assert.ok(e instanceof SecureTransferError);
        assert.equal(e.code, 'E_CONFIG');
        assert.match(e.message, /ST_PORT="80" is invalid: expected a whole number from 1024 to 65535/);
        assert.match(e.message, /ST_MAX_CONCURRENT_PER_IP="many"/);
        assert.match(e.message, /ST_MAX_TRANSFER_SIZE="10 parsecs"/);
        assert.match(e.message, /ST_CRYPTO="rot13" is invalid: expected one of openssl, node, noble/);
        return true;
      },
    );
  });
});
