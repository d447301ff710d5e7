import * as React from 'react';

export interface IChartSectionProps {
  name: string;
  count: number;
  collapsed: boolean;
  onToggle: (name: string) => void;
  children: React.ReactNode;
}

/** A collapsible section of panels (`train`, `val`, `system`, ...), its panels in a grid. */
export function ChartSection(props: IChartSectionProps): JSX.Element {
  return (
    <section
      className={'nbtrack-ws-section' + (props.collapsed ? ' nbtrack-ws-collapsed' : '')}
      data-section={props.name}
    >
      <button
        className="nbtrack-ws-section-header"
        aria-expanded={!props.collapsed}
        onClick={() => props.onToggle(props.name)}
      >
        <span className="nbtrack-ws-caret">{props.collapsed ? '▸' : '▾'}</span>
        <span className="nbtrack-ws-section-name">{props.name}</span>
        <span className="nbtrack-section-count">{props.count}</span>
      </button>
      {props.collapsed ? null : <div className="nbtrack-ws-grid">{props.children}</div>}
    </section>
  );
}
