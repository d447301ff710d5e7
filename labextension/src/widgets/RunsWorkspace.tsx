import { refreshIcon } from '@jupyterlab/ui-components';
import * as React from 'react';

import { runLabel } from '../components/format';
import { ChartPanel, IShownRun } from '../workspace/ChartPanel';
import { ChartSection } from '../workspace/ChartSection';
import { isLightTheme, runColor } from '../workspace/colors';
import { IPanelSettings, panelSettings } from '../workspace/layout';
import { MediaSection } from '../workspace/MediaSection';
import { ArtifactsView } from '../workspace/artifacts/ArtifactsView';
import { ModelsView } from '../workspace/artifacts/ModelsView';
import { SweepsView } from '../workspace/sweeps/SweepsView';
import { WORKSPACE_VIEWS, WorkspaceModel, WorkspaceView } from '../workspace/model';
import { moved, sectionsOf } from '../workspace/sections';
import { FilterBox } from '../components/FilterBox';
import { WorkspaceTable } from '../workspace/WorkspaceTable';
import { PolledWidget } from './PolledWidget';

/** What the workspace asks of JupyterLab (kept out of the components). */
export interface IWorkspaceActions {
  /** Show a run (its detail in the Runs sidebar); absent: runs are not links. */
  openRun?: (runId: string) => void;
}

/**
 * The Runs workspace in the main area: the runs table on top, then one chart panel per metric
 * key in sections by prefix; or the Artifacts, Models or Sweeps view. A ReactWidget that re-renders
 * on every model change; the model polls only while this widget is visible.
 */
export class RunsWorkspace extends PolledWidget<WorkspaceModel> {
  constructor(
    model: WorkspaceModel,
    private readonly _actions: IWorkspaceActions = {}
  ) {
    super(model);
    this.addClass('nbtrack-workspace');
  }

  protected render(): JSX.Element {
    return <WorkspaceBody model={this.model} light={isLightTheme()} actions={this._actions} />;
  }
}

const VIEW_LABELS: { [view in WorkspaceView]: string } = {
  runs: 'Runs',
  artifacts: 'Artifacts',
  models: 'Models',
  sweeps: 'Sweeps'
};

function WorkspaceBody(props: {
  model: WorkspaceModel;
  light: boolean;
  actions: IWorkspaceActions;
}): JSX.Element {
  const { model, light, actions } = props;
  const state = model.state;

  return (
    <div className="nbtrack-ws-body">
      <div className="nbtrack-ws-header">
        <span className="nbtrack-title">Runs workspace</span>
        <div className="nbtrack-tabs nbtrack-ws-views" role="tablist">
          {WORKSPACE_VIEWS.map(view => (
            <button
              key={view}
              role="tab"
              aria-selected={state.view === view}
              className={
                `nbtrack-tab nbtrack-ws-view-${view}` +
                (state.view === view ? ' nbtrack-active' : '')
              }
              onClick={() => model.setView(view)}
            >
              {VIEW_LABELS[view]}
            </button>
          ))}
        </div>
        {state.offline ? (
          <span className="nbtrack-offline" title={state.offline}>
            offline
          </span>
        ) : null}
        {state.view === 'runs' ? (
          <FilterBox filter={state.filter} onChange={text => model.setFilter(text)} className="nbtrack-ws-filter" />
        ) : (
          <span className="nbtrack-spacer" />
        )}
        <button
          className="jp-ToolbarButtonComponent nbtrack-refresh"
          title="Refresh"
          onClick={() => void model.refresh()}
        >
          <refreshIcon.react tag="span" />
        </button>
      </div>
      {state.view === 'artifacts' ? (
        <ArtifactsView
          state={model.artifacts.state}
          onSelect={(name, version) => void model.artifacts.select(name, version)}
          onVersion={version => void model.artifacts.selectVersion(version)}
          onOpenRun={actions.openRun}
        />
      ) : state.view === 'models' ? (
        <ModelsView
          state={model.artifacts.state}
          onSelect={name => void model.artifacts.selectModel(name)}
          onArtifact={ref => {
            const [name, version] = ref.split(':');
            model.setView('artifacts');
            void model.artifacts.select(name, version);
          }}
          onOpenRun={actions.openRun}
        />
      ) : state.view === 'sweeps' ? (
        <SweepsView
          state={model.sweeps.state}
          onSelect={name => void model.sweeps.select(name)}
          onOpenRun={actions.openRun}
        />
      ) : (
        <RunsView model={model} light={light} />
      )}
    </div>
  );
}

