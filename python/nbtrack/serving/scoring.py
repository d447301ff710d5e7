"""One ``/invocations`` request from body to answer, with no HTTP in it.

Runs on a worker thread (parsing, predicting and serializing can each take a while), so the
server's event loop stays free for other requests and ``/ping``.
"""

from __future__ import annotations

import logging
from typing import NamedTuple

from nbtrack.serving import payload, responses
from nbtrack.serving.holder import Loaded

log = logging.getLogger("nbtrack.serving")

#: MLflow's message for a model that raised (it answers 400, blaming the input).
PREDICT_FAILED = (
    "Encountered an unexpected error while evaluating the model. Verify that the serialized"
    " input Dataframe is compatible with the model for inference."
)


class Answer(NamedTuple):
    """An HTTP status and its JSON body."""

    status: int
    body: bytes


def invoke(model: Loaded, body: bytes, content_type: str | None) -> Answer:
    """Parse ``body``, predict with ``model``, and answer as MLflow's scoring server does."""
    try:
        request = payload.parse(body, content_type)
    except payload.PayloadError as exc:
        return Answer(exc.status, responses.error_body(exc.message))
    try:
        if model.accepts_params:
            raw = model.predictor.predict(request.data, params=request.params)
        else:
            if request.params:
                log.warning("%s's predict takes no params: ignoring %s",
                            model.label, sorted(request.params))
            raw = model.predictor.predict(request.data)
    except Exception as exc:
        log.warning("%s failed to predict: %s", model.label, exc, exc_info=True)
        return Answer(400, responses.error_body(
            f"{PREDICT_FAILED} Error: {type(exc).__name__}: {exc}"))
    try:
        return Answer(200, responses.predictions_body(raw))
    except (TypeError, ValueError) as exc:
        log.error("%s returned predictions JSON cannot hold: %s", model.label, exc)
        return Answer(500, responses.error_body(
            f"The model's predictions could not be written as JSON: {exc}",
            responses.INTERNAL_ERROR))
