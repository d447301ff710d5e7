import * as React from 'react';

import { isExpression } from '../model';

/** The filter box of the sidebar and the workspace: plain text search or the filter language. */
export function FilterBox(props: {
  filter: string;
  onChange: (text: string) => void;
  className?: string;
}): JSX.Element {
  const text = props.filter.trim();
  return (
    <div className={props.className ? `nbtrack-filter ${props.className}` : 'nbtrack-filter'}>
      <input
        className="jp-mod-styled nbtrack-filter-input"
        type="search"
        placeholder="Search, or filter: params.lr < 0.1 and metrics.loss < 0.5"
        value={props.filter}
        spellCheck={false}
        onChange={event => props.onChange(event.target.value)}
      />
      {text ? (
        <span className="nbtrack-filter-mode" title="How the filter text is used">
          {isExpression(text) ? 'where' : 'search'}
        </span>
      ) : null}
    </div>
  );
}
