"""Scoring single ads in worker processes for a served app: every core used, ads answered in arrival order.

A Python process scores one ad at a time (tokenising and regexes hold its GIL), so threads
add no cores. Several uvicorn worker processes would, but each takes whole connections,
and the few keep-alive connections of a busy client can all land on one of them
(measured: 4 connections on 2 uvicorn workers ran at one worker's rate). So one server
process speaks HTTP and hands each ad to a pool of scoring processes over pipes:
whichever process is free takes the oldest waiting ad. The hand-off runs on the event
loop itself, a reader per pipe, so the queue of waiting ads is the pool's own and no
helper thread competes with the loop for the GIL.

A scoring process answers with the result's JSON (``schemas.result_json``), which the
score route sends on as it is: the server process neither unpickles nor re-serialises it.
Answers come back on a pipe of their own that the server reads without blocking, as
pieces arrive: uvloop (which uvicorn runs) makes a watched pipe non-blocking, and a long
answer is written in more than one piece.

A scoring process that dies (killed, out of memory) fails only the ad it held, with
``ScoringUnavailable``, and is replaced.
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
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path

from adscreen.errors import AdscreenError, ScoringUnavailable
from adscreen.guidance import load_guide
from adscreen.language import warm_up
from adscreen.registry import LoadedModel, load_model_dir
from adscreen.schemas import result_json
from adscreen.scoring import Scorer

log = logging.getLogger("adscreen.pool")
START_SECONDS = 300  # loading and verifying a model on a busy machine; a process slower than this is broken
Request = tuple[str, str | None, str | None]  # text, country, interface language
Answer = tuple[str, object]  # status ("ready", "ok", "refused", "failed") and its detail
_LENGTH = struct.Struct("!Q")  # an answer on its pipe: its length, then the pickled Answer


def _send_answer(pipe: Connection, answer: Answer) -> None:
    payload = pickle.dumps(answer)
    data = memoryview(_LENGTH.pack(len(payload)) + payload)
    while data:
        data = data[os.write(pipe.fileno(), data) :]


def _serve(requests: Connection, answers: Connection, model_dir: str, sha256: str | None, max_chars: int) -> None:
    """A scoring process: load and verify the model, say ready, then score each ad it is sent until told to stop."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C stops the server, which then stops its pool
    try:
        scorer = Scorer(load_model_dir(Path(model_dir), sha256), load_guide(), max_chars)
        warm_up()
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
        text, country, ui_language = request
        try:
            answer: Answer = ("ok", result_json(scorer.score(text, country=country, ui_language=ui_language)))
        except AdscreenError as error:
            answer = ("refused", error)
        except Exception as error:  # one ad must not take the process down; the server answers 503
            answer = ("failed", f"{type(error).__name__}: {error}")
        try:
            _send_answer(answers, answer)
        except OSError:  # the server went away
            return


