import * as React from 'react';

import { IArtifactLink, ICellExecution, IRunArtifacts } from '../tokens';

/**
 * What a run used and produced: one line per artifact version (`digits:v1 dataset [3]`),
 * the cell given by its execution count when the run recorded that cell. A click on a ref
 * shows the version in the workspace's Artifacts view (when `onOpen` is given); a produced
 * `notebook` (the executed notebook of a job) gets an "Open executed notebook" button (when
 * `onOpenNotebook` is given).
 */
export function ArtifactLinks(props: {
  artifacts: IRunArtifacts;
  cells: ICellExecution[];
  onOpen?: (ref: string) => void;
  onOpenNotebook?: (ref: string) => void;
}): JSX.Element {
  const { inputs, outputs } = props.artifacts;
  const counts = new Map(props.cells.map(c => [c.id, c.execution_count]));
  const row = (link: IArtifactLink, direction: 'in' | 'out') => {
    const count = link.cell === null ? undefined : counts.get(link.cell);
    return (
      <li
        key={`${direction} ${link.ref}`}
        className={`nbtrack-artifact-link nbtrack-artifact-${direction}`}
        data-ref={link.ref}
      >
        {props.onOpen ? (
          <button
            className="nbtrack-link"
            title="Show this version in the Artifacts view"
            onClick={() => props.onOpen!(link.ref)}
          >
            {link.ref}
          </button>
        ) : (
          <span>{link.ref}</span>
        )}{' '}
        <span className="nbtrack-tag">{link.type}</span>
        {count !== undefined && count !== null ? (
          <span className="nbtrack-prompt" title="the cell that logged or used it">
            {' '}
            [{count}]
          </span>
        ) : null}
        {direction === 'out' && link.type === 'notebook' && props.onOpenNotebook ? (
          <>
            {' '}
            <button
              className="jp-mod-styled nbtrack-open-executed"
              title="Open the notebook as this run executed it, outputs included (a copy)"
              onClick={() => props.onOpenNotebook!(link.ref)}
            >
              Open executed notebook
            </button>
          </>
        ) : null}
      </li>
    );
  };
  if (!inputs.length && !outputs.length) {
    return <div className="nbtrack-hint">No artifacts used or logged.</div>;
  }
  return (
    <div className="nbtrack-artifact-links">
      {inputs.length ? (
        <>
          <div className="nbtrack-artifact-links-title">Used</div>
          <ul>{inputs.map(link => row(link, 'in'))}</ul>
        </>
      ) : null}
      {outputs.length ? (
        <>
          <div className="nbtrack-artifact-links-title">Produced</div>
          <ul>{outputs.map(link => row(link, 'out'))}</ul>
        </>
      ) : null}
    </div>
  );
}
