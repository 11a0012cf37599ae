// The CLI's application, loaded on the first call: `--version`, `--help` and usage errors never
// load the containers, TypeORM, the codecs or the crypto binding (docs/PERFORMANCE.md#start-up).
// The bundler puts what the dynamic import reaches into a chunk of its own.
import type { CliApp } from '../adapters/cli/cli-app-port.js';

export function lazyCliApp(env: Readonly<Record<string, string | undefined>>): CliApp {
  let loaded: Promise<CliApp> | undefined;
  const app = () => (loaded ??= import('./container-cli-app.js').then(({ BootstrapCliApp }) => new BootstrapCliApp(env)));
  return {
    keygen: async (input) => (await app()).keygen(input),
    send: async (input) => (await app()).send(input),
    resume: async (input) => (await app()).resume(input),
    receive: async (input) => (await app()).receive(input),
    transfers: async (id) => (await app()).transfers(id),
    audit: async (query) => (await app()).audit(query),
  };
}
