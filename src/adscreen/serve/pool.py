"""Scoring in worker processes for a served app: every core used, ads answered in arrival order, every wait bounded.

A Python process scores one ad at a time (tokenising and regexes hold its GIL), so threads
add no cores. Several uvicorn worker processes would, but each takes whole connections,
and the few keep-alive connections of a busy client can all land on one of them
(measured: 4 connections on 2 uvicorn workers ran at one worker's rate). So one server
process speaks HTTP and hands each job to a pool of scoring processes over pipes:
whichever process is free takes the oldest waiting job. The hand-off runs on the event
loop itself, a reader per pipe, so the queue of waiting jobs is the pool's own and no
helper thread competes with the loop for the GIL.

Two kinds of job: a single ad (``score_json``: the web form and ``POST /v1/score``), and
bulk work (``score_bulk``: the items of a batch, the chunks of an uploaded file). A free
process takes waiting single ads first, so a big batch never makes a person wait behind it.

Every job has a deadline. A job still waiting at its deadline fails with ``ScoringTimeout``;
a job still being scored at its deadline has its process killed (a regex stuck on a hostile
ad cannot be interrupted any other way) and fails the same way. Either way the caller gets
an answer (HTTP 503 with ``Retry-After``) within the budget, never an unbounded wait.

A scoring process that dies (killed, out of memory, over its deadline) fails only the job
it held and is replaced in a helper thread, which tries again with growing pauses until a
process loads. While no process is running, ``health()`` names the reason (``/healthz``
answers 503 "degraded") and new jobs fail at once instead of waiting for nobody.

A scoring process answers with the result's JSON (``schemas.result_json``), which the
score route sends on as it is. Answers come back on a pipe of their own that the server
reads without blocking, as pieces arrive: uvloop (which uvicorn runs) makes a watched pipe
non-blocking, and a long answer is written in more than one piece.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import os
import pickle
import select
import signal
import struct
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import TypeVar, cast

from starlette.concurrency import run_in_threadpool

from adscreen.errors import AdscreenError, ScoringTimeout, ScoringUnavailable
from adscreen.language import detect_language
from adscreen.registry import LoadedModel, load_model_dir
from adscreen.rules.guidance import load_guide
from adscreen.scoring import Scorer
from adscreen.serve.schemas import result_json

log = logging.getLogger("adscreen.pool")
START_SECONDS = 300  # loading and verifying a model on a busy machine; a process slower than this is broken
RETRY_FIRST_SECONDS = 1.0  # pause before trying again to start a process that failed to load ...
RETRY_MAX_SECONDS = 30.0  # ... doubled each time, up to this
Answer = tuple[str, object]  # status ("ready", "ok", "refused", "failed") and its detail
_LENGTH = struct.Struct("!Q")  # an answer on its pipe: its length, then the pickled Answer
ScorerFactory = Callable[[Path, "str | None", int], Scorer]
T = TypeVar("T")
# Longest ad scored, or its language detected, on the server's event loop (about 10 ms on a busy
# 2-core machine, less than a hand-off to a thread); longer ones go to the thread pool.
INLINE_MAX_CHARS = 2_000


async def off_the_loop_if_long(text: str, function: Callable[..., T], *args: object, **kwargs: object) -> T:
    """``function(*args, **kwargs)`` about one ad: on the event loop for an ad of at most
    ``INLINE_MAX_CHARS``, in the thread pool for a longer one, so that a long ad stalls no other request."""
    if len(text) <= INLINE_MAX_CHARS:
        return function(*args, **kwargs)
    return await run_in_threadpool(function, *args, **kwargs)


def build_scorer(model_dir: Path, sha256: str | None, max_chars: int) -> Scorer:
    """The Scorer a scoring process serves: the verified model with the shipped guide."""
    return Scorer(load_model_dir(model_dir, sha256), load_guide(), max_chars)


def _send_answer(pipe: Connection, answer: Answer) -> None:
    payload = pickle.dumps(answer)
    data = memoryview(_LENGTH.pack(len(payload)) + payload)
    while data:
        data = data[os.write(pipe.fileno(), data) :]


def _run(scorer: Scorer, request: tuple) -> object:
    """One job: ("ad", text, country, ui_language, language) gives the result's JSON; ("call", function, args)
    a bulk result."""
    if request[0] == "ad":
        _, text, country, ui_language, language = request
        return result_json(scorer.score(text, country=country, ui_language=ui_language, language=language))
    _, function, args = request
    return function(scorer, *args)


def _serve(
    requests: Connection, answers: Connection, model_dir: str, sha256: str | None, max_chars: int, make: ScorerFactory
) -> None:
    """A scoring process: load and verify the model, say ready, then run each job it is sent until told to stop."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C stops the server, which then stops its pool
    # Nothing a scoring process runs needs pandas (an upload's chunks arrive as lists: ``batch.chunk``), yet
    # scikit-learn imports it whenever it is installed, for about 60 MiB per process. A None entry makes that
    # optional import fail as if pandas were absent; a required one would fail loudly, and the tests would show it.
    sys.modules.setdefault("pandas", None)  # type: ignore[arg-type]  # None is the import system's "absent"
    try:
        scorer = make(Path(model_dir), sha256, max_chars)
        scorer.warm_up(language_models=False)  # the server's HTTP process detects each ad's language
    except Exception as error:  # the parent reports it; a traceback here would go nowhere useful
        _send_answer(answers, ("failed", str(error)))
        return
    _send_answer(answers, ("ready", None))
    while True:
        try:
            request = requests.recv()
        except (EOFError, OSError):  # the server went away
            return
        if request is None:
            return
        try:
            answer: Answer = ("ok", _run(scorer, request))
        except AdscreenError as error:
            answer = ("refused", error)
        except Exception as error:  # one ad must not take the process down; the server answers 503
            answer = ("failed", f"{type(error).__name__}: {error}")
        try:
            _send_answer(answers, answer)
        except OSError:  # the server went away
            return


