"""The engine in its own process, behind the same calls as `Scorer`, so the window never waits.

Why a process and not only a thread: parts of the engine hold Python's GIL for seconds inside
C code (loading a SoundFont is one ~2-7 s call), and while they do, no Python code of the UI
thread can run, so the window would freeze however the work is threaded. Here the `Scorer`
lives in a child process (started with "spawn", which is safe beside Qt's threads); the window
talks to it through a pipe. Pieces stay in the child (the engine edits them in place when it
regenerates a region); the window holds a `RemotePiece` handle that mirrors what it needs:
the mastered audio, the tempo map and the take in use.

    engine = RemoteScorer()                 # starts the child; Scorer(**kwargs) is built there
    analysis = engine.analyze(path, progress)
    job = engine.generate(analysis, prompt, seed=3, settings=s, progress=p)
    for chunk in job: ...                   # the engine's own Chunk objects
    piece = job.result()                    # RemotePiece
    engine.regenerate(piece, a, b, seed=7).result()   # updates `piece` in place, like Scorer
    piece.select_take(0)                    # undo/redo/A-B between takes
    engine.export(piece, out, video_path=..., kind="mp4", cancel=event.is_set)

Errors raised in the child come back as the same `RobinError` subclass with its message and
hint; anything else comes back as `EngineError` with the child's traceback text attached.
No Qt here (the child must not import it).

Closing (`RemoteScorer.close`, or SIGTERM to the child) stops the child cleanly: every running
generation is cancelled, every export told to stop, queued piece work is dropped, and every
request thread (each may be inside ONNX Runtime or writing a file) is joined before the process
ends. An export stopped this way removes its temporary file; none is cut off mid-write, as a
daemon thread would be at exit.
"""

from __future__ import annotations

import importlib
import itertools
import multiprocessing as mp
import os
import queue
from collections import OrderedDict
import sys
import threading
import time
import traceback
from dataclasses import dataclass
from typing import Any, Callable

from robin_studio.errors import CancelledError, RobinError

POLL_S = 0.05
PIECE_OPS = {"regenerate", "select_take", "export", "release", "piece_call"}
# Engine functions the window may run on a piece: fn(scorer, piece, *args, progress=) -> data.
PIECE_CALLS = {"robin_studio.generate.hitpoints.retime_for_app",
               "robin_studio.generate.hitpoints.report_for_app",
               "robin_studio.generate.conform.conform_for_app"}
# Closing: how long the child waits in all for its cancelled work to end (a generation stops
# between chunks, an export between blocks; well under a second each), and how long the window
# waits for the child before terminating it.
DRAIN_S = 10.0
CLOSE_WAIT_S = DRAIN_S + 5.0
TAKE_AUDIO_CACHE = 6   # takes whose audio the window keeps, for instant undo/redo/A-B
ENGINE_NICENESS = 4   # a little below the window; more starves it on a machine that is busy anyway


class EngineError(RobinError):
    """The engine failed in a way that is a bug, not the user's doing; `details` has the trace."""

    def __init__(self, message: str, hint: str = "", details: str = "") -> None:
        super().__init__(message, hint)
        self.details = details


# ----------------------------------------------------------------------------- child side
@dataclass
class PieceInfo:
    piece_id: int
    audio: Any
    sample_rate: int
    tempo_map: Any
    take_id: int
    n_takes: int
    tempo_advice: str = ""


@dataclass
class ChunkData:
    """What the window needs of an engine `Chunk`. A class of this module, so unpickling a
    chunk in the window never imports the engine (imports hold the GIL, and the UI waits)."""

    index: int
    bar_start: int
    bar_end: int
    start_s: float
    end_s: float
    audio: Any
    spectrogram: Any


# Two bars a chunk in the app: the first music appears (and can be played) sooner than with
# the engine's default of four, at a negligible cost in speed.
APP_CHUNK_BARS = 2

KEY_NAMES = {"C": 0, "C#": 1, "Db": 1, "D": 2, "D#": 3, "Eb": 3, "E": 4, "F": 5, "F#": 6, "Gb": 6,
             "G": 7, "G#": 8, "Ab": 8, "A": 9, "A#": 10, "Bb": 10, "B": 11}


