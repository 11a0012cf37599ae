/**
 * The receiver's decision about a sender's static key (docs/requirements.md#trust), taken
 * when Noise message 3 has revealed it and before the manifest is looked at.
 */
export interface ClientAuthorization {
  /** Whether this client key may send. Throws when the list cannot be read: the caller refuses (fail closed). */
  allows(clientKey: Uint8Array): Promise<boolean>;
  /** One line for the receiver's start-up banner. */
  describe(): string;
}
