// The mixed peak, modelled on the capacity analysis (shared seed 003: "charge pic" of an event night or a month's
// end: 100+ users at once over a few minutes, a mass of QR scans at the door, dues payments): members browsing the
// public profile, news, events and member list, door staff scanning tickets, and Stripe delivering the webhooks of
// a wave of payments, all in one run, each request drawn from the weighted table below (the requests themselves are
// made in scenarios.ts).

/** Share of each request class in the mix (out of their sum). */
export const MIX_WEIGHTS = {
  profile: 25,
  news: 10,
  events: 10,
  members: 10,
  checkin: 30,
  webhook: 15,
} as const;

export type MixClass = keyof typeof MIX_WEIGHTS;

/** Draws classes at random in proportion to their weights; `random` is injectable for tests. */
export function weightedPicker<K extends string>(weights: Readonly<Record<K, number>>, random: () => number = Math.random): () => K {
  const entries = Object.entries(weights) as Array<[K, number]>;
  const total = entries.reduce((sum, [, weight]) => sum + weight, 0);
  return () => {
    let left = random() * total;
    for (const [key, weight] of entries) {
      left -= weight;
      if (left < 0) return key;
    }
    return entries[entries.length - 1]![0];
  };
}