@dataclass(eq=False)
class _Worker:
    process: BaseProcess
    requests: Connection  # written as the process reads it: it waits for each ad
    answers: Connection  # read without blocking, piece by piece (``take_answer``)
    inbox: bytearray = field(default_factory=bytearray)
    holding: asyncio.Future | None = None

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
    """``processes`` scoring processes for one model; ``score()`` is awaited on the server's event loop.

    Construction blocks until every process has loaded the model: build it before serving
    or in a worker thread. ``retire()`` lets the ads already sent finish, then stops the processes.
    """

    model_dir: str
    sha256: str | None
    max_chars: int
    processes: int
    _processes: list[BaseProcess] = field(default_factory=list)
    _starting: list[_Worker] = field(default_factory=list)
    _idle: list[_Worker] = field(default_factory=list)
    _busy: set[_Worker] = field(default_factory=set)
    _waiting: deque[tuple[Request, asyncio.Future]] = field(default_factory=deque)
    _loop: asyncio.AbstractEventLoop | None = None
    _retiring: bool = False
    _stopped: bool = False

    @classmethod
    def start(cls, model_dir: Path, sha256: str | None, max_chars: int, processes: int) -> ScoringPool:
        """Start the processes loading the model, and return at once: ``wait_ready()`` before scoring."""
        pool = cls(str(model_dir), sha256, max_chars, processes)
        pool._starting = [pool._start() for _ in range(processes)]
        return pool

    @classmethod
    def for_model(cls, loaded: LoadedModel, max_chars: int, processes: int) -> ScoringPool:
        """A ready pool for a model already loaded (and verified) in this process."""
        return cls.start(loaded.path, loaded.metadata.get("model_sha256"), max_chars, processes).wait_ready()

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
        for process in self._processes:
            process.kill()
            process.join()

    def _start(self) -> _Worker:
        context = multiprocessing.get_context("spawn")  # a fork of a server with threads can deadlock
        their_requests, our_requests = context.Pipe(duplex=False)
        our_answers, their_answers = context.Pipe(duplex=False)
        process = context.Process(
            target=_serve,
            args=(their_requests, their_answers, self.model_dir, self.sha256, self.max_chars),
            name="adscreen-scorer",
            daemon=True,
        )
        process.start()
        their_requests.close()
        their_answers.close()
        os.set_blocking(our_answers.fileno(), False)
        self._processes.append(process)
        return _Worker(process, our_requests, our_answers)

    def _ready(self, worker: _Worker) -> _Worker:
        """The worker once it has loaded the model; ScoringUnavailable when it cannot."""
        deadline = time.monotonic() + START_SECONDS
        answer = None
        try:
            while answer is None:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not select.select([worker.answers], [], [], remaining)[0]:
                    raise ScoringUnavailable(f"a scoring process did not load {self.model_dir} in {START_SECONDS} s")
                answer = worker.take_answer()
        except EOFError:
            raise ScoringUnavailable(f"a scoring process stopped while loading {self.model_dir}") from None
        status, detail = answer
        if status != "ready":
            raise ScoringUnavailable(f"a scoring process could not load {self.model_dir}: {detail}")
        return worker

    async def score_json(self, text: str, country: str | None, ui_language: str | None) -> bytes:
        """The JSON of ``Scorer.score``'s result for a valid ad, from the first scoring process free."""
        if self._stopped:  # a request that took this pool just before its model was replaced
            raise ScoringUnavailable("the model was just replaced; please try again")
        if self._loop is None:
            self._loop = asyncio.get_running_loop()
            for worker in self._idle:
                self._loop.add_reader(worker.answers.fileno(), self._answered, worker)
        answer = self._loop.create_future()
        self._waiting.append(((text, country, ui_language), answer))
        self._dispatch()
        return await answer

    def _dispatch(self) -> None:
        while self._idle and self._waiting:
            request, answer = self._waiting.popleft()
            if answer.done():  # the client went away while it waited
                continue
            worker = self._idle.pop()
            try:
                worker.requests.send(request)
            except OSError:  # it died since its last answer: the ad waits for the next process free
                self._waiting.appendleft((request, answer))
                self._lost(worker, None)
                continue
            worker.holding = answer
            self._busy.add(worker)
        if self._retiring and not self._busy:
            for _, answer in self._waiting:  # only when every process died while the pool was retiring
                if not answer.done():
                    answer.set_exception(ScoringUnavailable("the model was just replaced; please try again"))
            self._waiting.clear()
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
        answer = self._release(worker)
        if answer is not None and not answer.done():
            if status == "ok":
                answer.set_result(detail)
            elif status == "refused":
                answer.set_exception(detail)
            else:
                log.error("scoring failed: %s", detail)
                answer.set_exception(ScoringUnavailable("scoring this ad failed on the server; please try again"))
        self._idle.append(worker)
        self._dispatch()

    def _release(self, worker: _Worker) -> asyncio.Future | None:
        """The ad the worker held, which it holds no longer."""
        answer, worker.holding = worker.holding, None
        self._busy.discard(worker)
        return answer

    def _lost(self, worker: _Worker, answer: asyncio.Future | None) -> None:
        """A scoring process died: fail its ad, and start a replacement off the event loop."""
        assert self._loop is not None
        self._loop.remove_reader(worker.answers.fileno())
        worker.close()
        if worker in self._idle:  # it died between two ads
            self._idle.remove(worker)
        worker.process.join(timeout=1)  # its pipe closed as it exited: reap it, for the exit code
        log.error("a scoring process stopped (exit code %s); starting another", worker.process.exitcode)
        if answer is not None and not answer.done():
            answer.set_exception(
                ScoringUnavailable("the scoring process stopped while scoring this ad; please try again")
            )
        if not self._retiring:
            threading.Thread(target=self._replace, daemon=True).start()

    def _replace(self) -> None:
        try:
            worker = self._ready(self._start())
        except ScoringUnavailable as error:
            log.error("could not replace a scoring process: %s", error)
            return
        assert self._loop is not None
        try:
            self._loop.call_soon_threadsafe(self._join, worker)
        except RuntimeError:  # the server stopped meanwhile
            worker.process.kill()

    def _join(self, worker: _Worker) -> None:
        assert self._loop is not None
        if self._retiring:
            worker.requests.send(None)
            return
        self._loop.add_reader(worker.answers.fileno(), self._answered, worker)
        self._idle.append(worker)
        self._dispatch()

    def retire(self) -> None:
        """Stop the processes once the ads already handed to this pool are answered."""
        self._retiring = True
        if self._loop is None:
            self._stop()
        else:
            self._dispatch()

    def join(self, timeout: float = 60) -> None:
        """Block until the processes have exited after ``retire()``; one still running after ``timeout`` s is killed."""
        for process in self._processes:
            process.join(timeout)
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
                self._loop.remove_reader(worker.answers.fileno())
            with contextlib.suppress(OSError):
                worker.requests.send(None)
            worker.close()
        self._idle.clear()
