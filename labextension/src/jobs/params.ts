/**
 * The `parameters` cell of a notebook, read in the browser: a tiny parser for Python
 * literals (numbers, strings, True/False/None, lists and tuples of them). Nothing here is
 * ever evaluated: values go to the server as JSON.
 */
import type { JobParamValue } from '../tokens';

/** One `name = value` of the parameters cell. */
export interface IParameter {
  name: string;
  /** The value's source text as the notebook has it (comment left out). */
  source: string;
  /** The parsed literal; undefined when the value is not a literal (an expression). */
  value: JobParamValue | undefined;
}

class Reader {
  pos = 0;
  constructor(readonly text: string) {}

  skipSpace(): void {
    while (this.pos < this.text.length && /\s/.test(this.text[this.pos])) {
      this.pos++;
    }
  }

  peek(): string {
    return this.text[this.pos] ?? '';
  }
}

const NUMBER = /^[+-]?(?:\d[\d_]*(?:\.[\d_]*)?|\.\d[\d_]*)(?:[eE][+-]?\d+)?/;
const ESCAPES: { [c: string]: string } = {
  n: '\n',
  t: '\t',
  r: '\r',
  '0': '\0',
  '\\': '\\',
  "'": "'",
  '"': '"',
  '\n': ''
};

function readString(reader: Reader): string {
  let raw = false;
  let prefix = reader.peek().toLowerCase();
  if (prefix === 'r' || prefix === 'u') {
    raw = prefix === 'r';
    reader.pos++;
    prefix = reader.peek();
  }
  const quote = reader.peek();
  if (quote !== '"' && quote !== "'") {
    throw new Error('not a string');
  }
  const triple = reader.text.startsWith(quote.repeat(3), reader.pos);
  const end = triple ? quote.repeat(3) : quote;
  reader.pos += end.length;
  let out = '';
  while (reader.pos < reader.text.length) {
    if (reader.text.startsWith(end, reader.pos)) {
      reader.pos += end.length;
      return out;
    }
    const c = reader.text[reader.pos];
    if (c === '\n' && !triple) {
      break;
    }
    if (c === '\\' && !raw) {
      const next = reader.text[reader.pos + 1] ?? '';
      const hex = next === 'x' ? 2 : next === 'u' ? 4 : next === 'U' ? 8 : 0;
      if (hex) {
        const digits = reader.text.slice(reader.pos + 2, reader.pos + 2 + hex);
        if (!/^[0-9a-fA-F]+$/.test(digits) || digits.length !== hex) {
          throw new Error('bad escape');
        }
        out += String.fromCodePoint(parseInt(digits, 16));
        reader.pos += 2 + hex;
        continue;
      }
      // Python keeps an unknown escape as is (backslash included).
      out += next in ESCAPES ? ESCAPES[next] : `\\${next}`;
      reader.pos += 2;
      continue;
    }
    out += c;
    reader.pos++;
  }
  throw new Error('unterminated string');
}

function readSequence(reader: Reader, close: string): JobParamValue {
  reader.pos++; // the opening bracket
  const items: JobParamValue[] = [];
  let comma = false;
  for (;;) {
    reader.skipSpace();
    if (reader.peek() === close) {
      reader.pos++;
      // `(1)` is the number 1, `(1,)` a tuple.
      return close === ')' && items.length === 1 && !comma ? items[0] : items;
    }
    if (items.length && !comma) {
      throw new Error('expected a comma');
    }
    items.push(readValue(reader));
    reader.skipSpace();
    comma = reader.peek() === ',';
    if (comma) {
      reader.pos++;
    }
  }
}

function readValue(reader: Reader): JobParamValue {
  reader.skipSpace();
  const rest = reader.text.slice(reader.pos);
  const c = reader.peek();
  if (c === '[') {
    return readSequence(reader, ']');
  }
  if (c === '(') {
    return readSequence(reader, ')');
  }
  if (/^[rRuU]?["']/.test(rest)) {
    let text = readString(reader);
    // Adjacent literals concatenate: 'a' 'b'.
    for (;;) {
      const at = reader.pos;
      reader.skipSpace();
      if (!/^[rRuU]?["']/.test(reader.text.slice(reader.pos))) {
        reader.pos = at;
        return text;
      }
      text += readString(reader);
    }
  }
  const word = /^(True|False|None)\b/.exec(rest);
  if (word) {
    reader.pos += word[1].length;
    return word[1] === 'None' ? null : word[1] === 'True';
  }
  const number = NUMBER.exec(rest);
  if (number && !/^[\w.]/.test(rest.slice(number[0].length))) {
    reader.pos += number[0].length;
    const digits = number[0].replace(/_/g, '');
    const value = Number(digits);
    if (!Number.isFinite(value)) {
      throw new Error('not a number');
    }
    // An integer JSON cannot carry exactly stays the notebook's own.
    if (/^[+-]?\d+$/.test(digits) && !Number.isSafeInteger(value)) {
      throw new Error('integer too large');
    }
    return value;
  }
  throw new Error('not a literal');
}

/** Parse `text` as one Python literal (a trailing `# comment` allowed); undefined if not one. */
export function parseLiteral(text: string): JobParamValue | undefined {
  const reader = new Reader(text);
  try {
    const value = readValue(reader);
    reader.skipSpace();
    const rest = reader.text.slice(reader.pos);
    return rest === '' || rest.startsWith('#') ? value : undefined;
  } catch {
    return undefined;
  }
}

/** The code part of a line: up to a `#` outside strings. */
function stripComment(line: string): string {
  let quote = '';
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote) {
      if (c === '\\') {
        i++;
      } else if (c === quote) {
        quote = '';
      }
    } else if (c === '"' || c === "'") {
      quote = c;
    } else if (c === '#') {
      return line.slice(0, i);
    }
  }
  return line;
}

