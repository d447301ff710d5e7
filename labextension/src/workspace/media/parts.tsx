/**
 * Pieces the media views share: their props, the step slider, a run's heading, runs side by
 * side at one step (a column per run), and a blob's text.
 */
import * as React from 'react';

import { IMediaRecord } from '../../tokens';
import type { IShownRun } from '../ChartPanel';
import { MediaStore } from './store';
import { IRunValues, ISteps } from './useSteps';

/** The most runs a panel shows side by side (hide runs in the table to choose others). */
export const MAX_COLUMNS = 8;

/** What every kind's view is given. */
export interface IMediaViewProps {
  mediaKey: string;
  kind: string;
  /** The runs that logged the key, in the table's order (at most MAX_COLUMNS). */
  runs: IShownRun[];
  store: MediaStore;
  version: number;
  /** The panel was scrolled into view: its data may be fetched. */
  active: boolean;
}

/** A slider over `steps` (by position: every notch is a logged step); none for one step. */
export function StepSlider(props: {
  steps: number[];
  step: number | null;
  following: boolean;
  onStep: (step: number | null) => void;
}): JSX.Element | null {
  const { steps, step } = props;
  if (steps.length < 2 || step === null) {
    return null; // one step: each column's header names it
  }
  const index = Math.max(0, steps.indexOf(step));
  return (
    <div className="nbtrack-ws-media-steps">
      <label className="nbtrack-ws-control">
        Step
        <input
          type="range"
          className="nbtrack-ws-step-slider"
          min={0}
          max={Math.max(0, steps.length - 1)}
          step={1}
          value={index}
          aria-valuetext={`step ${step}`}
          onChange={event => props.onStep(steps[Number(event.target.value)] ?? null)}
        />
      </label>
      <span className="nbtrack-ws-step-value" data-step={step}>
        {step}
      </span>
      <span className="nbtrack-ws-step-count">
        {index + 1} of {steps.length}
        {props.following && steps.length > 1 ? ' (newest)' : ''}
      </span>
    </div>
  );
}

/** A run's swatch and label, heading its column or tab. */
export function RunLabel(props: { run: IShownRun }): JSX.Element {
  return (
    <span className="nbtrack-ws-media-run" title={props.run.label}>
      <span className="nbtrack-ws-swatch" style={{ background: props.run.color }} />
      <span className="nbtrack-ws-media-run-label">{props.run.label}</span>
    </span>
  );
}

/** The slider, then a column per run with what it shows at the slider's step. */
export function RunColumns(props: {
  runs: IShownRun[];
  steps: ISteps;
  cell: (run: IShownRun, item: IMediaRecord) => React.ReactNode;
}): JSX.Element {
  const { steps } = props;
  return (
    <>
      <StepSlider
        steps={steps.steps}
        step={steps.step}
        following={steps.following}
        onStep={steps.setStep}
      />
      <div className="nbtrack-ws-media-columns">
        {props.runs.map(run => {
          const values = steps.valuesOf(run.id);
          return (
            <div
              key={run.id}
              className={'nbtrack-ws-media-column' + (values.stale ? ' nbtrack-ws-stale' : '')}
              data-run-id={run.id}
              data-step={values.step ?? ''}
            >
              <div className="nbtrack-ws-media-column-header">
                <RunLabel run={run} />
                {values.step !== null ? (
                  <span className="nbtrack-ws-media-at">step {values.step}</span>
                ) : null}
              </div>
              <ColumnBody values={values} run={run} cell={props.cell} />
            </div>
          );
        })}
      </div>
    </>
  );
}

function ColumnBody(props: {
  values: IRunValues;
  run: IShownRun;
  cell: (run: IShownRun, item: IMediaRecord) => React.ReactNode;
}): JSX.Element {
  const { values } = props;
  if (values.step === null) {
    return <div className="nbtrack-ws-media-empty">Nothing logged by this step</div>;
  }
  if (!values.items) {
    return <div className="nbtrack-ws-media-empty">Loading…</div>;
  }
  return (
    <div className="nbtrack-ws-media-strip">
      {values.items.map(item => (
        <React.Fragment key={`${item.step}:${item.idx}`}>
          {props.cell(props.run, item)}
        </React.Fragment>
      ))}
    </div>
  );
}

/** A blob's text, fetched once the cell is drawn (undefined while it loads). */
export function useBlobText(
  store: MediaStore,
  name: string | null,
  key: string
): string | undefined {
  React.useEffect(() => {
    if (name) {
      store.ensureText(name, key);
    }
  }, [name]);
  return name ? store.text(name) : undefined;
}

