import { LabIcon } from '@jupyterlab/ui-components';

/** Curves on axes; `jp-icon3` lets the theme color it. */
const RUNS_SVG = `<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16" viewBox="0 0 24 24">
  <g class="jp-icon3" fill="#616161">
    <path d="M3 3h2v16h16v2H3z"/>
    <path d="M6.7 15.7 5.3 14.3l4.7-4.7 3 3 5.3-5.3 1.4 1.4-6.7 6.7-3-3z"/>
    <circle cx="19.5" cy="7" r="1.6"/>
  </g>
</svg>`;

export const runsIcon = new LabIcon({ name: 'nbtrack:runs', svgstr: RUNS_SVG });
