import * as React from 'react';

/** A collapsible section with a title and a count; open unless `closed`. */
export function Section(props: {
  title: string;
  count?: number;
  className: string;
  closed?: boolean;
  children: React.ReactNode;
}): JSX.Element {
  return (
    <details className={`nbtrack-section ${props.className}`} open={!props.closed}>
      <summary>
        {props.title}
        {props.count === undefined ? null : (
          <>
            {' '}
            <span className="nbtrack-section-count">{props.count}</span>
          </>
        )}
      </summary>
      {props.children}
    </details>
  );
}
