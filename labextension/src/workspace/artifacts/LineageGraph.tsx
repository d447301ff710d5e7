import * as React from 'react';

import { ILineage, ILineageNode } from '../../tokens';
import { layoutLineage, NODE_HEIGHT, NODE_WIDTH } from './lineageLayout';

export interface ILineageGraphProps {
  graph: ILineage;
  /** A run node was clicked. */
  onRun?: (node: ILineageNode) => void;
  /** An artifact version node was clicked. */
  onArtifact?: (node: ILineageNode) => void;
}

/** Cut `text` to about `max` characters (the full text is in the node's tooltip). */
function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function title(node: ILineageNode): string {
  return node.kind === 'run'
    ? `#${node.number ?? '?'} ${node.name ?? ''}`
    : `${node.name ?? ''}:${node.version ?? ''}`;
}

function subtitle(node: ILineageNode): string {
  return node.kind === 'run' ? 'run' : (node.type ?? 'artifact');
}

/**
 * A lineage graph as SVG: runs (rounded boxes) and artifact versions (square boxes) in
 * columns, upstream on the left, downstream on the right; the version asked about is
 * outlined. Text is rendered by React (escaped).
 */
export function LineageGraph(props: ILineageGraphProps): JSX.Element {
  const { graph } = props;
  const layout = React.useMemo(() => layoutLineage(graph), [graph]);
  const marker = React.useId().replace(/:/g, '');
  return (
    <div className="nbtrack-lineage-scroll">
      <svg
        className="nbtrack-lineage"
        width={layout.width}
        height={layout.height}
        viewBox={`0 0 ${layout.width} ${layout.height}`}
        role="img"
        aria-label={`Lineage of ${graph.root}`}
      >
        <defs>
          <marker
            id={`arrow-${marker}`}
            viewBox="0 0 10 10"
            refX="9"
            refY="5"
            markerWidth="7"
            markerHeight="7"
            orient="auto-start-reverse"
          >
            <path d="M 0 0 L 10 5 L 0 10 z" className="nbtrack-lineage-arrow" />
          </marker>
        </defs>
        {layout.edges.map(edge => (
          <path
            key={`${edge.source}>${edge.target}`}
            className={`nbtrack-lineage-edge nbtrack-lineage-${edge.direction}`}
            d={edge.path}
            markerEnd={`url(#arrow-${marker})`}
            data-source={edge.source}
            data-target={edge.target}
          />
        ))}
        {layout.nodes.map(placed => {
          const { node } = placed;
          const onClick = node.kind === 'run' ? props.onRun : props.onArtifact;
          const label = title(node);
          return (
            <g
              key={node.id}
              className={
                `nbtrack-lineage-node nbtrack-lineage-${node.kind}` +
                (placed.root ? ' nbtrack-lineage-root' : '') +
                (onClick ? ' nbtrack-clickable' : '')
              }
              data-node-id={node.id}
              data-depth={placed.depth}
              transform={`translate(${placed.x}, ${placed.y})`}
              onClick={onClick ? () => onClick(node) : undefined}
            >
              <title>{`${label} (${subtitle(node)})`}</title>
              <rect
                width={NODE_WIDTH}
                height={NODE_HEIGHT}
                rx={node.kind === 'run' ? 12 : 3}
                ry={node.kind === 'run' ? 12 : 3}
              />
              <text x={10} y={17} className="nbtrack-lineage-title">
                {clip(label, 24)}
              </text>
              <text x={10} y={33} className="nbtrack-lineage-subtitle">
                {clip(subtitle(node), 26)}
              </text>
            </g>
          );
        })}
      </svg>
    </div>
  );
}
