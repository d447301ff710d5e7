import * as React from 'react';

import { ICellExecution, IRunDetail, IRunUpdate } from '../tokens';
import { ArtifactLinks } from './ArtifactLinks';
import {
  formatBytes,
  formatDateTime,
  formatDuration,
  formatNumber,
  formatValue,
  runLabel
} from './format';
import { Section } from './Section';
import { StatusBadge } from './StatusBadge';

export interface IRunDetailProps {
  run: IRunDetail | null;
  error: string | null;
  onOpenNotebook: (path: string) => void;
  onUpdate: (update: IRunUpdate) => Promise<void>;
  onDelete: () => void;
  onClose: () => void;
  /** Show an artifact version (`name:vN`) in the workspace (absent: refs are plain text). */
  onOpenArtifact?: (ref: string) => void;
  /** Open the executed notebook (`notebook` artifact `ref`) of run number `run`. */
  onOpenExecuted?: (ref: string, run: number) => void;
}

/** Everything about one run: params, summaries, tags and notes, cells in order, env. */
export function RunDetail(props: IRunDetailProps): JSX.Element {
  const { run } = props;
  if (!run) {
    return props.error ? (
      <div className="nbtrack-error">{props.error}</div>
    ) : (
      <div className="nbtrack-hint">Loading…</div>
    );
  }
  const params = Object.entries(run.params);
  return (
    <div className="nbtrack-run-detail" data-run-id={run.id}>
      {props.error ? <div className="nbtrack-error">{props.error}</div> : null}
      {run.lost > 0 ? (
        <div className="nbtrack-error nbtrack-lost">
          {run.lost} item{run.lost === 1 ? '' : 's'} of this run could not be stored (see the
          kernel's warnings and nbtrack.status()).
        </div>
      ) : null}
      <div className="nbtrack-run-header">
        <StatusBadge status={run.status} />
        <span className="nbtrack-run-title">{runLabel(run)}</span>
        <span className="nbtrack-spacer" />
        <button className="jp-mod-styled nbtrack-close" title="Close" onClick={props.onClose}>
          ✕
        </button>
      </div>
      <table className="nbtrack-kv nbtrack-run-facts">
        <tbody>
          <tr>
            <th>id</th>
            <td>{run.id}</td>
          </tr>
          <tr>
            <th>notebook</th>
            <td>
              {run.notebook ? (
                <>
                  <span className="nbtrack-notebook-path">{run.notebook}</span>{' '}
                  <button
                    className="jp-mod-styled nbtrack-open-notebook"
                    onClick={() => props.onOpenNotebook(run.notebook!)}
                  >
                    Open
                  </button>
                </>
              ) : (
                '—'
              )}
            </td>
          </tr>
          <tr>
            <th>started</th>
            <td>{formatDateTime(run.started)}</td>
          </tr>
          <tr>
            <th>duration</th>
            <td>{formatDuration(run.duration)}</td>
          </tr>
          {run.host ? (
            <tr>
              <th>host</th>
              <td>{run.host}</td>
            </tr>
          ) : null}
        </tbody>
      </table>

      <RunEditor run={run} onUpdate={props.onUpdate} />

      <Section title="Params" count={params.length} className="nbtrack-run-params">
        {params.length === 0 ? (
          <div className="nbtrack-hint">No params.</div>
        ) : (
          <table className="nbtrack-kv">
            <tbody>
              {params.map(([key, value]) => (
                <tr key={key} data-key={key}>
                  <th>{key}</th>
                  <td className="nbtrack-value">{formatValue(value)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Section>

      <Section title="Metrics" count={run.metrics.length} className="nbtrack-run-metrics">
        {run.metrics.length === 0 ? (
          <div className="nbtrack-hint">No metrics.</div>
        ) : (
          <table className="nbtrack-kv">
            <thead>
              <tr>
                <th>metric</th>
                <th>value</th>
                <th>min</th>
                <th>max</th>
                <th>steps</th>
              </tr>
            </thead>
            <tbody>
              {run.metrics.map(m => (
                <tr key={m.key} data-key={m.key}>
                  <td className="nbtrack-key">{m.key}</td>
                  <td>{formatNumber(m.value)}</td>
                  <td>{formatNumber(m.min)}</td>
                  <td>{formatNumber(m.max)}</td>
                  <td>{m.count}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Section>

      <Section
        title="Artifacts"
        count={(run.artifacts?.inputs.length ?? 0) + (run.artifacts?.outputs.length ?? 0)}
        className="nbtrack-run-artifacts"
      >
        <ArtifactLinks
          artifacts={run.artifacts ?? { inputs: [], outputs: [] }}
          cells={run.cells}
          onOpen={props.onOpenArtifact}
          onOpenNotebook={
            props.onOpenExecuted ? ref => props.onOpenExecuted!(ref, run.number) : undefined
          }
        />
      </Section>

      <Section title="Cells" count={run.cells.length} className="nbtrack-run-cells">
        {run.cells.length === 0 ? (
          <div className="nbtrack-hint">No cell executions recorded.</div>
        ) : (
          run.cells.map(cell => <CellView key={cell.id} cell={cell} />)
        )}
      </Section>

      <Section title="Environment" className="nbtrack-run-env" closed>
        <EnvView env={run.env} />
      </Section>

      <div className="nbtrack-danger">
        <button className="jp-mod-styled jp-mod-warn nbtrack-delete" onClick={props.onDelete}>
          Delete run
        </button>
      </div>
    </div>
  );
}

/** Name, tags and notes, editable in place. */
function RunEditor(props: {
  run: IRunDetail;
  onUpdate: (update: IRunUpdate) => Promise<void>;
}): JSX.Element {
  const { run } = props;
  const [name, setName] = React.useState(run.name);
  const [tags, setTags] = React.useState(run.tags.join(', '));
  const [notes, setNotes] = React.useState(run.notes);
  const [error, setError] = React.useState<string | null>(null);
  const [saving, setSaving] = React.useState(false);
  // A new run, or the same run changed elsewhere: show what the store holds.
  const stored = `${run.id}\n${run.name}\n${run.tags.join(', ')}\n${run.notes}`;
  React.useEffect(() => {
    setName(run.name);
    setTags(run.tags.join(', '));
    setNotes(run.notes);
  }, [stored]);
  const parsedTags = tags
    .split(',')
    .map(t => t.trim())
    .filter(t => t);
  const dirty =
    name !== run.name || parsedTags.join(',') !== run.tags.join(',') || notes !== run.notes;
  const save = async () => {
    setSaving(true);
    try {
      await props.onUpdate({ name: name.trim() || run.name, tags: parsedTags, notes });
      setError(null);
    } catch (reason) {
      setError(reason instanceof Error ? reason.message : String(reason));
    } finally {
      setSaving(false);
    }
  };
  return (
    <div className="nbtrack-run-editor">
      <label>
        <span>name</span>
        <input
          className="jp-mod-styled nbtrack-edit-name"
          value={name}
          onChange={event => setName(event.target.value)}
        />
      </label>
      <label>
        <span>tags</span>
        <input
          className="jp-mod-styled nbtrack-edit-tags"
          value={tags}
          placeholder="comma, separated"
          onChange={event => setTags(event.target.value)}
        />
      </label>
      <label>
        <span>notes</span>
        <textarea
          className="jp-mod-styled nbtrack-edit-notes"
          value={notes}
          rows={2}
          onChange={event => setNotes(event.target.value)}
        />
      </label>
      {error ? <div className="nbtrack-error">{error}</div> : null}
      {dirty ? (
        <div className="nbtrack-editor-buttons">
          <button
            className="jp-mod-styled"
            onClick={() => {
              setName(run.name);
              setTags(run.tags.join(', '));
              setNotes(run.notes);
            }}
          >
            Cancel
          </button>
          <button
            className="jp-mod-styled jp-mod-accept nbtrack-save"
            disabled={saving}
            onClick={() => void save()}
          >
            Save
          </button>
        </div>
      ) : null}
    </div>
  );
}

/** `1.20 s CPU · +200.0 MB peak`: what a cell execution cost (empty when not recorded). */
function cellResources(cell: ICellExecution): string {
  const parts: string[] = [];
  if (cell.cpu_time !== null && cell.cpu_time !== undefined) {
    parts.push(`${formatDuration(cell.cpu_time)} CPU`);
  }
  if (cell.peak_memory_delta) {
    parts.push(`+${formatBytes(cell.peak_memory_delta)} peak`);
  }
  return parts.join(' · ');
}

function CellView(props: { cell: ICellExecution }): JSX.Element {
  const { cell } = props;
  const resources = cellResources(cell);
  return (
    <div
      className={`nbtrack-cell nbtrack-outcome-${cell.outcome ?? 'unknown'}`}
      data-cell-id={cell.id}
    >
      <div className="nbtrack-cell-title">
        <span className="nbtrack-prompt">[{cell.execution_count ?? ' '}]</span>
        <span>{formatDuration(cell.duration)}</span>
        {resources ? (
          <span className="nbtrack-cell-resources" title="CPU time; peak memory the cell added">
            {resources}
          </span>
        ) : null}
        {cell.outcome && cell.outcome !== 'ok' ? (
          <span className="nbtrack-cell-outcome">
            {cell.outcome}
            {cell.error_type ? `: ${cell.error_type}` : ''}
          </span>
        ) : null}
      </div>
      <pre className="nbtrack-code">{cell.source}</pre>
      {cell.error_message ? <div className="nbtrack-error">{cell.error_message}</div> : null}
      {cell.variables.length ? (
        <div className="nbtrack-variables">
          {cell.variables.map(v => (
            <span
              key={v.name}
              className={`nbtrack-variable nbtrack-variable-${v.change}`}
              title={`${v.change}: ${v.type}${v.shape ? ` ${v.shape}` : ''}\n${v.repr}`}
            >
              {v.change === 'added' ? '+' : v.change === 'deleted' ? '−' : '~'}
              {v.name}
              {v.value !== null && v.value !== undefined ? ` = ${formatValue(v.value)}` : ''}
            </span>
          ))}
        </div>
      ) : null}
    </div>
  );
}

function EnvView(props: { env: { [key: string]: unknown } }): JSX.Element {
  const entries = Object.entries(props.env).filter(([key]) => key !== 'packages' && key !== 'git');
  const git = props.env.git as { [key: string]: unknown } | null | undefined;
  const packages = (props.env.packages ?? {}) as { [name: string]: string };
  const names = Object.keys(packages).sort();
  if (entries.length === 0 && !git && names.length === 0) {
    return <div className="nbtrack-hint">Not captured.</div>;
  }
  return (
    <>
      <table className="nbtrack-kv">
        <tbody>
          {entries.map(([key, value]) => (
            <tr key={key}>
              <th>{key}</th>
              <td className="nbtrack-value">{formatValue(value)}</td>
            </tr>
          ))}
          {git
            ? ['commit', 'branch', 'remote', 'dirty'].map(key =>
                git[key] !== undefined && git[key] !== null ? (
                  <tr key={`git.${key}`}>
                    <th>git.{key}</th>
                    <td className="nbtrack-value">{formatValue(git[key])}</td>
                  </tr>
                ) : null
              )
            : null}
        </tbody>
      </table>
      {git && typeof git.diff === 'string' && git.diff ? (
        <details>
          <summary>git diff</summary>
          <pre className="nbtrack-code">{git.diff}</pre>
        </details>
      ) : null}
      {names.length ? (
        <details>
          <summary>{names.length} packages</summary>
          <table className="nbtrack-kv">
            <tbody>
              {names.map(name => (
                <tr key={name}>
                  <th>{name}</th>
                  <td>{packages[name]}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </details>
      ) : null}
    </>
  );
}
