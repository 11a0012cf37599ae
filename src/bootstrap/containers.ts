// Builds the container for one role. Callers get use cases and dispose() the container at
// shutdown, which closes the database and flushes the log (onDeactivation hooks).
import 'reflect-metadata';
import { Container } from 'inversify';
import { commonModule } from './common-module.js';
import type { Config } from './config.js';
import { keygenModule } from './keygen-module.js';
import { receiverModule, type ReceiverOptions } from './receiver-module.js';
import { senderModule, type SenderOptions } from './sender-module.js';

export interface RoleContainer {
  readonly container: Container;
  dispose(): Promise<void>;
}

function role(container: Container): RoleContainer {
  return { container, dispose: () => container.unbindAllAsync() };
}

export async function senderContainer(config: Config, options: SenderOptions = {}): Promise<RoleContainer> {
  const container = new Container({ defaultScope: 'Singleton' });
  container.load(commonModule(config, { logToConsole: false }), senderModule(config, options));
  return role(container);
}

export async function receiverContainer(config: Config, options: ReceiverOptions = {}): Promise<RoleContainer> {
  const container = new Container({ defaultScope: 'Singleton' });
  container.load(commonModule(config, { logToConsole: true }), receiverModule(config, options));
  return role(container);
}

/** For status and audit queries: the database alone. */
export async function queryContainer(config: Config): Promise<RoleContainer> {
  const container = new Container({ defaultScope: 'Singleton' });
  container.load(commonModule(config, { logToConsole: false }));
  return role(container);
}

/** For keygen: crypto and the key writer; the database and the log are never opened. */
export async function keygenContainer(config: Config, outputDir: string): Promise<RoleContainer> {
  const container = new Container({ defaultScope: 'Singleton' });
  container.load(commonModule(config, { logToConsole: false }), keygenModule(outputDir));
  return role(container);
}
