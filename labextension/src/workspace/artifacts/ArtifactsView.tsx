import * as React from 'react';

import { artifactFileURL } from '../../api';
import { formatBytes, formatDateTime, formatTime, formatValue } from '../../components/format';
import { IArtifactRun, IArtifactVersionRecord, ILineageNode } from '../../tokens';
import { LineageGraph } from './LineageGraph';
import { IArtifactsState } from './store';

export interface IArtifactsViewProps {
  state: IArtifactsState;
  onSelect: (name: string, version?: string) => void;
  onVersion: (version: string) => void;
  /** Show a run (absent: runs are not links). */
  onOpenRun?: (runId: string) => void;
}

/** Alias chips: `latest`, `best`... */
export function Aliases(props: { aliases: string[] }): JSX.Element {
  return (
    <>
      {props.aliases.map(alias => (
        <span key={alias} className="nbtrack-tag nbtrack-alias" data-alias={alias}>
          {alias}
        </span>
      ))}
    </>
  );
}

/** A run as `#3 train`, a button when it can be opened. */
export function RunLink(props: {
  run: IArtifactRun;
  onOpenRun?: (runId: string) => void;
}): JSX.Element {
  const { run, onOpenRun } = props;
  const label = `#${run.number} ${run.name ?? ''}`.trim();
  return onOpenRun && run.run_id ? (
    <button
      className="nbtrack-link nbtrack-run-link"
      title="Show this run"
      data-run-id={run.run_id}
      onClick={() => onOpenRun(run.run_id!)}
    >
      {label}
    </button>
  ) : (
    <span className="nbtrack-run-link">{label}</span>
  );
}

/**
 * The Artifacts view: every artifact name (type, versions, latest, aliases, size, updated);
 * the selected one's versions; the selected version's metadata, files (download links), the
 * runs that made and used it, and its lineage graph.
 */
