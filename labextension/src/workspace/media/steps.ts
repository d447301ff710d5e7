/**
 * Step arithmetic of the media panels: one slider over the union of the runs' steps, each
 * run showing its value at the nearest step at or below the slider's.
 */

/** The sorted union of sorted step lists. */
export function unionSteps(lists: readonly (readonly number[])[]): number[] {
  if (lists.length === 1) {
    return [...lists[0]];
  }
  const all = new Set<number>();
  for (const steps of lists) {
    for (const step of steps) {
      all.add(step);
    }
  }
  return [...all].sort((a, b) => a - b);
}

/** The index in sorted `steps` of the largest step at or below `step`; -1 when all are above. */
export function indexAtOrBelow(steps: readonly number[], step: number): number {
  let lo = 0;
  let hi = steps.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (steps[mid] <= step) {
      found = mid;
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  return found;
}

/** The largest of the sorted `steps` at or below `step`; null when all are above it. */
export function stepAtOrBelow(steps: readonly number[], step: number): number | null {
  const i = indexAtOrBelow(steps, step);
  return i < 0 ? null : steps[i];
}
