"""Background work for the window: the engine on worker threads, results back as signals.

Every call into the engine (`Scorer.analyze/generate/regenerate/export`) runs here, on a
superqt worker in Qt's thread pool, so the event loop keeps drawing and answering keys. The
generation worker is a `GeneratorWorker`: it first yields the engine's job (so the window can
cancel it at once), then one `Chunk` per yield, and returns the finished `Piece`.
"""

from __future__ import annotations

import threading
from typing import Any, Callable

from PySide6 import QtCore

from robin_studio.app.engine_process import to_engine_settings  # noqa: F401 - re-exported


# superqt is imported where a worker is made, not here: its package imports every widget it
# has (through qtpy), 0.7 s or more that the window's first paint would otherwise wait for.


class EngineHost:
    """Holds the engine, built once and lazily on whichever worker first needs it. By default
    that is a `RemoteScorer` (the engine in its own process, see `engine_process`); a
    `factory` may give anything with Scorer's calls (tests share one engine between windows).
    An engine the host made itself is closed with it."""

    def __init__(self, factory: Callable[[], Any] | None = None) -> None:
        self._factory = factory
        self._scorer = None
        self._owned = factory is None
        self._lock = threading.Lock()

    def scorer(self):
        with self._lock:
            if self._owned and self._scorer is not None and not getattr(self._scorer, "alive", True):
                self._scorer = None   # the engine process died: start a new one
            if self._scorer is None:
                if self._factory is not None:
                    self._scorer = self._factory()
                else:
                    from robin_studio.app.engine_process import RemoteScorer
                    self._scorer = RemoteScorer()
            return self._scorer

    def close(self) -> None:
        with self._lock:
            scorer, self._scorer = self._scorer, None
        if scorer is not None and self._owned and hasattr(scorer, "close"):
            scorer.close()


class ProgressRelay(QtCore.QObject):
    """Carries progress callbacks from a worker thread to the UI (queued signal)."""

    progress = QtCore.Signal(float, str)

    def callback(self, fraction=0.0, message: str = "", *_args) -> None:
        try:
            frac = float(fraction)
        except (TypeError, ValueError):
            frac, message = 0.0, str(fraction)
        self.progress.emit(frac, str(message or ""))


def analysis_worker(host: EngineHost, path: str, relay: ProgressRelay,
                    thumbnails: Callable[[], list] | None = None,
                    original_audio: Callable[[], Any] | None = None) -> GeneratorWorker:
    """Yields ("thumbnails", list[(t_s, rgb)]) and ("original_audio", array or None) when it
    can, then ("analysis", VideoAnalysis)."""

    def run():
        for name, fn in (("thumbnails", thumbnails), ("original_audio", original_audio)):
            if fn is None:
                continue
            try:
                yield (name, fn())
            except Exception:  # noqa: BLE001 - previews are decoration; analysis still matters
                pass
        analysis = host.scorer().analyze(path, progress=relay.callback)
        yield ("analysis", analysis)

    from superqt.utils import GeneratorWorker   # imported when first used (see above)

    return GeneratorWorker(run)


def generation_worker(host: EngineHost, start_job: Callable[[Any], Any]) -> GeneratorWorker:
    """Runs `start_job(scorer) -> GenerationJob`; yields ("job", job), then ("chunk", Chunk)s,
    and returns the job's finished Piece."""

    def run():
        job = start_job(host.scorer())
        yield ("job", job)
        for chunk in job:
            yield ("chunk", chunk)
        return job.result()

    from superqt.utils import GeneratorWorker   # imported when first used (see above)

    return GeneratorWorker(run)


def call_worker(fn: Callable[[], Any]):
    """A plain function on the thread pool (returned/errored/finished signals). Errors go to
    `errored` only; superqt would otherwise re-raise them in the UI thread as well."""
    from superqt.utils import create_worker

    return create_worker(fn, _start_thread=False, _ignore_errors=True)