def to_engine_settings(panel, seed: int):
    """The panel's `project.GenerationSettings` as the engine's `GenerationSettings`."""
    from robin_studio.generate.engine import GenerationSettings as EngineSettings
    from robin_studio.score.types import Role

    tonic = mode = None
    if panel.key:
        name, _, mode_word = panel.key.partition(" ")
        tonic = KEY_NAMES.get(name)
        mode = mode_word if mode_word in ("major", "minor") else None
    from robin_studio.timing.hits import HitPoint

    return EngineSettings(
        tempo_bpm=panel.tempo_bpm, key_tonic=tonic, key_mode=mode,
        roles_on={Role(r): bool(on) for r, on in panel.instruments.items()},
        seed=int(seed), style=panel.styles[0] if len(panel.styles) == 1 else None,
        chunk_bars=APP_CHUNK_BARS,
        # the markers panel's hit points and demoted cuts, when it set them on the settings
        hit_points=tuple(HitPoint.from_dict(h) for h in getattr(panel, "hit_points", ())),
        ignored_cuts_s=tuple(float(t) for t in getattr(panel, "ignored_cuts_s", ())))


def _info(piece_id: int, piece) -> PieceInfo:
    return PieceInfo(piece_id, piece.audio, int(piece.sample_rate), piece.score.tempo_map,
                     int(piece.takes.current_take.take_id), len(piece.takes),
                     getattr(piece, "tempo_advice", ""))


def _error_payload(err: BaseException) -> tuple:
    tb = "".join(traceback.format_exception(type(err), err, err.__traceback__))
    if isinstance(err, RobinError):
        return ("robin", type(err).__module__, type(err).__qualname__, err.message, err.hint, tb)
    return ("other", type(err).__name__, str(err), tb)


