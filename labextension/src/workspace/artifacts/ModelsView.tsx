import * as React from 'react';

import { formatDateTime, formatTime } from '../../components/format';
import { IModelSignature } from '../../tokens';
import { Aliases, RunLink } from './ArtifactsView';
import { IArtifactsState } from './store';

export interface IModelsViewProps {
  state: IArtifactsState;
  onSelect: (name: string) => void;
  /** Show an artifact version (`name`, `vN`) in the Artifacts view. */
  onArtifact: (ref: string) => void;
  onOpenRun?: (runId: string) => void;
}

/** `sepal_length: double, x: tensor float32 [-1, 4]` */
export function signatureInputs(signature: IModelSignature | null): string {
  if (!signature || !signature.inputs?.length) {
    return '—';
  }
  return signature.inputs
    .map(spec => {
      const type =
        spec.type === 'tensor'
          ? `tensor ${spec.dtype ?? ''}${spec.shape ? ` [${spec.shape.join(', ')}]` : ''}`
          : spec.type;
      return spec.name ? `${spec.name}: ${type}` : type;
    })
    .join(', ');
}

/** The Models view: registered models (aliases, latest version) and one model's versions. */
export function ModelsView(props: IModelsViewProps): JSX.Element {
  const { state } = props;
  if (state.modelsError) {
    return <div className="nbtrack-error nbtrack-models-error">{state.modelsError}</div>;
  }
  if (!state.modelsLoaded) {
    return <div className="nbtrack-hint">Loading…</div>;
  }
  if (state.models.length === 0) {
    return (
      <div className="nbtrack-hint nbtrack-models-empty">
        No registered models yet: nbtrack.register_model(...)
      </div>
    );
  }
  return (
    <div className="nbtrack-artifacts nbtrack-models">
      <div className="nbtrack-ws-table-block">
        <div className="nbtrack-ws-table-scroll">
          <table className="nbtrack-runs-table nbtrack-ws-table nbtrack-models-table">
            <thead>
              <tr>
                <th>name</th>
                <th>aliases</th>
                <th>latest</th>
                <th>versions</th>
                <th>updated</th>
                <th>description</th>
              </tr>
            </thead>
            <tbody>
              {state.models.map(m => (
                <tr
                  key={m.name}
                  className={
                    'nbtrack-run-row nbtrack-model-row' +
                    (m.name === state.selectedModel ? ' nbtrack-selected' : '')
                  }
                  data-model={m.name}
                  onClick={() => props.onSelect(m.name)}
                >
                  <td className="nbtrack-artifact-name">{m.name}</td>
                  <td>
                    <Aliases
                      aliases={Object.entries(m.aliases).map(([a, v]) => `${a} → v${v}`)}
                    />
                  </td>
                  <td>v{m.latest_version}</td>
                  <td>{m.versions}</td>
                  <td title={formatDateTime(m.updated)}>{formatTime(m.updated)}</td>
                  <td className="nbtrack-model-description">{m.description}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </div>
      {state.selectedModel ? (
        state.model ? (
          <div className="nbtrack-model-detail" data-model={state.model.name}>
            <div className="nbtrack-artifact-heading">
              <span className="nbtrack-run-title">{state.model.name}</span>
              {state.model.description ? (
                <span className="nbtrack-hint">{state.model.description}</span>
              ) : null}
            </div>
            <table className="nbtrack-kv nbtrack-model-versions">
              <thead>
                <tr>
                  <th>version</th>
                  <th>artifact</th>
                  <th>run</th>
                  <th>aliases</th>
                  <th>flavor</th>
                  <th>inputs</th>
                  <th>registered</th>
                  <th>description</th>
                </tr>
              </thead>
              <tbody>
                {state.model.versions.map(v => (
                  <tr key={v.version} data-version={v.version}>
                    <td>v{v.version}</td>
                    <td>
                      <button
                        className="nbtrack-link"
                        title="Show this artifact version"
                        onClick={() => props.onArtifact(v.artifact)}
                      >
                        {v.artifact}
                      </button>
                    </td>
                    <td>{v.run ? <RunLink run={v.run} onOpenRun={props.onOpenRun} /> : '—'}</td>
                    <td>
                      <Aliases aliases={v.aliases} />
                    </td>
                    <td>{v.flavor ?? '—'}</td>
                    <td className="nbtrack-signature">{signatureInputs(v.signature)}</td>
                    <td title={formatDateTime(v.created)}>{formatTime(v.created)}</td>
                    <td className="nbtrack-model-description">{v.description}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ) : state.modelError ? (
          <div className="nbtrack-error">{state.modelError}</div>
        ) : (
          <div className="nbtrack-hint">Loading…</div>
        )
      ) : (
        <div className="nbtrack-hint">Select a model to see its versions.</div>
      )}
    </div>
  );
}
