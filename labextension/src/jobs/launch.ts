/**
 * "Run with parameters...": read a notebook's parameters cell, ask for values, start the job
 * on the server (`POST jobs`), follow it to its end; and open a run's executed notebook.
 */
import type { JupyterFrontEnd } from '@jupyterlab/application';
import { Dialog, Notification, showDialog } from '@jupyterlab/apputils';
import { PathExt } from '@jupyterlab/coreutils';
import type { DocumentRegistry } from '@jupyterlab/docregistry';

import * as api from '../api';
import type { IJobRecord } from '../tokens';
import { IJobFormState, JobDialogBody, JobForm } from './dialog';
import { parametersSource, parseParameters } from './params';

/** How often a running job is asked about (ms). */
const POLL_MS = 2000;
/** How many failed polls in a row end the watch (the server went away). */
const MAX_POLL_ERRORS = 15;

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The notebook's JSON: from the open document when there is one, else from the server. */
async function notebookJSON(
  app: JupyterFrontEnd,
  path: string,
  context: DocumentRegistry.Context | null
): Promise<any> {
  if (context) {
    return context.model.toJSON();
  }
  const model = await app.serviceManager.contents.get(path, { content: true, type: 'notebook' });
  return model.content;
}

/**
 * Show the dialog for the notebook at `path` (relative to the server root) and start the
 * job; the open document `context`, when given, is saved first so the job runs what is shown.
 */
export async function runWithParameters(
  app: JupyterFrontEnd,
  path: string,
  context: DocumentRegistry.Context | null,
  openRun: (runId: string) => void
): Promise<IJobRecord | null> {
  try {
    if (context && context.model.dirty && !context.model.readOnly) {
      await context.save();
    }
    const source = parametersSource(await notebookJSON(app, path, context));
    const parameters = parseParameters(source ?? '');
    let again: IJobFormState | undefined;
    let form: JobForm;
    // Shown again, with the fields as they were, while a field holds a broken literal.
    for (;;) {
      const body = new JobDialogBody(parameters, PathExt.basename(path), source !== null, again);
      const result = await showDialog({
        title: 'Run with parameters',
        body,
        buttons: [Dialog.cancelButton(), Dialog.okButton({ label: 'Run' })],
        focusNodeSelector: again
          ? 'input.nbtrack-job-invalid'
          : 'input.nbtrack-job-param, input.nbtrack-job-name'
      });
      if (!result.button.accept || !result.value) {
        return null;
      }
      form = result.value;
      if (!Object.keys(form.errors).length) {
        break;
      }
      again = { texts: form.texts, errors: form.errors };
    }
    const job = await api.startJob({
      path,
      params: form.params,
      ...(form.name ? { name: form.name } : {}),
      ...(form.tags ? { tags: form.tags } : {})
    });
    const changed = Object.entries(job.params)
      .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
      .join(', ');
    Notification.info(
      `Running ${PathExt.basename(path)}${changed ? ` with ${changed}` : ''}` +
        (job.warnings.length ? ` (${job.warnings.join('; ')})` : ''),
      { autoClose: 6000 }
    );
    void app.commands.execute('nbtrack:refresh-runs').catch(() => undefined);
    void watchJob(job, openRun);
    return job;
  } catch (error) {
    Notification.error(`Could not run ${path}: ${message(error)}`, { autoClose: false });
    return null;
  }
}

/** Poll a job until it ends, then say how it ended, with a button that shows its run. */
export async function watchJob(job: IJobRecord, openRun: (runId: string) => void): Promise<void> {
  let record = job;
  let errors = 0;
  while (record.status === 'running') {
    await new Promise(resolve => setTimeout(resolve, POLL_MS));
    try {
      record = await api.getJob(job.id);
      errors = 0;
    } catch (error) {
      if (++errors >= MAX_POLL_ERRORS) {
        Notification.warning(`Lost track of the job on ${job.notebook}: ${message(error)}`);
        return;
      }
    }
  }
  const label = `${PathExt.basename(record.notebook)}${record.run ? ` (run #${record.run})` : ''}`;
  const runId = record.run_id;
  const actions = runId ? [{ label: 'Show run', callback: () => openRun(runId) }] : [];
  if (record.status === 'finished') {
    Notification.success(`Job finished: ${label}`, { autoClose: 10000, actions });
  } else {
    const where = record.cell ? ` in cell ${record.cell}` : '';
    const error = record.error ? `: ${record.error}` : '';
    Notification.error(`Job ${record.status}${where}: ${label}${error}`, {
      autoClose: false,
      actions
    });
  }
}

/** A path beside `directory` named after `stem` that no file has yet. */
async function freePath(app: JupyterFrontEnd, directory: string, stem: string): Promise<string> {
  for (let i = 0; ; i++) {
    const path = PathExt.join(directory, `${stem}${i ? `-${i}` : ''}.ipynb`);
    try {
      await app.serviceManager.contents.get(path, { content: false });
    } catch {
      return path;
    }
  }
}

/**
 * Open the executed notebook of an artifact version (`train.ipynb:v3`): its file is fetched
 * and saved as a new notebook beside the source (`train-run7.ipynb`), then opened.
 */
export async function openExecutedNotebook(
  app: JupyterFrontEnd,
  ref: string,
  runNumber: number
): Promise<string | null> {
  try {
    const at = ref.lastIndexOf(':');
    const name = ref.slice(0, at);
    const version = ref.slice(at + 1);
    const detail = await api.getArtifact(name);
    const record = detail.versions.find(v => v.version === version);
    const file = record?.files.find(f => f.path.endsWith('.ipynb')) ?? record?.files[0];
    if (!record || !file) {
      throw new Error(`${ref} has no notebook file`);
    }
    const content = JSON.parse(await api.getArtifactFileText(name, version, file.path));
    const source = typeof record.metadata.source === 'string' ? record.metadata.source : name;
    const stem = PathExt.basename(source, PathExt.extname(source)) || 'executed';
    const path = await freePath(app, PathExt.dirname(source), `${stem}-run${runNumber}`);
    await app.serviceManager.contents.save(path, { type: 'notebook', format: 'json', content });
    await app.commands.execute('docmanager:open', { path });
    return path;
  } catch (error) {
    Notification.error(`Could not open the executed notebook ${ref}: ${message(error)}`, {
      autoClose: false
    });
    return null;
  }
}