@dataclass(eq=False)
class _Job:
    request: tuple
    answer: asyncio.Future
    seconds: float  # from submission to answer
    run_seconds: float | None  # from hand-off to answer (a batch item's own cap inside the batch's budget)
    timer: asyncio.TimerHandle | None = None
    run_timer: asyncio.TimerHandle | None = None
    worker: _Worker | None = None


@dataclass(eq=False)
class _Worker:
    process: BaseProcess
    requests: Connection  # written as the process reads it: it waits for each job
    answers: Connection  # read without blocking, piece by piece (``take_answer``)
    inbox: bytearray = field(default_factory=bytearray)
    holding: _Job | None = None

    def take_answer(self) -> Answer | None:
        """Read what has arrived of the process's answer: the answer once it is whole, else None.
        EOFError when the process has gone."""
        try:
            chunk = os.read(self.answers.fileno(), 1 << 20)
        except BlockingIOError:
            return None
        if not chunk:
            raise EOFError
        self.inbox += chunk
        if len(self.inbox) < _LENGTH.size:
            return None
        end = _LENGTH.size + _LENGTH.unpack_from(self.inbox)[0]
        if len(self.inbox) < end:
            return None
        answer = pickle.loads(self.inbox[_LENGTH.size : end])
        del self.inbox[:end]
        return answer

    def close(self) -> None:
        self.requests.close()
        self.answers.close()


