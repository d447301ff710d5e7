import { ReactWidget } from '@jupyterlab/apputils';
import type { Message } from '@lumino/messaging';
import type { ISignal } from '@lumino/signaling';

/** A model that polls the server only while its view is visible. */
export interface IPolledModel {
  readonly stateChanged: ISignal<unknown, void>;
  setVisible(visible: boolean): void;
  dispose(): void;
}

/**
 * A ReactWidget over a polling model (the sidebar's and the workspace's): it re-renders on
 * every model change, tells the model when it is shown or hidden (so nothing polls while
 * hidden), and disposes the model with itself.
 */
export abstract class PolledWidget<M extends IPolledModel> extends ReactWidget {
  constructor(readonly model: M) {
    super();
    model.stateChanged.connect(this._onChange, this);
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this.model.stateChanged.disconnect(this._onChange, this);
    this.model.dispose();
    super.dispose();
  }

  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    this.model.setVisible(true);
  }

  protected onAfterHide(msg: Message): void {
    super.onAfterHide(msg);
    this.model.setVisible(false);
  }

  protected onAfterAttach(msg: Message): void {
    super.onAfterAttach(msg);
    this.model.setVisible(this.isVisible);
  }

  protected onBeforeDetach(msg: Message): void {
    this.model.setVisible(false);
    super.onBeforeDetach(msg);
  }

  private _onChange(): void {
    this.update();
  }
}
