/**
 * A sweep's best config as Python code (`config = {"lr": 0.0031, ...}`), and copying text to
 * the clipboard.
 */
import { Clipboard } from '@jupyterlab/apputils';

import { ISweepParam, ParamValue } from '../../tokens';

/** `value` as a Python literal; `float` writes whole numbers as `1.0`. */
export function pythonLiteral(value: ParamValue, float = false): string {
  if (value === null) {
    return 'None';
  }
  if (typeof value === 'boolean') {
    return value ? 'True' : 'False';
  }
  if (typeof value === 'number') {
    if (!isFinite(value)) {
      return isNaN(value) ? 'float("nan")' : `float("${value > 0 ? 'inf' : '-inf'}")`;
    }
    const text = String(value);
    return float && Number.isInteger(value) && !/e/i.test(text) ? `${text}.0` : text;
  }
  if (typeof value === 'string') {
    return JSON.stringify(value); // JSON's escapes are Python's too
  }
  if (Array.isArray(value)) {
    return `[${value.map(v => pythonLiteral(v)).join(', ')}]`;
  }
  return `{${Object.entries(value)
    .map(([k, v]) => `${JSON.stringify(k)}: ${pythonLiteral(v)}`)
    .join(', ')}}`;
}

/** `config = {...}`: the config in the space's order, floats as floats. */
export function configCode(config: { [name: string]: ParamValue }, space: ISweepParam[]): string {
  const order = [
    ...space.map(p => p.name).filter(n => n in config),
    ...Object.keys(config).filter(n => !space.some(p => p.name === n))
  ];
  const items = order.map(name => {
    const float = space.find(p => p.name === name)?.type === 'uniform';
    return `    ${JSON.stringify(name)}: ${pythonLiteral(config[name], float)},`;
  });
  return items.length ? `config = {\n${items.join('\n')}\n}\n` : 'config = {}\n';
}

/** Put `text` on the clipboard (the browser's API, else the lab's copy command fallback). */
export async function copyText(text: string): Promise<void> {
  if (navigator.clipboard?.writeText) {
    try {
      await navigator.clipboard.writeText(text);
      return;
    } catch {
      // denied (no focus, no permission): the fallback below
    }
  }
  Clipboard.copyToSystem(text);
}