@dataclass(eq=False)
class ScoringPool:
    """``processes`` scoring processes for one model; ``score_json()`` and ``score_bulk()`` are awaited on the event loop.

    ``for_model`` blocks until every process has loaded the model: build it before serving
    or in a worker thread. ``retire()`` lets the jobs already sent finish, then stops the processes.
    """

    model_dir: str
    sha256: str | None
    max_chars: int
    processes: int
    make_scorer: ScorerFactory = build_scorer
    _processes: list[BaseProcess] = field(default_factory=list)
    _starting: list[_Worker] = field(default_factory=list)
    _idle: list[_Worker] = field(default_factory=list)
    _busy: set[_Worker] = field(default_factory=set)
    _waiting: deque[_Job] = field(default_factory=deque)  # single ads, served first
    _bulk: deque[_Job] = field(default_factory=deque)
    _replacing: int = 0
    _last_failure: str | None = None
    _loop: asyncio.AbstractEventLoop | None = None
    _retiring: bool = False
    _stopped: bool = False

    @classmethod
    def start(
        cls,
        model_dir: Path,
        sha256: str | None,
        max_chars: int,
        processes: int,
        make_scorer: ScorerFactory = build_scorer,
    ) -> ScoringPool:
        """Start the processes loading the model, and return at once: ``wait_ready()`` before scoring."""
        pool = cls(str(model_dir), sha256, max_chars, processes, make_scorer)
        pool._starting = [pool._start() for _ in range(processes)]
        return pool

    @classmethod
    def for_model(
        cls, loaded: LoadedModel, max_chars: int, processes: int, make_scorer: ScorerFactory = build_scorer
    ) -> ScoringPool:
        """A ready pool for a model already loaded (and verified) in this process."""
        sha256 = loaded.metadata.get("model_sha256")
        return cls.start(loaded.path, sha256, max_chars, processes, make_scorer).wait_ready()

    def wait_ready(self) -> ScoringPool:
        """Block until every process has loaded the model; ScoringUnavailable (and no process left) if one cannot."""
        try:
            self._idle.extend(self._ready(worker) for worker in self._starting)
        except ScoringUnavailable:
            self.kill()
            raise
        finally:
            self._starting = []
        return self

    def kill(self) -> None:
        """Stop the processes now, whatever they are doing (a pool that failed to start, or a failed load beside it)."""
        self._stopped = True
        for process in list(self._processes):
            process.kill()
            process.join()

    def _start(self) -> _Worker:
        context = multiprocessing.get_context("spawn")  # a fork of a server with threads can deadlock
        their_requests, our_requests = context.Pipe(duplex=False)
        our_answers, their_answers = context.Pipe(duplex=False)
        process = context.Process(
            target=_serve,
            args=(their_requests, their_answers, self.model_dir, self.sha256, self.max_chars, self.make_scorer),
            name="adscreen-scorer",
            daemon=True,
        )
        process.start()
        their_requests.close()
        their_answers.close()
        os.set_blocking(our_answers.fileno(), False)
        self._processes = [known for known in self._processes if known.is_alive()] + [process]
        return _Worker(process, our_requests, our_answers)

    def _ready(self, worker: _Worker) -> _Worker:
        """The worker once it has loaded the model; ScoringUnavailable (and the process killed) when it cannot."""
        deadline = time.monotonic() + START_SECONDS
        answer = None
        try:
            while answer is None:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not select.select([worker.answers], [], [], remaining)[0]:
                    raise ScoringUnavailable(f"a scoring process did not load the model in {START_SECONDS} s")
                answer = worker.take_answer()
            status, detail = answer
            if status != "ready":
                raise ScoringUnavailable(f"a scoring process could not load {self.model_dir}: {detail}")
        except (EOFError, ScoringUnavailable) as error:
            worker.process.kill()
            worker.process.join()
            worker.close()
            if isinstance(error, EOFError):
                raise ScoringUnavailable(f"a scoring process stopped while loading {self.model_dir}") from None
            raise
        return worker

    # --- Jobs ---

    async def score_json(
        self,
        text: str,
        country: str | None,
        ui_language: str | None,
        seconds: float,
        bulk: bool = False,
        run_seconds: float | None = None,
    ) -> bytes:
        """The JSON of ``Scorer.score``'s result for a valid ad, from the first scoring process free.

        ScoringTimeout when no process finished it within ``seconds`` (or scored it longer than
        ``run_seconds``); ScoringUnavailable when none is running. ``bulk`` ads (a batch's items)
        wait behind single ones.
        """
        queue = self._bulk if bulk else self._waiting
        language = await off_the_loop_if_long(text, detect_language, text)
        answer = await self._submit(("ad", text, country, ui_language, language), seconds, queue, run_seconds)
        return cast(bytes, answer)  # a process answers an "ad" request with result_json's bytes

    async def score_bulk(self, function: Callable[..., object], args: tuple, seconds: float) -> object:
        """``function(scorer, *args)`` in a scoring process, after any single ads waiting; the same deadline rules.

        ``function`` must be importable by name (it is pickled), its arguments and result picklable.
        """
        return await self._submit(("call", function, args), seconds, self._bulk)

    async def _submit(
        self, request: tuple, seconds: float, queue: deque[_Job], run_seconds: float | None = None
    ) -> object:
        if self._stopped or self._retiring:  # a request that took this pool just before its model was replaced
            raise ScoringUnavailable("the model was just replaced; please try again")
        if self._loop is None:
            self._loop = asyncio.get_running_loop()
            for worker in self._idle:
                self._loop.add_reader(worker.answers.fileno(), self._answered, worker)
        reason = self.health()
        if reason is not None:
            raise ScoringUnavailable(f"the server cannot score now ({reason}); please try again shortly")
        job = _Job(request, self._loop.create_future(), seconds, run_seconds)
        job.timer = self._loop.call_later(max(seconds, 0), self._expire, job, seconds)
        queue.append(job)
        self._dispatch()
        try:
            return await job.answer
        finally:
            for timer in (job.timer, job.run_timer):
                if timer is not None:
                    timer.cancel()

    def _expire(self, job: _Job, seconds: float) -> None:
        """A job's deadline passed: fail it, and kill the process scoring it (it cannot be interrupted otherwise)."""
        if job.answer.done():
            return
        job.answer.set_exception(
            ScoringTimeout(f"scoring took longer than this server allows ({seconds:g} s) and was stopped")
        )
        worker = job.worker
        if worker is not None and worker.holding is job:
            log.error("a scoring process went over its %g s budget; stopping it", seconds)
            worker.process.kill()
            self._lost(worker, self._release(worker))
        self._dispatch()

    def _next_job(self) -> _Job | None:
        for queue in (self._waiting, self._bulk):
            while queue:
                job = queue.popleft()
                if not job.answer.done():  # else the client went away, or its deadline passed, while it waited
                    return job
        return None

    def _dispatch(self) -> None:
        while self._idle:
            job = self._next_job()
            if job is None:
                break
            worker = self._idle.pop()
            try:
                worker.requests.send(job.request)
            except OSError:  # it died since its last answer: the job waits for the next process free
                self._waiting.appendleft(job) if job.request[0] == "ad" else self._bulk.appendleft(job)
                self._lost(worker, None)
                continue
            worker.holding, job.worker = job, worker
            self._busy.add(worker)
            if job.run_seconds is not None:
                assert self._loop is not None
                job.run_timer = self._loop.call_later(job.run_seconds, self._expire, job, job.run_seconds)
        if self._retiring and not self._busy:
            for queue in (self._waiting, self._bulk):
                for job in queue:  # only when every process died while the pool was retiring
                    if not job.answer.done():
                        job.answer.set_exception(ScoringUnavailable("the model was just replaced; please try again"))
                queue.clear()
            self._stop()

    def _answered(self, worker: _Worker) -> None:
        try:
            reply = worker.take_answer()
        except (EOFError, OSError):
            self._lost(worker, self._release(worker))
            return
        if reply is None:  # more of it to come
            return
        status, detail = reply
        job = self._release(worker)
        if job is not None and not job.answer.done():
            if status == "ok":
                job.answer.set_result(detail)
            elif status == "refused":
                job.answer.set_exception(cast(AdscreenError, detail))  # what _serve sends as "refused"
            else:
                log.error("scoring failed: %s", detail)
                job.answer.set_exception(ScoringUnavailable("scoring failed on the server; please try again"))
        self._idle.append(worker)
        self._dispatch()

    def _release(self, worker: _Worker) -> _Job | None:
        """The job the worker held, which it holds no longer."""
        job, worker.holding = worker.holding, None
        self._busy.discard(worker)
        return job

    def _lost(self, worker: _Worker, job: _Job | None) -> None:
        """A scoring process died: fail its job, and start a replacement off the event loop."""
        assert self._loop is not None
        with contextlib.suppress(ValueError, OSError):
            self._loop.remove_reader(worker.answers.fileno())
        worker.close()
        if worker in self._idle:  # it died between two jobs
            self._idle.remove(worker)
        worker.process.join(timeout=1)  # its pipe closed as it exited: reap it, for the exit code
        replace = not (self._retiring or self._stopped)
        then = "; starting another" if replace else ""
        log.error("a scoring process stopped (exit code %s)%s", worker.process.exitcode, then)
        if job is not None and not job.answer.done():
            job.answer.set_exception(ScoringUnavailable("the scoring process stopped while scoring; please try again"))
        if replace:
            self._replacing += 1
            threading.Thread(target=self._replace, daemon=True, name="adscreen-replace").start()

    def _replace(self) -> None:
        """Start processes until one loads (pausing longer after each failure), then hand it to the event loop."""
        pause = RETRY_FIRST_SECONDS
        while not (self._stopped or self._retiring):
            try:
                worker = self._ready(self._start())
            except Exception as error:  # a process killed while loading, no memory left, ...
                self._last_failure = str(error)
                log.error("could not start a scoring process (%s); trying again in %g s", error, pause)
                time.sleep(pause)
                pause = min(pause * 2, RETRY_MAX_SECONDS)
                continue
            assert self._loop is not None
            try:
                self._loop.call_soon_threadsafe(self._join, worker)
            except RuntimeError:  # the server stopped meanwhile
                worker.process.kill()
            return
        self._replacing -= 1

    def _join(self, worker: _Worker) -> None:
        assert self._loop is not None
        self._replacing -= 1
        if self._retiring or self._stopped:
            with contextlib.suppress(OSError):
                worker.requests.send(None)
            worker.close()
            return
        self._last_failure = None
        self._loop.add_reader(worker.answers.fileno(), self._answered, worker)
        self._idle.append(worker)
        self._dispatch()

    def health(self) -> str | None:
        """None while a process can take jobs, else why not (for ``/healthz``)."""
        if self._idle or self._busy:
            return None
        if self._stopped or self._retiring:
            return "the scoring processes were stopped"
        detail = f"; last attempt: {self._last_failure}" if self._last_failure else ""
        return f"no scoring process is running ({self._replacing} being started{detail})"

    # --- Stopping ---

    def retire(self) -> None:
        """Stop the processes once the jobs already handed to this pool are answered."""
        self._retiring = True
        if self._loop is None:
            self._stop()
        else:
            self._dispatch()

    def join(self, timeout: float = 60) -> None:
        """Block until the processes have exited after ``retire()``; one still running after ``timeout`` s is killed."""
        deadline = time.monotonic() + timeout
        for process in list(self._processes):
            process.join(max(deadline - time.monotonic(), 0))
            if process.is_alive():
                process.kill()
                process.join()

    @property
    def alive(self) -> int:
        """How many scoring processes are running."""
        return sum(process.is_alive() for process in self._processes)

    def _stop(self) -> None:
        self._stopped = True
        for worker in self._idle:
            if self._loop is not None:
                with contextlib.suppress(ValueError, OSError):
                    self._loop.remove_reader(worker.answers.fileno())
            with contextlib.suppress(OSError):
                worker.requests.send(None)
            worker.close()
        self._idle.clear()
