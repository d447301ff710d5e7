/**
 * The part of vega-embed's API the sidebar uses. vega-embed 7 publishes its types through
 * package `exports`, which this project's `moduleResolution: node` does not read.
 */
declare module 'vega-embed' {
  export interface IVegaView {
    data(name: string): object[];
    data(name: string, values: object[]): IVegaView;
    width(): number;
    width(width: number): IVegaView;
    runAsync(): Promise<IVegaView>;
    finalize(): void;
  }

  export interface IEmbedResult {
    view: IVegaView;
    spec: unknown;
    finalize(): void;
  }

  export interface IEmbedOptions {
    actions?: boolean;
    renderer?: 'svg' | 'canvas';
    mode?: 'vega-lite' | 'vega';
    tooltip?: boolean | object;
    config?: object;
  }

  export default function embed(
    element: HTMLElement | string,
    spec: object,
    options?: IEmbedOptions
  ): Promise<IEmbedResult>;
}
