"""Rich values logged beside scalars: images, tables, histograms, audio, text, HTML, figures.

``values`` holds what users log (checked and copied at ``log()``, encoded by the writer);
``items`` holds what reading gives back (:class:`MediaItem`, with ``.to_numpy()``,
``.to_pil()``, ``.to_pandas()``, ``.bytes``).
"""

from nbtrack.media.items import MediaItem, MediaSeries
from nbtrack.media.values import Audio, Figure, Histogram, Html, Image, Media, Table, Text

__all__ = ["Audio", "Figure", "Histogram", "Html", "Image", "Media", "MediaItem",
           "MediaSeries", "Table", "Text"]
