import * as React from 'react';
import type { IEmbedResult } from 'vega-embed';

/** The name of the inline dataset in nbtrack's specs (nbtrack.charts.DATA_NAME). */
const DATA_NAME = 'nbtrack';
/** Below this width the legend goes under the plot. */
const NARROW = 480;

type Spec = { [key: string]: unknown };

export interface IVegaChartProps {
  /** A Vega-Lite spec with its data inlined in `datasets`. */
  spec: Spec;
}

/** The spec without its data, to tell a data-only update from a new chart. */
function skeletonOf(spec: Spec): string {
  const { datasets, ...rest } = spec;
  void datasets;
  return JSON.stringify(rest);
}

function rowsOf(spec: Spec): object[] | null {
  const datasets = spec.datasets as { [name: string]: object[] } | undefined;
  return datasets?.[DATA_NAME] ?? null;
}

/** Put every legend under the plot (a narrow sidebar has no room on the right). */
function legendsBelow(node: unknown): void {
  if (Array.isArray(node)) {
    node.forEach(legendsBelow);
  } else if (node && typeof node === 'object') {
    for (const [key, value] of Object.entries(node)) {
      if (key === 'legend' && value && typeof value === 'object') {
        (value as { orient?: string }).orient = 'bottom';
      } else {
        legendsBelow(value);
      }
    }
  }
}

/** The spec fitted to `width` pixels: one panel fills the width, legends move if narrow. */
function fitted(spec: Spec, width: number): Spec {
  const copy = JSON.parse(JSON.stringify({ ...spec, datasets: undefined })) as Spec;
  copy.datasets = spec.datasets;
  if (typeof copy.width === 'number' && width > 0) {
    copy.width = Math.max(160, width - 8);
    copy.height = Math.min(240, Math.max(150, Math.round(width * 0.5)));
    copy.autosize = { type: 'fit-x', contains: 'padding' };
  }
  if (width < NARROW) {
    legendsBelow(copy.layer ?? copy.spec ?? copy);
  }
  return copy;
}

/**
 * Renders a Vega-Lite spec with vega-embed (bundled, no network, no action menu).
 *
 * A spec that differs from the last one only in its data updates the view in place, so a
 * live run's curve grows without the chart blinking.
 */
export function VegaChart(props: IVegaChartProps): JSX.Element {
  const host = React.useRef<HTMLDivElement>(null);
  const current = React.useRef<{ result: IEmbedResult; skeleton: string; width: number } | null>(
    null
  );
  const [error, setError] = React.useState<string | null>(null);

  React.useEffect(() => {
    const element = host.current;
    if (!element) {
      return;
    }
    let cancelled = false;
    const skeleton = skeletonOf(props.spec);
    const rows = rowsOf(props.spec);
    const width = element.clientWidth;
    const shown = current.current;
    if (shown && shown.skeleton === skeleton && rows && Math.abs(shown.width - width) < 2) {
      shown.result.view
        .data(DATA_NAME, rows)
        .runAsync()
        .catch(reason => setError(String(reason)));
      return;
    }
    void (async () => {
      try {
        const embed = (await import('vega-embed')).default;
        if (cancelled) {
          return;
        }
        current.current?.result.finalize();
        current.current = null;
        const result = await embed(element, fitted(props.spec, width), {
          actions: false,
          renderer: 'svg'
        });
        if (cancelled) {
          result.finalize();
          return;
        }
        current.current = { result, skeleton, width };
        setError(null);
      } catch (reason) {
        if (!cancelled) {
          setError(reason instanceof Error ? reason.message : String(reason));
        }
      }
    })();
    return () => {
      cancelled = true;
    };
  }, [props.spec]);

  // Follow the sidebar's width: resize the view in place.
  React.useEffect(() => {
    const element = host.current;
    if (!element || typeof ResizeObserver === 'undefined') {
      return;
    }
    const observer = new ResizeObserver(() => {
      const shown = current.current;
      const width = element.clientWidth;
      if (!shown || width <= 0 || Math.abs(shown.width - width) < 8) {
        return;
      }
      shown.width = width;
      void shown.result.view
        .width(Math.max(160, width - 8))
        .runAsync()
        .catch(() => undefined);
    });
    observer.observe(element);
    return () => observer.disconnect();
  }, []);

  React.useEffect(
    () => () => {
      current.current?.result.finalize();
      current.current = null;
    },
    []
  );

  return (
    <>
      {error ? <div className="nbtrack-error">Chart error: {error}</div> : null}
      <div className="nbtrack-vega" ref={host} />
    </>
  );
}