/** The runs table and the chart sections. */
function RunsView(props: { model: WorkspaceModel; light: boolean }): JSX.Element {
  const { model, light } = props;
  const state = model.state;
  const layout = state.layout;

  const colors = React.useMemo(
    () => new Map(state.runs.map(run => [run.id, runColor(run, light)])),
    [state.runs, light]
  );
  const shown = React.useMemo<IShownRun[]>(() => {
    const hidden = new Set(layout.hidden);
    return state.runs
      .filter(run => !hidden.has(run.id))
      .map(run => ({ id: run.id, label: runLabel(run), color: colors.get(run.id)! }));
  }, [state.runs, layout.hidden, colors]);
  const sections = React.useMemo(
    () => sectionsOf(state.metricKeys, layout.order),
    [state.metricKeys, layout.order]
  );
  const mediaPanels = React.useMemo(
    () => model.media.panels(shown.map(run => run.id)),
    [shown, state.mediaVersion]
  );

  // Stable callbacks, so panels whose own props did not change skip re-rendering.
  const latest = React.useRef(state);
  latest.current = state;
  const callbacks = React.useMemo(
    () => ({
      onVisible: (key: string) => model.want(key),
      onChange: (key: string, change: Partial<IPanelSettings>) => {
        const current = latest.current.layout;
        model.updateLayout({
          panels: { ...current.panels, [key]: { ...panelSettings(current, key), ...change } }
        });
      },
      onMove: (key: string, offset: number) => {
        const s = latest.current;
        model.updateLayout({ order: moved(s.metricKeys, s.layout.order, key, { offset }) });
      },
      onDrop: (source: string, target: string) => {
        const s = latest.current;
        model.updateLayout({ order: moved(s.metricKeys, s.layout.order, source, { target }) });
      }
    }),
    [model]
  );
  const toggleSection = (name: string) => {
    const collapsed = layout.collapsedSections;
    model.updateLayout({
      collapsedSections: collapsed.includes(name)
        ? collapsed.filter(n => n !== name)
        : [...collapsed, name]
    });
  };

  return (
    <>
      {state.runsError ? (
        <div className="nbtrack-error nbtrack-runs-error">{state.runsError}</div>
      ) : null}
      <WorkspaceTable
        runs={state.runs}
        total={state.total}
        loading={state.loadingRuns}
        sort={state.sort}
        order={state.order}
        columns={layout.columns}
        groupBy={layout.groupBy}
        collapsedGroups={layout.collapsedGroups}
        hidden={layout.hidden}
        colors={colors}
        paramKeys={state.paramKeys}
        metricKeys={state.metricKeys}
        onSort={sort => model.setSort(sort)}
        onHidden={(ids, hide) => {
          const rest = layout.hidden.filter(id => !ids.includes(id));
          model.updateLayout({ hidden: hide ? [...rest, ...ids] : rest });
        }}
        onColumns={columns => model.updateLayout({ columns })}
        onGroupBy={groupBy => model.updateLayout({ groupBy })}
        onToggleGroup={label => {
          const groups = layout.collapsedGroups;
          model.updateLayout({
            collapsedGroups: groups.includes(label)
              ? groups.filter(g => g !== label)
              : [...groups, label]
          });
        }}
      />
      {state.seriesError ? (
        <div className="nbtrack-error nbtrack-ws-series-error">{state.seriesError}</div>
      ) : null}
      <div className="nbtrack-ws-sections">
        {state.ready && sections.length === 0 && mediaPanels.length === 0 ? (
          <div className="nbtrack-hint">
            No metrics yet: charts appear here, one per key, as runs log them.
          </div>
        ) : null}
        {sections.map(section => (
          <ChartSection
            key={section.name}
            name={section.name}
            count={section.keys.length}
            collapsed={layout.collapsedSections.includes(section.name)}
            onToggle={toggleSection}
          >
            {section.keys.map((key, i) => (
              <ChartPanel
                key={key}
                metricKey={key}
                settings={panelSettings(layout, key)}
                runs={shown}
                series={model.seriesOf(key)}
                version={state.versions[key] ?? 0}
                loading={state.loading.includes(key)}
                canMoveLeft={i > 0}
                canMoveRight={i < section.keys.length - 1}
                {...callbacks}
              />
            ))}
          </ChartSection>
        ))}
        <MediaSection
          panels={mediaPanels}
          runs={shown}
          store={model.media}
          version={state.mediaVersion}
          layout={layout}
          onToggle={toggleSection}
          onChange={callbacks.onChange}
        />
      </div>
    </>
  );
}