export function ArtifactsView(props: IArtifactsViewProps): JSX.Element {
  const { state } = props;
  if (state.artifactsError) {
    return <div className="nbtrack-error nbtrack-artifacts-error">{state.artifactsError}</div>;
  }
  if (!state.artifactsLoaded) {
    return <div className="nbtrack-hint">Loading…</div>;
  }
  if (state.artifacts.length === 0) {
    return (
      <div className="nbtrack-hint nbtrack-artifacts-empty">
        No artifacts yet: run.log_artifact(path, name=..., type=...) logs a file or folder as a
        version.
      </div>
    );
  }
  return (
    <div className="nbtrack-artifacts">
      <div className="nbtrack-ws-table-block">
        <div className="nbtrack-ws-table-scroll">
          <table className="nbtrack-runs-table nbtrack-ws-table nbtrack-artifacts-table">
            <thead>
              <tr>
                <th>name</th>
                <th>type</th>
                <th>versions</th>
                <th>latest</th>
                <th>aliases</th>
                <th>size</th>
                <th>updated</th>
              </tr>
            </thead>
            <tbody>
              {state.artifacts.map(a => (
                <tr
                  key={a.name}
                  className={
                    'nbtrack-run-row nbtrack-artifact-row' +
                    (a.name === state.selected ? ' nbtrack-selected' : '')
                  }
                  data-artifact={a.name}
                  onClick={() => props.onSelect(a.name)}
                >
                  <td className="nbtrack-artifact-name">{a.name}</td>
                  <td>{a.type}</td>
                  <td>{a.versions}</td>
                  <td>{a.latest}</td>
                  <td>
                    <Aliases aliases={Object.keys(a.aliases).filter(x => x !== 'latest')} />
                  </td>
                  <td>{formatBytes(a.size)}</td>
                  <td title={formatDateTime(a.updated)}>{formatTime(a.updated)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </div>
      {state.selected ? (
        <ArtifactDetail {...props} />
      ) : (
        <div className="nbtrack-hint">Select an artifact to see its versions and lineage.</div>
      )}
    </div>
  );
}

function ArtifactDetail(props: IArtifactsViewProps): JSX.Element {
  const { state } = props;
  const detail = state.detail;
  if (!detail) {
    return state.detailError ? (
      <div className="nbtrack-error">{state.detailError}</div>
    ) : (
      <div className="nbtrack-hint">Loading…</div>
    );
  }
  const version = detail.versions.find(v => v.version === state.version) ?? null;
  const onNode = (node: ILineageNode) => {
    if (node.name && node.version) {
      props.onSelect(node.name, node.version);
    }
  };
  return (
    <div className="nbtrack-artifact-detail" data-artifact={detail.name}>
      <div className="nbtrack-artifact-heading">
        <span className="nbtrack-run-title">{detail.name}</span>
        <span className="nbtrack-tag">{detail.type}</span>
        <span className="nbtrack-hint">
          {detail.versions.length} version{detail.versions.length === 1 ? '' : 's'}
        </span>
      </div>
      <div className="nbtrack-artifact-columns">
        <table className="nbtrack-kv nbtrack-versions">
          <thead>
            <tr>
              <th>version</th>
              <th>aliases</th>
              <th>files</th>
              <th>size</th>
              <th>logged</th>
              <th>by</th>
            </tr>
          </thead>
          <tbody>
            {detail.versions.map(v => (
              <tr
                key={v.version}
                className={
                  'nbtrack-run-row nbtrack-version-row' +
                  (v.version === state.version ? ' nbtrack-selected' : '')
                }
                data-version={v.version}
                onClick={() => props.onVersion(v.version)}
              >
                <td>{v.version}</td>
                <td>
                  <Aliases aliases={v.aliases} />
                </td>
                <td>{v.files.length}</td>
                <td>{formatBytes(v.size)}</td>
                <td title={formatDateTime(v.created)}>{formatTime(v.created)}</td>
                <td>{v.producer ? `#${v.producer.number} ${v.producer.name ?? ''}` : '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
        {version ? <VersionDetail version={version} name={detail.name} {...props} /> : null}
      </div>
      <div className="nbtrack-lineage-block">
        <div className="nbtrack-ws-section-name">
          Lineage of {detail.name}:{state.version}
        </div>
        {state.lineageError ? (
          <div className="nbtrack-error">{state.lineageError}</div>
        ) : state.lineage ? (
          <LineageGraph
            graph={state.lineage}
            onArtifact={onNode}
            onRun={
              props.onOpenRun ? node => node.run_id && props.onOpenRun!(node.run_id) : undefined
            }
          />
        ) : (
          <div className="nbtrack-hint">Loading…</div>
        )}
      </div>
    </div>
  );
}

function VersionDetail(
  props: IArtifactsViewProps & { version: IArtifactVersionRecord; name: string }
): JSX.Element {
  const { version: v, name, onOpenRun } = props;
  const metadata = Object.entries(v.metadata);
  return (
    <div className="nbtrack-version-detail" data-version={v.version}>
      {v.description ? <p className="nbtrack-artifact-description">{v.description}</p> : null}
      <table className="nbtrack-kv">
        <tbody>
          <tr>
            <th>made by</th>
            <td>{v.producer ? <RunLink run={v.producer} onOpenRun={onOpenRun} /> : '—'}</td>
          </tr>
          <tr>
            <th>used by</th>
            <td className="nbtrack-consumers">
              {v.consumers.length
                ? v.consumers.map(run => (
                    <RunLink key={run.number} run={run} onOpenRun={onOpenRun} />
                  ))
                : '—'}
            </td>
          </tr>
          {metadata.map(([key, value]) => (
            <tr key={`meta-${key}`} data-key={key}>
              <th>{key}</th>
              <td className="nbtrack-value">{formatValue(value)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <div className="nbtrack-files">
        {v.files.map(f => (
          <div key={f.path} className="nbtrack-file" title={`sha256:${f.digest}`}>
            <a
              className="nbtrack-file-link"
              href={artifactFileURL(name, v.version, f.path)}
              download={f.path.split('/').pop()}
            >
              {f.path}
            </a>
            <span className="nbtrack-file-size">{formatBytes(f.size)}</span>
          </div>
        ))}
      </div>
    </div>
  );
}
