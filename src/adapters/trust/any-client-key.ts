import type { ClientAuthorization } from '../../domain/ports/client-authorization.js';

/** No allow-list configured: every authenticated client may send; its fingerprint is still audited. */
export const anyClientKey: ClientAuthorization = {
  allows: () => Promise.resolve(true),
  describe: () => 'any client key may send (set ST_AUTHORIZED_KEYS to restrict senders)',
};
