import { join, resolve } from 'node:path';
import { ContainerModule } from 'inversify';
import { KeyFileIdentityStore } from '../adapters/filesystem/key-file-identity-store.js';
import { MakeIdentityKey } from '../application/make-identity-key.js';
import { TOKENS } from './tokens.js';

/** The file name keygen writes inside --output, beside its .pub. */
export const KEYGEN_FILE_NAME = 'id_x25519';

export function keygenModule(outputDir: string): ContainerModule {
  return new ContainerModule(({ bind }) => {
    bind(TOKENS.MakeIdentityKey).toResolvedValue(
      (crypto) =>
        new MakeIdentityKey(
          crypto,
          new KeyFileIdentityStore(join(resolve(outputDir), KEYGEN_FILE_NAME), crypto, { createIfMissing: false }),
        ),
      [TOKENS.Crypto],
    );
  });
}
