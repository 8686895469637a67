// A long chain's rules indexed by one address (source or destination), so that a packet skips the
// rules that cannot match it instead of testing each one: with Docker-sized rule sets (thousands of
// `-s X/32 ... -j DROP` in DOCKER-USER, one `-d container/32` rule per published port in DOCKER)
// the walk tests the few rules that could match and jumps over the rest, as nf_tables' sets let a
// ruleset match one address against thousands of elements in one lookup.
//
// The index only narrows the candidates: every candidate is still tested in full by the walk, and
// rules are visited in their chain order, so verdicts and counters are exactly those of the linear
// walk. Rules whose indexed address is absent, inverted or of a rarely used prefix length are kept
// in `always` and tested for every packet.

/** Chains shorter than this are scanned linearly: the index would not pay for its lookups. */
export const CHAIN_INDEX_MIN_RULES = 16;
/** More distinct prefix lengths than this means one map lookup per length per step: not indexed. */
const MAX_PREFIX_GROUPS = 4;

export const enum IndexedAddress {
  Source = 0,
  Destination = 1,
}

/** Rules of one prefix length, by their masked address: the rule positions in chain order. */
interface PrefixGroup {
  readonly mask: number;
  readonly rules: Map<number, Int32Array>;
}

export interface ChainIndex {
  readonly address: IndexedAddress;
  readonly groups: readonly PrefixGroup[];
  /** Rules every packet must be tested against (in chain order). */
  readonly always: Int32Array;
  /** Rule count of the chain: "no more candidates". */
  readonly end: number;
}

/** The basic address part of each rule, as the chain's columns hold it. */
export interface AddressColumns {
  readonly mask: Int32Array | Uint32Array;
  readonly address: Int32Array | Uint32Array;
  readonly inverted: (i: number) => boolean;
}

/**
 * Builds the index on whichever address narrows the chain best, or returns null when the chain is
 * short or neither address would leave much out.
 */
export function buildChainIndex(count: number, source: AddressColumns, destination: AddressColumns): ChainIndex | null {
  if (count < CHAIN_INDEX_MIN_RULES) return null;
  const bySource = indexOn(IndexedAddress.Source, count, source);
  const byDestination = indexOn(IndexedAddress.Destination, count, destination);
  const best = byDestination.always.length < bySource.always.length ? byDestination : bySource;
  // Worth it only when most rules can be skipped.
  return best.always.length * 2 <= count ? best : null;
}

function indexOn(which: IndexedAddress, count: number, columns: AddressColumns): ChainIndex {
  // The prefix lengths with the most rules get a group; the rest are always tested.
  const perMask = new Map<number, number>();
  for (let i = 0; i < count; i++) {
    const mask = columns.mask[i]!;
    if (mask !== 0 && !columns.inverted(i)) perMask.set(mask, (perMask.get(mask) ?? 0) + 1);
  }
  const masks = [...perMask.entries()].sort((a, b) => b[1] - a[1]).slice(0, MAX_PREFIX_GROUPS).map(([mask]) => mask | 0);
  const lists = masks.map(() => new Map<number, number[]>());
  const always: number[] = [];
  for (let i = 0; i < count; i++) {
    const g = columns.inverted(i) ? -1 : masks.indexOf(columns.mask[i]! | 0);
    if (g < 0) {
      always.push(i);
      continue;
    }
    const key = columns.address[i]! | 0;
    const list = lists[g]!.get(key);
    if (list) list.push(i);
    else lists[g]!.set(key, [i]);
  }
  const groups = masks.map((mask, g) => ({
    mask,
    rules: new Map([...lists[g]!].map(([key, positions]) => [key, Int32Array.from(positions)])),
  }));
  return { address: which, groups, always: Int32Array.from(always), end: count };
}

/** The first position >= from in a sorted list, or `end` when there is none. */
function firstAtOrAfter(list: Int32Array, from: number, end: number): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (list[mid]! < from) lo = mid + 1;
    else hi = mid;
  }
  return lo < list.length ? list[lo]! : end;
}

/**
 * The next rule at or after `from` that could match a packet with these addresses (or `index.end`).
 */
export function nextCandidate(index: ChainIndex, from: number, source: number, destination: number): number {
  const end = index.end;
  if (from >= end) return end;
  const address = index.address === IndexedAddress.Source ? source : destination;
  let next = firstAtOrAfter(index.always, from, end);
  const groups = index.groups;
  for (let g = 0; g < groups.length; g++) {
    const group = groups[g]!;
    const list = group.rules.get((address & group.mask) | 0);
    if (list !== undefined) {
      const candidate = firstAtOrAfter(list, from, end);
      if (candidate < next) next = candidate;
    }
  }
  return next;
}
