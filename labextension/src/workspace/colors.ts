/**
 * One colour per run, the same in every chart and the table's swatch, stable across reloads:
 * picked by the run's number (which never changes), so runs made one after another differ.
 * 20 hues a golden angle apart; darker on light themes and lighter on dark ones, so a curve
 * keeps its contrast with the background either way.
 */

const HUES = Array.from({ length: 20 }, (_, i) => Math.round((i * 137.508 + 210) % 360));

/** The run's colour as a CSS colour. */
export function runColor(run: { number: number }, light: boolean): string {
  const hue = HUES[((run.number % HUES.length) + HUES.length) % HUES.length];
  return light ? `hsl(${hue}, 72%, 40%)` : `hsl(${hue}, 75%, 66%)`;
}

/** Whether JupyterLab shows a light theme now (its body data attribute). */
export function isLightTheme(): boolean {
  return document.body.dataset.jpThemeLight !== 'false';
}
