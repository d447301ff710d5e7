/**
 * nbtrack's JupyterLab plugins: the Runs sidebar and the run-report export. Plugin objects
 * only; state lives in model.ts, views in widgets/ and components/.
 */
import {
  ILabShell,
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import {
  Dialog,
  ICommandPalette,
  IThemeManager,
  Notification,
  showDialog,
  WidgetTracker
} from '@jupyterlab/apputils';
import { PageConfig, URLExt } from '@jupyterlab/coreutils';
import type { DocumentRegistry } from '@jupyterlab/docregistry';
import { ILauncher } from '@jupyterlab/launcher';
import { IMainMenu } from '@jupyterlab/mainmenu';
import { IStateDB } from '@jupyterlab/statedb';
import { ToolbarButton } from '@jupyterlab/ui-components';
import type { Widget } from '@lumino/widgets';

import * as api from './api';
import { runsIcon } from './icons';
import { openExecutedNotebook, runWithParameters } from './jobs/launch';
import { RunsModel } from './model';
import { RunsPanel } from './widgets/RunsPanel';
import { RunsWorkspace } from './widgets/RunsWorkspace';
import { sanitizeLayout } from './workspace/layout';
import { WorkspaceModel } from './workspace/model';

/** Every command nbtrack adds. */
export namespace CommandIDs {
  export const open = 'nbtrack:open-runs';
  export const refresh = 'nbtrack:refresh-runs';
  export const exportReport = 'nbtrack:export-report';
  export const openWorkspace = 'nbtrack:open-workspace';
  export const openRun = 'nbtrack:open-run';
  export const runWithParameters = 'nbtrack:run-with-parameters';
}

const CATEGORY = 'nbtrack';
const PANEL_ID = 'nbtrack-runs-panel';

/** The Runs panel in the left sidebar. */
const plugin: JupyterFrontEndPlugin<void> = {
  id: 'nbtrack:plugin',
  description: 'nbtrack: the Runs panel (live runs table, charts, diffs) in the left sidebar.',
  autoStart: true,
  optional: [ILabShell, ICommandPalette, ILayoutRestorer],
  activate: (
    app: JupyterFrontEnd,
    labShell: ILabShell | null,
    palette: ICommandPalette | null,
    restorer: ILayoutRestorer | null
  ): void => {
    const panel = new RunsPanel(new RunsModel(), {
      openNotebook: path => void app.commands.execute('docmanager:open', { path }),
      openWorkspace: view => void app.commands.execute(CommandIDs.openWorkspace, { view }),
      openArtifact: ref =>
        void app.commands.execute(CommandIDs.openWorkspace, { view: 'artifacts', ref }),
      openExecutedNotebook: (ref, run) => void openExecutedNotebook(app, ref, run),
      confirmDelete: async label => {
        const result = await showDialog({
          title: 'Delete run',
          body: `Delete ${label}? It disappears from every list (the store keeps it).`,
          buttons: [Dialog.cancelButton(), Dialog.warnButton({ label: 'Delete' })]
        });
        return result.button.accept;
      }
    });
    panel.id = PANEL_ID;
    panel.title.icon = runsIcon;
    panel.title.caption = 'nbtrack runs';
    (labShell ?? app.shell).add(panel, 'left', { rank: 850 });
    restorer?.add(panel, PANEL_ID);

    app.commands.addCommand(CommandIDs.open, {
      label: 'nbtrack: Open runs panel',
      icon: runsIcon,
      execute: () => app.shell.activateById(panel.id)
    });
    app.commands.addCommand(CommandIDs.openRun, {
      label: 'nbtrack: Show run',
      execute: args => {
        app.shell.activateById(panel.id);
        return panel.model.openRun(String(args.id));
      }
    });
    app.commands.addCommand(CommandIDs.refresh, {
      label: 'nbtrack: Refresh runs',
      execute: () => panel.model.refresh()
    });
    for (const command of [CommandIDs.open, CommandIDs.refresh]) {
      palette?.addItem({ command, category: CATEGORY });
    }
  }
};

/** Where the workspace's layout is kept in the state database (saved with the lab workspace). */
const LAYOUT_KEY = 'nbtrack:workspace-layout';

/** The Runs workspace in the main area: one instance, from the palette, launcher and sidebar. */
const workspacePlugin: JupyterFrontEndPlugin<void> = {
  id: 'nbtrack:workspace',
  description: 'nbtrack: the Runs workspace (runs table and a chart per metric) in the main area.',
  autoStart: true,
  optional: [ICommandPalette, ILauncher, ILayoutRestorer, IStateDB, IThemeManager],
  activate: (
    app: JupyterFrontEnd,
    palette: ICommandPalette | null,
    launcher: ILauncher | null,
    restorer: ILayoutRestorer | null,
    state: IStateDB | null,
    themes: IThemeManager | null
  ): void => {
    const tracker = new WidgetTracker<RunsWorkspace>({ namespace: 'nbtrack-workspace' });
    let current: RunsWorkspace | null = null;

    const create = (): RunsWorkspace => {
      const model = new WorkspaceModel();
      const widget = new RunsWorkspace(model, {
        openRun: id => void app.commands.execute(CommandIDs.openRun, { id })
      });
      widget.id = 'nbtrack-runs-workspace';
      widget.title.label = 'Runs';
      widget.title.caption = 'nbtrack: Runs workspace';
      widget.title.icon = runsIcon;
      widget.title.closable = true;
      if (state) {
        // The widget opens at once; the saved layout follows, unless the user changed the
        // layout meanwhile.
        let touched = false;
        void state
          .fetch(LAYOUT_KEY)
          .then(saved => {
            if (!touched && saved !== undefined && !model.isDisposed) {
              model.restoreLayout(sanitizeLayout(saved));
            }
          })
          .catch(error => console.warn('nbtrack: could not read the saved workspace layout', error));
        let timer: ReturnType<typeof setTimeout> | undefined;
        model.layoutChanged.connect((_, layout) => {
          touched = true;
          clearTimeout(timer);
          timer = setTimeout(() => {
            void state.save(LAYOUT_KEY, JSON.parse(JSON.stringify(layout))).catch(error =>
              console.warn('nbtrack: could not save the workspace layout', error)
            );
          }, 200);
        });
      }
      widget.disposed.connect(() => {
        if (current === widget) {
          current = null;
        }
      });
      return widget;
    };

    app.commands.addCommand(CommandIDs.openWorkspace, {
      label: args => (args.isLauncher ? 'Runs workspace' : 'nbtrack: Open Runs workspace'),
      caption: 'Compare runs: a wide runs table and a chart per metric',
      icon: runsIcon,
      execute: args => {
        if (!current || current.isDisposed) {
          current = create();
          app.shell.add(current, 'main');
          void tracker.add(current);
        }
        app.shell.activateById(current.id);
        // {view: 'artifacts' | 'models' | 'sweeps' | 'runs'}, and {ref: 'name:vN'} to select
        // a version.
        const view = args.view;
        if (view === 'runs' || view === 'artifacts' || view === 'models' || view === 'sweeps') {
          current.model.setView(view);
        }
        if (typeof args.ref === 'string' && args.ref.includes(':')) {
          const [name, version] = args.ref.split(':');
          void current.model.artifacts.select(name, version);
        }
        return current;
      }
    });
    palette?.addItem({ command: CommandIDs.openWorkspace, category: CATEGORY });
    launcher?.add({
      command: CommandIDs.openWorkspace,
      category: 'nbtrack',
      rank: 1,
      args: { isLauncher: true }
    });
    restorer?.restore(tracker, { command: CommandIDs.openWorkspace, name: () => 'runs' });
    themes?.themeChanged.connect(() => current?.update());
  }
};

/** The document context of a notebook widget, if `widget` is one. */
function notebookContext(widget: Widget | null | undefined): DocumentRegistry.Context | null {
  const context = (widget as { context?: DocumentRegistry.Context } | null | undefined)?.context;
  return context && context.path.endsWith('.ipynb') ? context : null;
}

/** Save the notebook, write its run report on the server, open the report. */
async function exportReport(app: JupyterFrontEnd, context: DocumentRegistry.Context): Promise<void> {
  try {
    if (context.model.dirty && !context.model.readOnly) {
      await context.save();
    }
    const { path } = await api.exportReport(context.path);
    const url = URLExt.join(PageConfig.getBaseUrl(), 'files', URLExt.encodeParts(path));
    const opened = (await app.commands.execute('docmanager:open', {
      path,
      factory: 'HTML Viewer'
    })) as { trusted?: boolean } | undefined;
    // We wrote this file just now from the user's own notebook: let its own scripts draw the
    // charts (HTMLViewer.trusted). Notebook HTML outputs inside it stay in script-less frames.
    if (opened && 'trusted' in opened) {
      opened.trusted = true;
    }
    Notification.success(`Run report written to ${path}`, {
      autoClose: 8000,
      actions: [{ label: 'Open in a browser tab', callback: () => window.open(url, '_blank') }]
    });
  } catch (error) {
    Notification.error(
      `Could not export the run report: ${error instanceof Error ? error.message : error}`,
      { autoClose: false }
    );
  }
}

/** "nbtrack: Export run report" in the palette, the File menu and the notebook toolbar. */
const reportPlugin: JupyterFrontEndPlugin<void> = {
  id: 'nbtrack:report',
  description: "nbtrack: export a notebook's runs as a self-contained HTML report.",
  autoStart: true,
  optional: [ICommandPalette, IMainMenu],
  activate: (
    app: JupyterFrontEnd,
    palette: ICommandPalette | null,
    mainMenu: IMainMenu | null
  ): void => {
    app.commands.addCommand(CommandIDs.exportReport, {
      label: 'nbtrack: Export run report',
      caption: "Write this notebook's runs, charts and code to an HTML report, then open it",
      icon: runsIcon,
      isEnabled: () => notebookContext(app.shell.currentWidget) !== null,
      execute: () => {
        const context = notebookContext(app.shell.currentWidget);
        return context ? exportReport(app, context) : undefined;
      }
    });
    palette?.addItem({ command: CommandIDs.exportReport, category: CATEGORY });
    mainMenu?.fileMenu.addGroup([{ command: CommandIDs.exportReport }], 40);

    app.docRegistry.addWidgetExtension('Notebook', {
      createNew: (widget, context) => {
        const button = new ToolbarButton({
          className: 'nbtrack-report-button',
          icon: runsIcon,
          tooltip: 'nbtrack: Export run report',
          onClick: () => void exportReport(app, context)
        });
        (widget as { toolbar?: { insertItem(i: number, n: string, w: Widget): boolean } })
          .toolbar?.insertItem(10, 'nbtrackReport', button);
        return button;
      }
    });
  }
};

/** Start "Run with parameters..." on the notebook at `path` (open or not). */
function runNotebookJob(
  app: JupyterFrontEnd,
  path: string,
  context: DocumentRegistry.Context | null
): Promise<unknown> {
  return runWithParameters(app, path, context, runId =>
    void app.commands.execute(CommandIDs.openRun, { id: runId })
  );
}

/**
 * "Run with parameters..." in the palette, the notebook's toolbar and context menu: the
 * notebook runs as a tracked job in the background (`POST jobs`) and shows in the sidebar.
 */
const jobsPlugin: JupyterFrontEndPlugin<void> = {
  id: 'nbtrack:jobs',
  description: 'nbtrack: run a notebook with parameters as a tracked run, in the background.',
  autoStart: true,
  optional: [ICommandPalette],
  activate: (app: JupyterFrontEnd, palette: ICommandPalette | null): void => {
    app.commands.addCommand(CommandIDs.runWithParameters, {
      label: args => (args.isPalette ? 'nbtrack: Run with parameters…' : 'Run with parameters…'),
      caption: 'Run this notebook in a fresh kernel as a tracked run, with new parameter values',
      icon: runsIcon,
      isEnabled: () => notebookContext(app.shell.currentWidget) !== null,
      execute: args => {
        const context = notebookContext(app.shell.currentWidget);
        const path = typeof args.path === 'string' ? args.path : context?.path;
        if (!path) {
          return null;
        }
        return runNotebookJob(app, path, context && context.path === path ? context : null);
      }
    });
    palette?.addItem({
      command: CommandIDs.runWithParameters,
      category: CATEGORY,
      args: { isPalette: true }
    });
    app.contextMenu.addItem({
      command: CommandIDs.runWithParameters,
      selector: '.jp-Notebook',
      rank: 90
    });
    app.docRegistry.addWidgetExtension('Notebook', {
      createNew: (widget, context) => {
        const button = new ToolbarButton({
          className: 'nbtrack-run-job-button',
          label: 'Run with parameters…',
          tooltip: 'nbtrack: run this notebook with parameters as a tracked run',
          onClick: () => void runNotebookJob(app, context.path, context)
        });
        (widget as { toolbar?: { insertItem(i: number, n: string, w: Widget): boolean } })
          .toolbar?.insertItem(11, 'nbtrackRunJob', button);
        return button;
      }
    });
  }
};

export default [workspacePlugin, plugin, reportPlugin, jobsPlugin];
