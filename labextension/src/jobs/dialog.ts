/**
 * The "Run with parameters" form: one field per parameter of the notebook, prefilled with
 * its value's source, plus the run's name and tags. A plain DOM widget for `showDialog`.
 */
import type { Dialog } from '@jupyterlab/apputils';
import { Widget } from '@lumino/widgets';

import { changedParams, displayed, IParameter } from './params';
import type { IJobRequest } from '../tokens';

/**
 * What the form gives back: the request's params, name and tags; `errors` by field (nothing
 * is sent while there are some) and `texts`, every field's text, to show the form again.
 */
export type JobForm = Pick<IJobRequest, 'params' | 'name' | 'tags'> & {
  errors: { [name: string]: string };
  texts: { [name: string]: string };
};

/** A form shown again: its fields' texts and errors. */
export interface IJobFormState {
  texts: { [name: string]: string };
  errors: { [name: string]: string };
}

function field(label: string, input: HTMLInputElement, note?: string): HTMLElement {
  const row = document.createElement('label');
  row.className = 'nbtrack-job-field';
  const name = document.createElement('span');
  name.className = 'nbtrack-job-label';
  name.textContent = label;
  row.append(name, input);
  if (note) {
    const hint = document.createElement('span');
    hint.className = 'nbtrack-job-note';
    hint.textContent = note;
    row.append(hint);
  }
  return row;
}

function input(value: string, className: string): HTMLInputElement {
  const element = document.createElement('input');
  element.type = 'text';
  element.className = `jp-mod-styled ${className}`;
  element.value = value;
  element.spellcheck = false;
  return element;
}

export class JobDialogBody extends Widget implements Dialog.IBodyWidget<JobForm> {
  private readonly _fields = new Map<string, HTMLInputElement>();
  private readonly _name: HTMLInputElement;
  private readonly _tags: HTMLInputElement;

  constructor(
    readonly parameters: IParameter[],
    notebook: string,
    hasCell: boolean,
    again?: IJobFormState
  ) {
    super();
    this.addClass('nbtrack-job-dialog');
    const intro = document.createElement('p');
    intro.className = 'nbtrack-job-intro';
    intro.textContent = hasCell
      ? `Run ${notebook} in a fresh kernel as a tracked run. Values are Python literals ` +
        "('text', 0.1, [1, 2], True, None); edited plain text that is not one is sent as a string."
      : `${notebook} has no cell tagged "parameters": it runs as it is, as a tracked run.`;
    this.node.append(intro);
    const form = document.createElement('div');
    form.className = 'nbtrack-job-params';
    for (const p of parameters) {
      const element = input(again?.texts[p.name] ?? displayed(p), 'nbtrack-job-param');
      element.dataset.param = p.name;
      this._fields.set(p.name, element);
      const error = again?.errors[p.name];
      if (error) {
        element.classList.add('nbtrack-job-invalid');
        element.setAttribute('aria-invalid', 'true');
        element.addEventListener(
          'input',
          () => {
            element.classList.remove('nbtrack-job-invalid');
            element.removeAttribute('aria-invalid');
            element.parentElement?.querySelector('.nbtrack-job-note')?.remove();
          },
          { once: true }
        );
      }
      const note = error
        ? `${error}: quote text ('adam'), close brackets`
        : p.value === undefined
          ? 'an expression: kept unless edited (then sent as text)'
          : '';
      form.append(field(p.name, element, note));
    }
    this._name = input(again?.texts['\0name'] ?? '', 'nbtrack-job-name');
    this._name.placeholder = 'run name (optional)';
    this._tags = input(again?.texts['\0tags'] ?? '', 'nbtrack-job-tags');
    this._tags.placeholder = 'tag, tag (optional)';
    // One grid for all fields, so their inputs line up; a rule before the run's own.
    const rule = document.createElement('hr');
    rule.className = 'nbtrack-job-rule';
    form.append(rule, field('name', this._name), field('tags', this._tags));
    this.node.append(form);
  }

  getValue(): JobForm {
    const edited: { [name: string]: string } = {};
    for (const [name, element] of this._fields) {
      edited[name] = element.value;
    }
    const tags = this._tags.value
      .split(',')
      .map(t => t.trim())
      .filter(Boolean);
    const name = this._name.value.trim();
    const { params, errors } = changedParams(this.parameters, edited);
    return {
      params,
      errors,
      // Keys no parameter can have: a parameter name is an identifier.
      texts: { ...edited, '\0name': this._name.value, '\0tags': this._tags.value },
      ...(name ? { name } : {}),
      ...(tags.length ? { tags } : {})
    };
  }
}
