/**
 * Chart panels grouped in sections by their key's prefix (`train/loss` is in `train`), in the
 * order people look at them: `train`, `val`, `system`, then the other prefixes sorted, then
 * keys without a prefix.
 */

/** The section of keys without a `/`. */
export const OTHER_SECTION = 'other';

const FIRST = ['train', 'val', 'system'];

/** The section a metric key is shown in. */
export function sectionOf(key: string): string {
  const slash = key.indexOf('/');
  return slash > 0 ? key.slice(0, slash) : OTHER_SECTION;
}

function sectionRank(name: string): [number, string] {
  const first = FIRST.indexOf(name);
  if (first >= 0) {
    return [first, ''];
  }
  return name === OTHER_SECTION ? [FIRST.length + 1, ''] : [FIRST.length, name];
}

export interface ISection {
  name: string;
  keys: string[];
}

/**
 * The sections of `keys`: each section's keys in the user's `order` first, then the rest
 * sorted by name.
 */
export function sectionsOf(keys: string[], order: string[]): ISection[] {
  const position = new Map(order.map((key, i) => [key, i]));
  const sorted = [...keys].sort((a, b) => {
    const pa = position.get(a);
    const pb = position.get(b);
    if (pa !== undefined && pb !== undefined) {
      return pa - pb;
    }
    if (pa !== undefined || pb !== undefined) {
      return pa !== undefined ? -1 : 1;
    }
    return a.localeCompare(b);
  });
  const sections = new Map<string, string[]>();
  for (const key of sorted) {
    const name = sectionOf(key);
    sections.set(name, [...(sections.get(name) ?? []), key]);
  }
  return [...sections.entries()]
    .map(([name, sectionKeys]) => ({ name, keys: sectionKeys }))
    .sort((a, b) => {
      const [ra, na] = sectionRank(a.name);
      const [rb, nb] = sectionRank(b.name);
      return ra - rb || na.localeCompare(nb);
    });
}

/**
 * The order after moving `key` to `target`'s place within its section (`target` null:
 * by `offset` places, -1 left, +1 right). `keys` are all chart keys, for a complete order.
 */
export function moved(
  keys: string[],
  order: string[],
  key: string,
  move: { target: string } | { offset: number }
): string[] {
  const section = sectionsOf(keys, order).find(s => s.keys.includes(key));
  if (!section) {
    return order;
  }
  const inSection = section.keys.filter(k => k !== key);
  const from = section.keys.indexOf(key);
  let to: number;
  if ('target' in move) {
    to = inSection.indexOf(move.target);
    if (to < 0 || sectionOf(move.target) !== section.name) {
      return order;
    }
    if (from <= to) {
      to += 1; // dropped on a later panel: after it
    }
  } else {
    to = Math.min(inSection.length, Math.max(0, from + move.offset));
  }
  inSection.splice(to, 0, key);
  // The whole order, every section's keys as shown, this section rearranged.
  return sectionsOf(keys, order).flatMap(s => (s.name === section.name ? inSection : s.keys));
}