def _serve(conn, scorer_kwargs: dict) -> None:
    """The child's loop: each request runs on its own thread; replies are tagged with its id."""
    # Background work: let the window (and the rest of the desktop) have the CPU first.
    # On a 2-core laptop this is what keeps the playhead smooth while the engine runs.
    if hasattr(os, "nice"):
        try:
            os.nice(ENGINE_NICENESS)
        except OSError:
            pass
    from robin_studio.generate.engine import Scorer

    from robin_studio import lifecycle

    lifecycle.install_signal_handlers()      # SIGTERM unwinds to the clean stop below
    send_lock = threading.Lock()
    state: dict = {"scorer": None, "pieces": {}, "jobs": {}, "cancels": {}}
    make_lock = threading.Lock()
    ids = itertools.count(1)
    closing = threading.Event()
    threads: list[threading.Thread] = []     # every request thread, joined when closing

    def send(rid, kind, payload=None):
        with send_lock:
            try:
                conn.send((rid, kind, payload))
            except (OSError, ValueError):    # the window is gone: nobody to tell
                pass

    def start_thread(target, args, name) -> None:
        # Not a daemon: a thread inside ONNX Runtime or an export must end, not be cut off.
        thread = threading.Thread(target=target, args=args, name=name)
        threads[:] = [t for t in threads if t.is_alive()]
        threads.append(thread)
        thread.start()

    def scorer():
        with make_lock:
            if state["scorer"] is None:
                state["scorer"] = Scorer(**scorer_kwargs)
            return state["scorer"]

    def progress_for(rid):
        return lambda frac=0.0, msg="", *_: send(rid, "progress", (float(frac), str(msg)))

    def run_job(rid, job, piece_id=None):
        state["jobs"][rid] = job
        if closing.is_set():     # the close came while the job was being set up
            job.cancel()
        try:
            for c in job:
                send(rid, "chunk", ChunkData(c.index, c.bar_start, c.bar_end, c.start_s, c.end_s,
                                             c.audio, c.spectrogram))
            piece = job.result()
        finally:
            state["jobs"].pop(rid, None)
        pid = piece_id if piece_id is not None else next(ids)
        state["pieces"][pid] = piece
        return _info(pid, piece)

    def handle(rid, op, args, kw):
        try:
            if closing.is_set():
                raise CancelledError("The music engine is closing.")
            if op == "warm_up":
                s = scorer()
                fn = getattr(s, "warm_up", None)
                out = fn() if fn else None
            elif op == "analyze":
                out = scorer().analyze(args[0], progress=progress_for(rid))
            elif op == "generate":
                from robin_studio.app.project import GenerationSettings as PanelSettings
                if isinstance(kw.get("settings"), PanelSettings):
                    kw["settings"] = to_engine_settings(kw["settings"], kw.get("seed", 0))
                job = scorer().generate(*args, progress=progress_for(rid), **kw)
                out = run_job(rid, job)
            elif op == "regenerate":
                pid, rest = args[0], args[1:]
                job = scorer().regenerate(state["pieces"][pid], *rest, progress=progress_for(rid), **kw)
                out = run_job(rid, job, pid)
            elif op == "select_take":
                pid, take_id = args
                piece = state["pieces"][pid]
                if piece.takes.current_take.take_id != take_id:
                    piece.select_take(take_id)
                info = _info(pid, piece)
                out = info if kw.get("want_audio", True) else None
            elif op == "export":
                pid, out_path = args
                ev = state["cancels"].setdefault(rid, threading.Event())
                if closing.is_set():
                    ev.set()
                out = scorer().export(state["pieces"][pid], out_path, progress=progress_for(rid),
                                      cancel=ev.is_set, **kw)
            elif op == "piece_call":        # hit points moved, video replaced (markers_panel)
                pid, name, rest = args
                if name not in PIECE_CALLS:
                    raise ValueError(f"unknown engine function {name!r}")
                module, _, fn = name.rpartition(".")
                piece = state["pieces"][pid]
                data = getattr(importlib.import_module(module), fn)(
                    scorer(), piece, *rest, progress=progress_for(rid))
                out = (_info(pid, piece), data)
            elif op == "release":
                state["pieces"].pop(args[0], None)
                out = None
            else:
                raise ValueError(f"unknown engine request {op!r}")
            send(rid, "result", out)
        except BaseException as err:  # noqa: BLE001 - everything goes back to the window
            send(rid, "error", _error_payload(err))
        finally:
            state["cancels"].pop(rid, None)

    piece_queues: dict[int, queue.Queue] = {}

    def piece_worker(q: queue.Queue) -> None:
        while (item := q.get()) is not None:
            handle(*item)

    def cancel(target) -> None:
        job = state["jobs"].get(target)
        if job is not None:
            job.cancel()
        state["cancels"].setdefault(target, threading.Event()).set()

    try:
        while True:
            try:
                msg = conn.recv()
            except (EOFError, OSError):
                break
            if msg is None:
                break
            rid, op, args, kw = msg
            if op == "cancel":
                cancel(args[0])
                continue
            if op in PIECE_OPS:
                # Everything done to one piece runs in order on that piece's own thread, so a
                # take switch sent after a (cancelled) regeneration acts on its outcome.
                pid = args[0]
                q = piece_queues.get(pid)
                if q is None:
                    q = piece_queues[pid] = queue.Queue()
                    start_thread(piece_worker, (q,), f"engine-piece-{pid}")
                q.put((rid, op, args, kw))
                continue
            start_thread(handle, (rid, op, args, kw), f"engine-{op}-{rid}")
    except KeyboardInterrupt:       # SIGTERM (lifecycle.Terminated) or Ctrl+C: stop as for a close
        pass
    finally:
        # Stop cleanly: nothing new starts, running work is cancelled, queued piece work is
        # answered "closing", and every request thread is joined before the process ends.
        closing.set()
        for rid in list(state["jobs"]) + list(state["cancels"]):
            cancel(rid)
        for q in piece_queues.values():
            q.put(None)
        deadline = time.monotonic() + DRAIN_S
        for thread in list(threads):
            thread.join(max(0.0, deadline - time.monotonic()))
        stuck = [t.name for t in threads if t.is_alive()]
        lifecycle.shutdown(max(0.0, deadline - time.monotonic()))
        if stuck:       # stuck in native code past DRAIN_S: leave without waiting for it
            print(f"robin-studio engine: {', '.join(stuck)} did not stop in {DRAIN_S:.0f} s",
                  file=sys.stderr, flush=True)
            os._exit(1)


# ----------------------------------------------------------------------------- parent side
def _rebuild_error(payload: tuple) -> BaseException:
    if payload[0] == "robin":
        _, module, qualname, message, hint, tb = payload
        cls = RobinError
        try:
            obj = importlib.import_module(module)
            for part in qualname.split("."):
                obj = getattr(obj, part)
            if isinstance(obj, type) and issubclass(obj, RobinError):
                cls = obj
        except (ImportError, AttributeError):
            pass
        err = cls.__new__(cls)
        Exception.__init__(err, message)
        err.message, err.hint = message, hint
        err.engine_traceback = tb
        return err
    _, name, text, tb = payload
    return EngineError(f"The music engine failed ({name}: {text}).",
                       "Your project is safe. Try again; if it keeps happening, report it with the log.",
                       details=tb)


