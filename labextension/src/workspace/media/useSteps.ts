import * as React from 'react';

import { IMediaRecord } from '../../tokens';
import { stepAtOrBelow, unionSteps } from './steps';
import { MediaStore } from './store';

/** How long the slider must rest before the values of its step are asked for (ms). */
const SETTLE_MS = 120;

/** What one run shows at the slider's step. */
export interface IRunValues {
  /** The run's nearest step at or below the slider's (null: it logged nothing that early). */
  step: number | null;
  /** Its values there; while they load, those shown before (`stale`), or undefined. */
  items: IMediaRecord[] | undefined;
  stale: boolean;
}

export interface ISteps {
  /** The union of the runs' steps, sorted. */
  steps: number[];
  /** The slider's step (null until a run's steps are known). */
  step: number | null;
  /** Whether the slider follows the newest step (it does until moved back). */
  following: boolean;
  /** Move the slider (null: follow the newest step). */
  setStep: (step: number | null) => void;
  valuesOf: (run: string) => IRunValues;
}

/**
 * One slider over the union of the `runs`' steps of `key`, each run showing its values at the
 * nearest step at or below. Only the values of the step on screen are fetched (after the
 * slider rests), and only once `active` (the panel was scrolled into view).
 */
export function useSteps(
  key: string,
  runs: readonly string[],
  store: MediaStore,
  version: number,
  active: boolean
): ISteps {
  const runsKey = runs.join(',');
  React.useEffect(() => {
    if (active) {
      runs.forEach(id => store.ensureTrack(key, id));
    }
  }, [active, key, runsKey, version]);

  const steps = React.useMemo(
    () => unionSteps(runs.map(id => store.track(key, id)?.steps ?? [])),
    [key, runsKey, version]
  );
  const [chosen, setChosen] = React.useState<number | null>(null);
  const newest = steps.length ? steps[steps.length - 1] : null;
  const step = chosen ?? newest;

  const [settled, setSettled] = React.useState(step);
  React.useEffect(() => {
    const timer = setTimeout(() => setSettled(step), SETTLE_MS);
    return () => clearTimeout(timer);
  }, [step]);
  React.useEffect(() => {
    if (!active || settled === null) {
      return;
    }
    for (const id of runs) {
      const track = store.track(key, id);
      const at = track ? stepAtOrBelow(track.steps, settled) : null;
      if (at !== null) {
        store.ensureItems(key, id, at);
      }
    }
  }, [active, key, runsKey, settled, version]);

  // The values each run showed last, kept on screen while the next step's load.
  const shown = React.useRef(new Map<string, IMediaRecord[]>());
  const valuesOf = (run: string): IRunValues => {
    const track = store.track(key, run);
    const at = track && step !== null ? stepAtOrBelow(track.steps, step) : null;
    const items = at === null ? undefined : store.items(key, run, at);
    if (items) {
      shown.current.set(run, items);
      return { step: at, items, stale: false };
    }
    const before = at === null ? undefined : shown.current.get(run);
    return { step: at, items: before, stale: before !== undefined };
  };
  const setStep = (next: number | null) => setChosen(next === newest ? null : next);
  return { steps, step, following: chosen === null, setStep, valuesOf };
}
