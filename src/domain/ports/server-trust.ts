/**
 * The sender's decision about the receiver's static key (docs/requirements.md#trust), taken after Noise message 2
 * and before the manifest leaves. Throws SecureTransferError E_UNTRUSTED_KEY to refuse.
 */
export interface ServerTrust {
  check(host: string, port: number, serverKey: Uint8Array): Promise<{ fingerprint: string; note?: string }>;
}