class RemotePiece:
    """The window's handle on a piece that lives in the engine process. It keeps the audio
    of the last few takes, so switching takes (undo, redo, A/B) is instant: the window swaps
    its copy at once and tells the engine without waiting for the answer."""

    def __init__(self, engine: "RemoteScorer", info: PieceInfo) -> None:
        self._engine = engine
        self.piece_id = info.piece_id
        self._audio_by_take: OrderedDict[int, Any] = OrderedDict()
        self._tm_by_take: dict[int, Any] = {}
        self._update(info)

    def _update(self, info: PieceInfo) -> None:
        self.audio = info.audio
        self.sample_rate = info.sample_rate
        self.tempo_map = info.tempo_map
        self.take_id = info.take_id
        self.n_takes = info.n_takes
        self.tempo_advice = info.tempo_advice
        self._tm_by_take[info.take_id] = info.tempo_map
        self._remember(info.take_id, info.audio)

    def _remember(self, take_id: int, audio) -> None:
        self._audio_by_take[take_id] = audio
        self._audio_by_take.move_to_end(take_id)
        while len(self._audio_by_take) > TAKE_AUDIO_CACHE:
            self._audio_by_take.popitem(last=False)

    @property
    def current_take_id(self) -> int:
        return self.take_id

    def select_take(self, take_id: int, force: bool = False) -> None:
        take_id = int(take_id)
        if take_id == self.take_id and not force:
            return
        cached = self._audio_by_take.get(take_id)
        if cached is not None:
            self.audio, self.take_id = cached, take_id
            # (a re-timed take, after moved hit points or a replaced video, has its own map)
            self.tempo_map = self._tm_by_take.get(take_id, self.tempo_map)
            self._remember(take_id, cached)
            self._engine._post("select_take", (self.piece_id, take_id), {"want_audio": False})
        else:  # an old take: fetch its audio (rare; the wait is one round trip)
            self._update(self._engine._call("select_take", (self.piece_id, take_id), {}))

    def resync(self, take_id: int) -> None:
        """Make the engine's piece use `take_id` again (after a cancelled regeneration)."""
        self.select_take(take_id, force=True)


class RemoteJob:
    """Iterate for chunks; `cancel()`; `result()` -> RemotePiece. Mirrors GenerationJob."""

    def __init__(self, engine: "RemoteScorer", rid: int, replies: "queue.Queue",
                 progress: Callable | None, piece: RemotePiece | None = None) -> None:
        self._engine, self._rid, self._q = engine, rid, replies
        self._progress = progress
        self._piece = piece
        self._result = None
        self._done = False
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True
        self._engine._send(("cancel-sender", "cancel", (self._rid,), {}))

    def __iter__(self):
        while not self._done:
            kind, payload = self._engine._next(self._q)
            if kind == "progress":
                if self._progress is not None:
                    self._progress(*payload)
            elif kind == "chunk":
                yield payload
            elif kind == "result":
                self._done = True
                if self._piece is not None:
                    self._piece._update(payload)
                    self._result = self._piece
                else:
                    self._result = RemotePiece(self._engine, payload)
            elif kind == "error":
                self._done = True
                self._engine._forget(self._rid)
                raise _rebuild_error(payload)
        self._engine._forget(self._rid)

    def result(self):
        for _ in self:
            pass
        if self._result is None:
            raise CancelledError("Generation was cancelled before it finished.",
                                 "Start it again to get the whole piece.")
        return self._result


