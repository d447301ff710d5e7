/**
 * A layered layout of a lineage graph: runs and artifact versions in columns by depth
 * (upstream of the root to the left, downstream to the right), ordered within a column by
 * the mean row of their neighbours in the column before (fewer crossings), edges as curves
 * from a node's right side to the next node's left side. Plain geometry, no graph library.
 */
import { ILineage, ILineageNode } from '../../tokens';

export const NODE_WIDTH = 176;
export const NODE_HEIGHT = 42;
const COLUMN_GAP = 72;
const ROW_GAP = 18;
const PAD = 12;

export interface IPlacedNode {
  node: ILineageNode;
  x: number;
  y: number;
  depth: number;
  root: boolean;
}

export interface IPlacedEdge {
  source: string;
  target: string;
  direction: string;
  /** An SVG path from the source's right side to the target's left side. */
  path: string;
}

export interface ILineageLayout {
  nodes: IPlacedNode[];
  edges: IPlacedEdge[];
  width: number;
  height: number;
}

/**
 * Depth of every node: 0 for the root, negative upstream, positive downstream; a node is as
 * far from the root as its longest path (so every edge points right).
 */
export function depths(graph: ILineage): Map<string, number> {
  const depth = new Map<string, number>([[graph.root, 0]]);
  const up = new Set(graph.upstream);
  const down = new Set(graph.downstream);
  const ids = new Set(graph.nodes.map(n => n.id));
  // Relax along edges (at most one pass per node: longest paths in a DAG).
  for (let pass = 0; pass < graph.nodes.length; pass++) {
    let changed = false;
    for (const e of graph.edges) {
      if (!ids.has(e.source) || !ids.has(e.target)) {
        continue;
      }
      const s = depth.get(e.source);
      const t = depth.get(e.target);
      if (s !== undefined && down.has(e.target) && (t === undefined || t < s + 1)) {
        depth.set(e.target, s + 1);
        changed = true;
      }
      if (t !== undefined && up.has(e.source) && (s === undefined || s > t - 1)) {
        depth.set(e.source, t - 1);
        changed = true;
      }
    }
    if (!changed) {
      break;
    }
  }
  for (const n of graph.nodes) {
    if (!depth.has(n.id)) {
      depth.set(n.id, 0);
    }
  }
  return depth;
}

function sortKey(node: ILineageNode): string {
  return node.kind === 'run'
    ? `0 ${String(node.number ?? 0).padStart(9, '0')}`
    : `1 ${node.name ?? ''} ${String(node.version ?? '').padStart(9, '0')}`;
}

/** Place the nodes of `graph` in columns and draw its edges. */
export function layoutLineage(graph: ILineage): ILineageLayout {
  const depth = depths(graph);
  const levels = [...new Set(depth.values())].sort((a, b) => a - b);
  const columns = levels.map(level =>
    graph.nodes
      .filter(n => depth.get(n.id) === level)
      .sort((a, b) => (sortKey(a) < sortKey(b) ? -1 : sortKey(a) > sortKey(b) ? 1 : 0))
  );
  // One sweep left to right: order by the mean row of the neighbours already placed.
  const row = new Map<string, number>();
  columns.forEach((column, c) => {
    if (c > 0) {
      const mean = (id: string): number => {
        const rows = graph.edges
          .filter(e => e.target === id || e.source === id)
          .map(e => row.get(e.target === id ? e.source : e.target))
          .filter((r): r is number => r !== undefined);
        return rows.length ? rows.reduce((a, b) => a + b, 0) / rows.length : Infinity;
      };
      const means = new Map(column.map(n => [n.id, mean(n.id)]));
      column.sort((a, b) => means.get(a.id)! - means.get(b.id)!);
    }
    column.forEach((n, i) => row.set(n.id, i));
  });
  const tallest = Math.max(1, ...columns.map(c => c.length));
  const height = PAD * 2 + tallest * NODE_HEIGHT + (tallest - 1) * ROW_GAP;
  const placed = new Map<string, IPlacedNode>();
  columns.forEach((column, c) => {
    const own = column.length * NODE_HEIGHT + (column.length - 1) * ROW_GAP;
    const top = (height - own) / 2;
    column.forEach((node, i) => {
      placed.set(node.id, {
        node,
        x: PAD + c * (NODE_WIDTH + COLUMN_GAP),
        y: top + i * (NODE_HEIGHT + ROW_GAP),
        depth: depth.get(node.id)!,
        root: node.id === graph.root
      });
    });
  });
  const edges: IPlacedEdge[] = [];
  for (const e of graph.edges) {
    const s = placed.get(e.source);
    const t = placed.get(e.target);
    if (!s || !t) {
      continue;
    }
    const x1 = s.x + NODE_WIDTH;
    const y1 = s.y + NODE_HEIGHT / 2;
    const x2 = t.x - 2; // room for the arrow head
    const y2 = t.y + NODE_HEIGHT / 2;
    const bend = Math.max(24, (x2 - x1) / 2);
    edges.push({
      source: e.source,
      target: e.target,
      direction: e.direction,
      path: `M ${x1} ${y1} C ${x1 + bend} ${y1}, ${x2 - bend} ${y2}, ${x2} ${y2}`
    });
  }
  const width = PAD * 2 + columns.length * NODE_WIDTH + (columns.length - 1) * COLUMN_GAP;
  return { nodes: [...placed.values()], edges, width, height };
}
