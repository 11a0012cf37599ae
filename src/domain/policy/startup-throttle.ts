// Handshakes in progress are capped like OpenSSH's MaxStartups start:rate:full
// (docs/defences.md#handshakes): below `start` every connection is admitted; from `start` on, a
// new one is refused with probability `rate`%, rising linearly to 100% at `full`. Random early
// drop keeps a flood from turning the cap into a lock-out: honest senders still get a share of
// the slots that open. Pure: the caller passes a random number in [0, 1).

export interface StartupRules {
  readonly start: number;
  /** Percent refused at `start`. */
  readonly rate: number;
  readonly full: number;
}

/** Whether a new connection is refused while `inProgress` handshakes run. */
export function dropStartup(rules: StartupRules, inProgress: number, random: number): boolean {
  if (inProgress >= rules.full) return true;
  if (inProgress < rules.start) return false;
  const span = rules.full - rules.start;
  const percent = span === 0 ? 100 : rules.rate + ((100 - rules.rate) * (inProgress - rules.start)) / span;
  return random * 100 < percent;
}
