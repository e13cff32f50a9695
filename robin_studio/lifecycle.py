"""Clean shutdown: background work stops before the interpreter exits, SIGTERM acts like Ctrl+C.

Background threads that run native code (an ONNX Runtime session being built or run, FFmpeg
decoding) must not be alive while Python tears itself down: a daemon thread inside ONNX
Runtime at exit makes the C++ runtime call `std::terminate` ("terminate called without an
active exception", exit 134) after the user already saw a proper error message. Such threads
are registered here with `track`, and `shutdown` (called by the CLI before it returns, and
by `atexit` for everyone else) waits for them.

`install_signal_handlers` makes SIGTERM raise `Terminated` (a `KeyboardInterrupt`), so a
`kill` unwinds the same `finally`/`except BaseException` blocks as Ctrl+C: temporary export
files are deleted and background threads stopped. Nothing here imports Qt or torch.
"""

from __future__ import annotations

import atexit
import signal
import threading
import time

# How long `shutdown` waits in all for background threads (building the image model's
# session takes about a second; a stuck thread must not keep the process alive forever).
SHUTDOWN_WAIT_S = 20.0

_threads: list[threading.Thread] = []
_lock = threading.Lock()


class Terminated(KeyboardInterrupt):
    """SIGTERM arrived: unwind like Ctrl+C (the CLI exits with 143)."""


def track(thread: threading.Thread) -> threading.Thread:
    """Remember a background thread that `shutdown` must wait for; returns it."""
    with _lock:
        _threads[:] = [t for t in _threads if t.is_alive()]
        _threads.append(thread)
    return thread


def start_tracked(target, name: str) -> threading.Thread:
    """Start `target` in a non-daemon thread that `shutdown` waits for."""
    thread = threading.Thread(target=target, name=name, daemon=False)
    track(thread)
    thread.start()
    return thread


def shutdown(timeout_s: float = SHUTDOWN_WAIT_S) -> list[str]:
    """Wait (at most `timeout_s` in all) for the tracked threads; names of those still running."""
    deadline = time.monotonic() + timeout_s
    with _lock:
        threads = list(_threads)
    for thread in threads:
        if thread is threading.current_thread():
            continue
        thread.join(max(0.0, deadline - time.monotonic()))
    with _lock:
        _threads[:] = [t for t in _threads if t.is_alive()]
        return [t.name for t in _threads]


def _on_sigterm(signum, frame) -> None:  # noqa: ARG001 - signal handler signature
    raise Terminated()


def install_signal_handlers() -> None:
    """SIGTERM unwinds like SIGINT (only possible from the main thread; elsewhere a no-op)."""
    if threading.current_thread() is not threading.main_thread():
        return
    try:
        signal.signal(signal.SIGTERM, _on_sigterm)
    except (ValueError, OSError):  # not the main interpreter, or no such signal here
        pass


atexit.register(shutdown)