/** How many brackets `code` leaves open (strings skipped). */
function openBrackets(code: string): number {
  let depth = 0;
  let quote = '';
  for (let i = 0; i < code.length; i++) {
    const c = code[i];
    if (quote) {
      if (c === '\\') {
        i++;
      } else if (c === quote) {
        quote = '';
      }
    } else if (c === '"' || c === "'") {
      quote = c;
    } else if ('([{'.includes(c)) {
      depth++;
    } else if (')]}'.includes(c)) {
      depth--;
    }
  }
  return depth;
}

const ASSIGNMENT = /^([A-Za-z_]\w*)\s*(?::[^=]+)?=(?!=)\s*([\s\S]+)$/;

/**
 * The top-level `name = value` statements of a parameters cell, in order (a name set twice:
 * its last value, at its first place). Statements over several lines inside brackets are joined; other lines
 * (imports, indented code, `a = b = 1`) are skipped.
 */
export function parseParameters(source: string): IParameter[] {
  const found = new Map<string, IParameter>();
  const lines = source.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    let code = stripComment(lines[i]);
    while (openBrackets(code) > 0 && i + 1 < lines.length) {
      code += '\n' + stripComment(lines[++i]);
    }
    if (/^\s/.test(code)) {
      continue; // inside a block
    }
    const match = ASSIGNMENT.exec(code.trim());
    if (!match || /^[A-Za-z_]\w*\s*=(?!=)/.test(match[2])) {
      continue;
    }
    const text = match[2].trim();
    found.set(match[1], { name: match[1], source: text, value: parseLiteral(text) });
  }
  return [...found.values()];
}

/** The source of the first cell tagged `parameters` in notebook JSON (nbformat 4). */
export function parametersSource(notebook: {
  cells?: { cell_type?: string; source?: string | string[]; metadata?: { tags?: unknown } }[];
}): string | null {
  for (const cell of notebook.cells ?? []) {
    const tags = cell.metadata?.tags;
    if (Array.isArray(tags) && tags.includes('parameters')) {
      return Array.isArray(cell.source) ? cell.source.join('') : (cell.source ?? '');
    }
  }
  return null;
}

/** Edited text that reads as a broken literal (`[1, 2`, `'a`, `1.2.3`), not as plain text. */
const LOOKS_LITERAL = /^[[('"+\-.\d]/;

/** The params of the form and the fields whose text could not be sent. */
export interface IChangedParams {
  params: { [name: string]: JobParamValue };
  errors: { [name: string]: string };
}

/**
 * The params to send for the edited fields: a field left as the notebook has it is not sent
 * (the notebook's own value applies, and the run records it); an edited one is sent as the
 * literal it parses to, or as the text itself (a string) when it is plain text. Text that
 * starts like a literal but is not one (`[1, 2`) is an error, never sent.
 */
export function changedParams(
  parameters: IParameter[],
  edited: { [name: string]: string }
): IChangedParams {
  const out: IChangedParams = { params: {}, errors: {} };
  for (const p of parameters) {
    const text = (edited[p.name] ?? displayed(p)).trim();
    if (text === displayed(p).trim()) {
      continue;
    }
    const value = parseLiteral(text);
    if (value !== undefined) {
      out.params[p.name] = value;
    } else if (text === '' || LOOKS_LITERAL.test(text)) {
      out.errors[p.name] = 'not a Python literal';
    } else {
      out.params[p.name] = text;
    }
  }
  return out;
}

/** What a field shows first: the value's source on one line (fields have one line). */
export function displayed(p: IParameter): string {
  return p.source.replace(/\s*\n\s*/g, ' ');
}
