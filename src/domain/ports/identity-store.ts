import type { KeyPair } from './crypto-primitives.js';

/** A static X25519 identity (SPEC §3.3): the receiver's host key or the sender's client key. */
export interface IdentityStore {
  /** Loads the key, or generates and stores it on first use; created says which happened. */
  loadOrCreate(): Promise<{ keyPair: KeyPair; created: boolean; path: string }>;
}
