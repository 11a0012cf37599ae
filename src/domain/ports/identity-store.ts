import type { KeyPair } from './crypto-primitives.js';

/** A static X25519 identity (docs/requirements.md#trust): the receiver's host key or the sender's client key. */
export interface IdentityStore {
  /**
   * Loads the key (asking for its password when it is sealed), or generates and stores one on
   * first use where that is allowed; created says which happened. The caller owns the returned
   * private key and zeroes it when done.
   */
  loadOrCreate(): Promise<{ keyPair: KeyPair; created: boolean; path: string }>;
}

/** Writes a new identity made by keygen (docs/requirements.md#command-line): the private half sealed under a password. */
export interface IdentityKeyWriter {
  /** Never replaces an existing file. */
  writeSealed(keyPair: KeyPair, password: string): Promise<{ privateKeyPath: string; publicKeyPath: string; publicKeyLine: string }>;
}
