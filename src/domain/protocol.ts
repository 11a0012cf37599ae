// The protocol's name and version, bound into every handshake through the Noise prologue
// (docs/requirements.md#handshake): peers that disagree on either fail the handshake instead of
// misreading each other. PROTOCOL.md describes the version.

export const PROTOCOL_NAME = 'Noise_XX_25519_AESGCM_SHA256';
export const PROTOCOL_VERSION = 1;
export const PROLOGUE_TEXT = `SecureTransfer/${PROTOCOL_VERSION} ${PROTOCOL_NAME}`;
