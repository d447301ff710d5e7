import * as React from 'react';

import { RunStatus } from '../tokens';

/** A run status as a colored pill (`nbtrack-status-<status>`). */
export function StatusBadge(props: { status: RunStatus }): JSX.Element {
  return (
    <span className={`nbtrack-status nbtrack-status-${props.status}`} title={props.status}>
      {props.status}
    </span>
  );
}