class RemoteScorer:
    """`Scorer`'s calls, answered by a Scorer in a child process. `generate` also takes the
    panel's `project.GenerationSettings` and converts them there."""

    takes_panel_settings = True

    def __init__(self, **scorer_kwargs) -> None:
        ctx = mp.get_context("spawn")
        self._conn, child = ctx.Pipe()
        self._proc = ctx.Process(target=_serve, args=(child, scorer_kwargs), daemon=True,
                                 name="robin-studio-engine")
        self._proc.start()
        child.close()
        self._ids = itertools.count(1)
        self._queues: dict[int, queue.Queue] = {}
        self._lock = threading.Lock()
        self._alive = True
        self._reader = threading.Thread(target=self._read, daemon=True, name="engine-reader")
        self._reader.start()

    @property
    def alive(self) -> bool:
        """False once the engine process has ended (the window then starts a new one)."""
        return self._alive and self._proc.is_alive()

    # -- plumbing ---------------------------------------------------------------------
    def _send(self, msg) -> None:
        with self._lock:
            if not self._alive:
                raise EngineError("The music engine has stopped.", "Restart Robin Studio.")
            self._conn.send(msg)

    def _request(self, op: str, args: tuple, kw: dict) -> tuple[int, queue.Queue]:
        rid = next(self._ids)
        q: queue.Queue = queue.Queue()
        with self._lock:
            self._queues[rid] = q
        self._send((rid, op, args, kw))
        return rid, q

    def _post(self, op: str, args: tuple, kw: dict) -> None:
        """A request whose answer nobody waits for (the reader drops it)."""
        self._send((next(self._ids), op, args, kw))

    def _forget(self, rid: int) -> None:
        with self._lock:
            self._queues.pop(rid, None)

    def _read(self) -> None:
        while True:
            try:
                rid, kind, payload = self._conn.recv()
            except (EOFError, OSError):
                break
            with self._lock:
                q = self._queues.get(rid)
            if q is not None:
                q.put((kind, payload))
        with self._lock:
            self._alive = False
            waiting = list(self._queues.values())
        for q in waiting:
            q.put(("error", ("other", "EngineStopped", "the engine process ended unexpectedly", "")))

    def _next(self, q: queue.Queue):
        return q.get()

    def _call(self, op: str, args: tuple, kw: dict, progress: Callable | None = None,
              cancel: Callable[[], bool] | None = None):
        rid, q = self._request(op, args, kw)
        cancel_sent = False
        try:
            while True:
                try:
                    kind, payload = q.get(timeout=POLL_S)
                except queue.Empty:
                    if cancel is not None and not cancel_sent and cancel():
                        self._send(("cancel-sender", "cancel", (rid,), {}))
                        cancel_sent = True
                    continue
                if kind == "progress":
                    if progress is not None:
                        progress(*payload)
                elif kind == "result":
                    return payload
                elif kind == "error":
                    raise _rebuild_error(payload)
        finally:
            self._forget(rid)

    # -- the Scorer calls -----------------------------------------------------------------
    def warm_up(self) -> None:
        self._call("warm_up", (), {})

    def analyze(self, video_path, progress: Callable | None = None):
        return self._call("analyze", (str(video_path),), {}, progress)

    def generate(self, analysis, prompt: str = "", *, seed: int = 0, settings=None,
                 progress: Callable | None = None) -> RemoteJob:
        rid, q = self._request("generate", (analysis, prompt), {"seed": seed, "settings": settings})
        return RemoteJob(self, rid, q, progress)

    def regenerate(self, piece: RemotePiece, start_s: float, end_s: float, *, seed: int | None = None,
                   prompt: str | None = None, progress: Callable | None = None) -> RemoteJob:
        rid, q = self._request("regenerate", (piece.piece_id, float(start_s), float(end_s)),
                               {"seed": seed, "prompt": prompt})
        return RemoteJob(self, rid, q, progress, piece)

    def export(self, piece: RemotePiece, out_path, *, progress: Callable | None = None,
               cancel: Callable[[], bool] | None = None, **kw):
        return self._call("export", (piece.piece_id, str(out_path)), kw, progress, cancel)

    def piece_call(self, piece: RemotePiece, name: str, *args, progress: Callable | None = None):
        """Run one of PIECE_CALLS on the piece in the engine; the handle follows its new take."""
        info, data = self._call("piece_call", (piece.piece_id, name, args), {}, progress)
        piece._update(info)
        return data

    def close(self) -> None:
        try:
            self._send(None)
        except (EngineError, OSError):
            pass
        # The engine cancels its work and joins its threads first (see `_serve`).
        self._proc.join(timeout=CLOSE_WAIT_S)
        if self._proc.is_alive():
            self._proc.terminate()          # SIGTERM: it unwinds the same way
            self._proc.join(timeout=5.0)
        if self._proc.is_alive():
            self._proc.kill()
            self._proc.join(timeout=2.0)
        with self._lock:
            self._alive = False
