import { refreshIcon } from '@jupyterlab/ui-components';
import * as React from 'react';

import { ChartView } from '../components/ChartView';
import { DiffView } from '../components/DiffView';
import { RunDetail } from '../components/RunDetail';
import { RunsTable } from '../components/RunsTable';
import { FilterBox } from '../components/FilterBox';
import { RunsModel, ViewTab } from '../model';
import { PolledWidget } from './PolledWidget';

/** What the panel asks of JupyterLab (kept out of the components). */
export interface IRunsPanelActions {
  /** Open a notebook by its path relative to the server root. */
  openNotebook: (path: string) => void;
  /** Ask the user before deleting a run; resolve true to go on. */
  confirmDelete: (label: string) => Promise<boolean>;
  /** Open the Runs workspace in the main area, on a view (absent: no button). */
  openWorkspace?: (view?: 'runs' | 'artifacts' | 'models' | 'sweeps') => void;
  /** Show an artifact version (`name:vN`) in the workspace's Artifacts view. */
  openArtifact?: (ref: string) => void;
  /** Open the executed notebook (a `notebook` artifact version) of run number `run`. */
  openExecutedNotebook?: (ref: string, run: number) => void;
}

/** The Runs sidebar: a ReactWidget that re-renders on every model change. */
export class RunsPanel extends PolledWidget<RunsModel> {
  constructor(
    model: RunsModel,
    private readonly _actions: IRunsPanelActions
  ) {
    super(model);
    this.addClass('nbtrack-panel');
  }

  protected render(): JSX.Element {
    return <RunsPanelView model={this.model} actions={this._actions} />;
  }
}

const TABS: { id: ViewTab; label: string }[] = [
  { id: 'chart', label: 'Chart' },
  { id: 'diff', label: 'Diff' },
  { id: 'run', label: 'Run' }
];

function RunsPanelView(props: { model: RunsModel; actions: IRunsPanelActions }): JSX.Element {
  const { model, actions } = props;
  const state = model.state;
  const selectedCount = state.selected.length;
  const onDelete = async () => {
    const run = state.openRun;
    if (run && (await actions.confirmDelete(`#${run.number} ${run.name}`))) {
      await model.deleteRun(run.id);
    }
  };
  return (
    <div className="nbtrack-panel-body">
      <div className="nbtrack-header">
        <span className="nbtrack-title">Runs</span>
        {state.offline ? (
          <span className="nbtrack-offline" title={state.offline}>
            offline
          </span>
        ) : null}
        <span className="nbtrack-spacer" />
        {actions.openWorkspace ? (
          <button
            className="jp-mod-styled nbtrack-open-workspace"
            title="Open the Runs workspace: every run and metric side by side"
            onClick={() => actions.openWorkspace!('runs')}
          >
            Workspace
          </button>
        ) : null}
        <button
          className="jp-ToolbarButtonComponent nbtrack-refresh"
          title="Refresh runs"
          onClick={() => void model.refresh()}
        >
          <refreshIcon.react tag="span" />
        </button>
      </div>
      {actions.openWorkspace ? (
        <div className="nbtrack-store-counts">
          <button
            className="nbtrack-link nbtrack-open-artifacts"
            title="Open the Artifacts view of the Runs workspace"
            onClick={() => actions.openWorkspace!('artifacts')}
          >
            Artifacts <span className="nbtrack-section-count">{state.artifactCount ?? '–'}</span>
          </button>
          <button
            className="nbtrack-link nbtrack-open-models"
            title="Open the Models view of the Runs workspace"
            onClick={() => actions.openWorkspace!('models')}
          >
            Models <span className="nbtrack-section-count">{state.modelCount ?? '–'}</span>
          </button>
          <button
            className="nbtrack-link nbtrack-open-sweeps"
            title="Open the Sweeps view of the Runs workspace"
            onClick={() => actions.openWorkspace!('sweeps')}
          >
            Sweeps <span className="nbtrack-section-count">{state.sweepCount ?? '–'}</span>
          </button>
        </div>
      ) : null}
      <FilterBox filter={state.filter} onChange={text => model.setFilter(text)} />
      {state.runsError ? (
        <div className="nbtrack-error nbtrack-runs-error">{state.runsError}</div>
      ) : null}
      <div className="nbtrack-table-area">
        <RunsTable
          runs={state.runs}
          total={state.total}
          loading={state.loadingRuns}
          sort={state.sort}
          order={state.order}
          metric={state.metric}
          selected={state.selected}
          openRunId={state.openRunId}
          onSort={sort => model.setSort(sort)}
          onToggle={id => model.toggleSelected(id)}
          onToggleAll={() => model.toggleAll()}
          onOpen={id => void model.openRun(id)}
          onLoadMore={() => void model.loadMore()}
          resetKey={`${state.sort} ${state.order} ${state.filter}`}
        />
      </div>
      <div className="nbtrack-selection-bar">
        <span>{selectedCount ? `${selectedCount} selected` : 'None selected'}</span>
        <span className="nbtrack-spacer" />
        <button
          className="jp-mod-styled nbtrack-compare"
          disabled={selectedCount < 2}
          title="Compare the selected runs"
          onClick={() => void model.showDiff()}
        >
          Compare
        </button>
        <button
          className="jp-mod-styled nbtrack-clear"
          disabled={selectedCount === 0}
          onClick={() => model.clearSelection()}
        >
          Clear
        </button>
      </div>
      <div className="nbtrack-tabs" role="tablist">
        {TABS.map(tab => (
          <button
            key={tab.id}
            role="tab"
            aria-selected={state.tab === tab.id}
            className={`nbtrack-tab nbtrack-tab-${tab.id}` + (state.tab === tab.id ? ' nbtrack-active' : '')}
            onClick={() => model.setTab(tab.id)}
          >
            {tab.label}
          </button>
        ))}
      </div>
      <div className="nbtrack-view-area">
        {state.tab === 'chart' ? (
          <ChartView
            spec={state.chart}
            error={state.chartError}
            loading={state.chartLoading}
            selectedCount={selectedCount}
            metricKeys={state.metricKeys}
            metric={state.metric}
            logScale={state.logScale}
            smoothing={state.smoothing}
            onMetric={metric => model.setMetric(metric)}
            onLogScale={log => model.setLogScale(log)}
            onSmoothing={value => model.setSmoothing(value)}
          />
        ) : state.tab === 'diff' ? (
          <DiffView
            diff={state.diffRuns.length > 1 ? state.diff : null}
            error={state.diffError}
            selectedCount={selectedCount}
            onCompare={() => void model.showDiff()}
          />
        ) : state.openRunId ? (
          <RunDetail
            run={state.openRun?.id === state.openRunId ? state.openRun : null}
            error={state.runError}
            onOpenNotebook={actions.openNotebook}
            onUpdate={update => model.updateRun(state.openRunId!, update)}
            onDelete={() => void onDelete()}
            onClose={() => model.closeRun()}
            onOpenArtifact={actions.openArtifact}
            onOpenExecuted={actions.openExecutedNotebook}
          />
        ) : (
          <div className="nbtrack-hint">Click a run to see its params, metrics and cells.</div>
        )}
      </div>
    </div>
  );
}
