// "Did you mean …?": the known name nearest to what was typed, by Damerau–Levenshtein distance
// (optimal string alignment: a swap of two neighbours counts as one edit, as in `bastoin`).

/** Edits (insert, delete, substitute, swap neighbours) that turn `a` into `b`. */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  return d[a.length]![b.length]!;
}

/**
 * The candidate nearest to `typed`, if it is near enough to be a slip rather than another word:
 * at most a third of its length in edits (two for short words, and always fewer than its length),
 * as git's and cargo's suggestions do.
 */
export function nearest(typed: string, candidates: Iterable<string>): string | undefined {
  const limit = Math.max(2, Math.floor(typed.length / 3));
  let best: { name: string; d: number } | undefined;
  for (const name of candidates) {
    const d = editDistance(typed.toLowerCase(), name.toLowerCase());
    // Fewer edits than the word has letters: "x" is not a slip for "up", however short both are.
    if (d <= limit && d < typed.length && (!best || d < best.d)) best = { name, d };
  }
  return best?.name;
}

/** `did you mean X?` when one is near, else undefined. */
export function didYouMean(typed: string, candidates: Iterable<string>): string | undefined {
  const n = nearest(typed, candidates);
  return n === undefined ? undefined : `did you mean ${n}?`;
}
