// Noise §7.4 and §7.5: the interactive handshake patterns. SecureTransfer speaks XX; the
// others are here so the code is checked against every official vector of the suite.

export type Token = 'e' | 's' | 'ee' | 'es' | 'se' | 'ss';

export interface HandshakePattern {
  readonly name: string;
  /** Pre-message public keys: the initiator's static is known to the responder ("-> s"). */
  readonly initiatorPreMessage: boolean;
  /** The responder's static is known to the initiator ("<- s"). */
  readonly responderPreMessage: boolean;
  /** Message i is sent by the initiator when i is even. */
  readonly messages: readonly (readonly Token[])[];
}

const p = (name: string, pre: string, messages: Token[][]): HandshakePattern => ({
  name,
  initiatorPreMessage: pre.includes('i'),
  responderPreMessage: pre.includes('r'),
  messages,
});

export const PATTERNS: Readonly<Record<string, HandshakePattern>> = {
  NN: p('NN', '', [['e'], ['e', 'ee']]),
  NK: p('NK', 'r', [
    ['e', 'es'],
    ['e', 'ee'],
  ]),
  NX: p('NX', '', [['e'], ['e', 'ee', 's', 'es']]),
  KN: p('KN', 'i', [['e'], ['e', 'ee', 'se']]),
  KK: p('KK', 'ir', [
    ['e', 'es', 'ss'],
    ['e', 'ee', 'se'],
  ]),
  KX: p('KX', 'i', [['e'], ['e', 'ee', 'se', 's', 'es']]),
  XN: p('XN', '', [['e'], ['e', 'ee'], ['s', 'se']]),
  XK: p('XK', 'r', [
    ['e', 'es'],
    ['e', 'ee'],
    ['s', 'se'],
  ]),
  XX: p('XX', '', [['e'], ['e', 'ee', 's', 'es'], ['s', 'se']]),
  IN: p('IN', '', [
    ['e', 's'],
    ['e', 'ee', 'se'],
  ]),
  IK: p('IK', 'r', [
    ['e', 'es', 's', 'ss'],
    ['e', 'ee', 'se'],
  ]),
  IX: p('IX', '', [
    ['e', 's'],
    ['e', 'ee', 'se', 's', 'es'],
  ]),
};

/** "Noise_XX_25519_AESGCM_SHA256" -> the XX pattern, or undefined for anything else. */
export function patternFromProtocolName(protocolName: string): HandshakePattern | undefined {
  const m = /^Noise_([A-Z]+)_25519_AESGCM_SHA256$/.exec(protocolName);
  return m ? PATTERNS[m[1] as string] : undefined;
}
