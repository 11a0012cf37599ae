// How a peer is written in records and logs: "203.0.113.7:51234" and "[2001:db8::1]:51234". The
// brackets keep an IPv6 address and its port apart, so a query for 2001:db8::1 never matches
// 2001:db8::1:5 (which, unbracketed, reads the same as 2001:db8::1 on port 5).

export function formatPeer(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

/** The prefix every formatted peer of this address starts with. */
export function peerPrefix(address: string): string {
  return address.includes(':') ? `[${address}]:` : `${address}:`;
}

/** The address part of a formatted peer ("[2001:db8::1]:5" gives 2001:db8::1); other text as it is. */
export function addressOfPeer(peer: string): string {
  const bracketed = /^\[([^\]]+)\]:\d+$/.exec(peer);
  if (bracketed) return bracketed[1]!;
  const v4 = /^(\d{1,3}(?:\.\d{1,3}){3}):\d+$/.exec(peer);
  return v4 ? v4[1]! : peer;
}
