/**
 * Images: the runs side by side at the slider's step, thumbnails (the `thumb` blob, at most
 * 128 px a side) loaded lazily, captions under them; a click opens the full image in a
 * lightbox. Only the images of the step on screen are ever requested.
 */
import * as React from 'react';

import { blobURL } from '../../api';
import { IMediaRecord } from '../../tokens';
import type { IShownRun } from '../ChartPanel';
import { IMediaViewProps, RunColumns } from './parts';
import { useSteps } from './useSteps';

/** The box a thumbnail is drawn in (CSS px): the thumb blob's size. */
const THUMB_BOX = 128;

function captionOf(item: IMediaRecord): string | null {
  const text = item.meta.caption;
  return typeof text === 'string' && text ? text : null;
}

/** The thumbnail's size: the image fitted into the box (small images are scaled up). */
function thumbSize(item: IMediaRecord): { width: number; height: number } | null {
  const width = Number(item.meta.width);
  const height = Number(item.meta.height);
  if (!(width > 0 && height > 0)) {
    return null;
  }
  const scale = THUMB_BOX / Math.max(width, height);
  return {
    width: Math.max(1, Math.round(width * scale)),
    height: Math.max(1, Math.round(height * scale))
  };
}

function Thumb(props: {
  item: IMediaRecord;
  run: IShownRun;
  onOpen: (item: IMediaRecord, run: IShownRun) => void;
}): JSX.Element | null {
  const { item } = props;
  const name = item.thumb ?? item.blob;
  if (!name) {
    return null;
  }
  const caption = captionOf(item);
  const size = thumbSize(item);
  const small = size !== null && Number(item.meta.width) < THUMB_BOX;
  return (
    <figure className="nbtrack-ws-image" data-blob={item.blob ?? ''}>
      <button
        className="nbtrack-ws-thumb-button"
        title={`Open full size (${item.meta.width}x${item.meta.height})`}
        onClick={() => props.onOpen(item, props.run)}
      >
        <img
          className={'nbtrack-ws-thumb' + (small ? ' nbtrack-ws-pixelated' : '')}
          loading="lazy"
          decoding="async"
          src={blobURL(name)}
          width={size?.width}
          height={size?.height}
          alt={caption ?? `${item.key}, step ${item.step}`}
        />
      </button>
      {caption ? <figcaption className="nbtrack-ws-caption">{caption}</figcaption> : null}
    </figure>
  );
}

/**
 * Open the full image over the page (plain DOM on `document.body`, so that no containment of
 * the workspace clips it); Escape, the close button or a click beside the image closes it.
 * Text goes in as text, never as HTML.
 */
export function openLightbox(item: IMediaRecord, run: IShownRun): () => void {
  const make = <K extends keyof HTMLElementTagNameMap>(tag: K, className: string, text = '') => {
    const element = document.createElement(tag);
    element.className = className;
    element.textContent = text;
    return element;
  };
  const caption = captionOf(item);
  const overlay = make('div', 'nbtrack-ws-lightbox');
  overlay.setAttribute('role', 'dialog');
  overlay.setAttribute('aria-modal', 'true');
  overlay.setAttribute('aria-label', `${item.key}, ${run.label}, step ${item.step}`);
  const frame = make('div', 'nbtrack-ws-lightbox-frame');
  const header = make('div', 'nbtrack-ws-lightbox-header');
  const swatch = make('span', 'nbtrack-ws-swatch');
  swatch.style.background = run.color;
  const title = make(
    'span',
    'nbtrack-ws-lightbox-title',
    `${item.key} · ${run.label} · step ${item.step} · ${item.meta.width}x${item.meta.height}`
  );
  const close = make('button', 'nbtrack-ws-icon nbtrack-ws-lightbox-close', '✕');
  close.title = 'Close (Escape)';
  header.append(swatch, title, make('span', 'nbtrack-spacer'), close);
  frame.append(header);
  if (item.blob) {
    const image = make('img', 'nbtrack-ws-lightbox-image');
    image.src = blobURL(item.blob);
    image.alt = caption ?? item.key;
    const width = Number(item.meta.width);
    if (width > 0 && width < 256) {
      // A small image (a 28x28 digit) is scaled up by whole pixels, sharp.
      image.style.width = `${Math.floor(512 / width) * width}px`;
      image.style.imageRendering = 'pixelated';
    }
    frame.append(image);
  }
  if (caption) {
    frame.append(make('div', 'nbtrack-ws-caption', caption));
  }
  overlay.append(frame);

  const previous = document.activeElement as HTMLElement | null;
  let open = true;
  const dismiss = () => {
    if (!open) {
      return;
    }
    open = false;
    document.removeEventListener('keydown', onKey, true);
    overlay.remove();
    previous?.focus();
  };
  const onKey = (event: KeyboardEvent) => {
    if (event.key === 'Escape') {
      event.stopPropagation();
      event.preventDefault();
      dismiss();
    }
  };
  close.addEventListener('click', dismiss);
  overlay.addEventListener('click', event => {
    if (event.target === overlay) {
      dismiss();
    }
  });
  document.addEventListener('keydown', onKey, true);
  document.body.append(overlay);
  close.focus();
  return dismiss;
}

/** An image key: the runs side by side, a slider over their steps, a lightbox. */
export function ImageView(props: IMediaViewProps): JSX.Element {
  const runIds = React.useMemo(() => props.runs.map(r => r.id), [props.runs]);
  const steps = useSteps(props.mediaKey, runIds, props.store, props.version, props.active);
  // A lightbox still open when the panel goes (a reload of the layout) goes with it.
  const dismiss = React.useRef<(() => void) | null>(null);
  React.useEffect(() => () => dismiss.current?.(), []);
  const onOpen = React.useCallback((item: IMediaRecord, run: IShownRun) => {
    dismiss.current?.();
    dismiss.current = openLightbox(item, run);
  }, []);
  return (
    <RunColumns
      runs={props.runs}
      steps={steps}
      cell={(run, item) => <Thumb item={item} run={run} onOpen={onOpen} />}
    />
  );
}
