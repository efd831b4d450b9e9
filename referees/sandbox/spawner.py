"""The sandbox helper: a small long-lived process that starts this process's sandboxed programs.

A sandbox run's set-up (namespaces, rlimits, the uid switch) happens between fork and exec, so
subprocess has to fork() the process that asks, and a fork costs in proportion to the memory that
process has mapped: from a process holding the embedded model (~450 MB resident) one run took 30 ms
instead of 17 (docs/benchmarks.md). So the runs are started by a helper: a fresh interpreter that
imports the sandbox and nothing else, started once (without a preexec step, so by vfork, which costs
the same whatever the caller's size), with an environment holding no API keys. It ends when its
stdin closes, which the kernel does when the caller dies however it dies (PR_SET_PDEATHSIG would
fire when the *thread* that started it ends, and any thread may start it), killing its programs.

It runs the same confinement code. The caller keeps the isolation probe, the policy check and its
own shielding, and sends the level it found, so both sides run at one level. One helper serves every
event loop and thread of the caller: requests and answers are JSON lines on its stdin and stdout,
the answers read by one thread that hands each to the loop that asked. A run the caller cancels is
cancelled in the helper (its program killed); a helper that dies fails its runs with SandboxError
(a host failure: the match fails and is replayed, never scored) and is started again for the next.
"""
from __future__ import annotations

import asyncio
import atexit
import dataclasses
import itertools
import json
import os
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

_IN_HELPER = False  # set in the helper process: its runs happen there
_ENABLED = sys.platform == "linux"
_ENTRY = "import referees.sandbox.spawner as helper; helper.main()"  # not -m: a second copy of this module
_PACKAGE_ROOT = str(Path(__file__).resolve().parents[2])  # where `referees` imports from


def use(enabled: bool) -> None:
    """Start sandboxed programs through the helper (the default on Linux) or from this process."""
    global _ENABLED
    _ENABLED = bool(enabled)


def wanted() -> bool:
    return _ENABLED and not _IN_HELPER


class _Helper:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.proc: subprocess.Popen[bytes] | None = None
        self.pending: dict[int, tuple[asyncio.AbstractEventLoop, asyncio.Future[Any], Any]] = {}
        self.ids = itertools.count(1)

    def _start(self) -> subprocess.Popen[bytes]:  # under self.lock
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8", "PYTHONPATH": _PACKAGE_ROOT,
               "PYTHONDONTWRITEBYTECODE": "1"}
        try:
            log = tempfile.TemporaryFile()  # noqa: SIM115 - read and closed when the helper ends
            proc = subprocess.Popen([sys.executable, "-c", _ENTRY],
                                    stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, env=env, cwd="/")
        except OSError as exc:
            from referees.sandbox.confinement import SandboxError
            raise SandboxError(f"cannot start the sandbox helper: {exc}") from exc
        threading.Thread(target=self._answers, args=(proc, log), name="arena-sandbox-helper", daemon=True).start()
        self.proc = proc
        return proc

    def close(self) -> None:
        """At exit: close its stdin, so it ends its programs and exits, and wait for that."""
        with self.lock:
            proc, self.proc = self.proc, None
        if proc is not None:
            try:
                proc.stdin.close()  # type: ignore[union-attr]
                proc.wait(timeout=5)
            except (OSError, subprocess.TimeoutExpired):
                proc.kill()

    def send(self, loop: asyncio.AbstractEventLoop, future: asyncio.Future[Any], message: dict[str, Any]) -> int:
        with self.lock:  # one writer at a time: lines never interleave
            for attempt in (0, 1):
                proc = self.proc if self.proc is not None and self.proc.poll() is None else self._start()
                rid = next(self.ids)
                self.pending[rid] = (loop, future, proc)
                try:
                    proc.stdin.write(json.dumps({**message, "id": rid}).encode() + b"\n")  # type: ignore[union-attr]
                    proc.stdin.flush()  # type: ignore[union-attr]
                    return rid
                except OSError as exc:  # it died since it was checked: start another
                    self.pending.pop(rid, None)
                    self.proc = None
                    if attempt:
                        from referees.sandbox.confinement import SandboxError
                        raise SandboxError(f"the sandbox helper does not take runs: {exc}") from exc
        raise AssertionError("unreachable")

    def cancel(self, rid: int) -> None:
        with self.lock:
            entry = self.pending.pop(rid, None)
            if entry is None:
                return
            try:
                entry[2].stdin.write(json.dumps({"id": rid, "cancel": True}).encode() + b"\n")
                entry[2].stdin.flush()
            except (BrokenPipeError, OSError):
                pass  # gone: so is the program, which dies with it

    def _answers(self, proc: subprocess.Popen[bytes], log: Any) -> None:
        for line in proc.stdout:  # type: ignore[union-attr]
            try:
                answer = json.loads(line)
                answer["id"]
            except (ValueError, KeyError, TypeError):  # not the protocol: nothing it says can be trusted
                proc.kill()
                break
            with self.lock:
                entry = self.pending.pop(answer["id"], None)
            if entry is not None:
                _settle_soon(entry[0], entry[1], answer)
        rc = proc.wait()
        with self.lock:
            if self.proc is proc:
                self.proc = None
            lost = [(rid, e) for rid, e in self.pending.items() if e[2] is proc]
            for rid, _ in lost:
                del self.pending[rid]
        why = _last_lines(log)
        log.close()
        for _, (loop, future, _) in lost:
            _settle_soon(loop, future, {"error": "SandboxError", "message": f"the sandbox helper exited "
                                        f"(code {rc}) during the run" + (f": {why}" if why else "")})


def _last_lines(log: Any, n: int = 3) -> str:
    try:
        log.seek(0)
        return " | ".join(log.read().decode(errors="replace").strip().splitlines()[-n:])
    except OSError:
        return ""


def _settle_soon(loop: asyncio.AbstractEventLoop, future: asyncio.Future[Any], answer: dict[str, Any]) -> None:
    try:
        loop.call_soon_threadsafe(_settle, future, answer)
    except RuntimeError:  # that loop is closed: nobody waits any more
        pass


def _settle(future: asyncio.Future[Any], answer: dict[str, Any]) -> None:
    if future.done():
        return
    if "result" in answer:
        from referees.sandbox.execution import SandboxResult
        future.set_result(SandboxResult(**answer["result"]))
        return
    from referees.sandbox.confinement import SandboxError
    kinds: dict[str, type[Exception]] = {"SandboxError": SandboxError, "ValueError": ValueError}
    kind = kinds.get(answer["error"])
    future.set_exception(kind(answer["message"]) if kind else SandboxError(f"{answer['error']}: {answer['message']}"))


_HELPER = _Helper()
atexit.register(lambda: _HELPER.close())  # the current one: a forked child has its own (none)


def _forget_in_child() -> None:  # a forked child must not share the parent's helper (nor its lock)
    global _HELPER
    _HELPER = _Helper()


os.register_at_fork(after_in_child=_forget_in_child)


async def run(level: str, argv: list[str], files: dict[str, str] | None, options: dict[str, Any]) -> Any:
    """execution.run_here(<level>, argv, files, **options) in the helper: its SandboxResult (or its error)."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[Any] = loop.create_future()
    rid = _HELPER.send(loop, future, {"level": level, "argv": argv, "files": files, "options": options})
    try:
        return await future
    except asyncio.CancelledError:
        _HELPER.cancel(rid)  # the helper kills the program, as a cancelled run here would
        raise


# --- the helper process -----------------------------------------------------------------------

async def _one(request: dict[str, Any], out: Any) -> None:
    from referees.sandbox import confinement, execution
    try:
        result = await execution.run_here(confinement._LEVELS[request["level"]], request["argv"], request["files"],
                                          **request["options"])
        answer: dict[str, Any] = {"id": request["id"], "result": dataclasses.asdict(result)}
    except Exception as exc:  # noqa: BLE001 - every failure goes back to the run that asked
        answer = {"id": request["id"], "error": type(exc).__name__, "message": str(exc)}
    out.write(json.dumps(answer).encode() + b"\n")
    out.flush()


async def _serve() -> None:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=1 << 30)  # a request carries the program's files
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin.buffer)
    out = os.fdopen(os.dup(1), "wb")  # the answers' own fd; a stray print goes to stderr (the log)
    os.dup2(2, 1)
    runs: dict[int, asyncio.Future[None]] = {}
    while line := await reader.readline():
        request = json.loads(line)
        if request.get("cancel"):
            task = runs.get(request["id"])
            if task is not None:
                task.cancel()
            continue
        task = runs[request["id"]] = asyncio.ensure_future(_one(request, out))
        task.add_done_callback(lambda _, rid=request["id"]: runs.pop(rid, None))
    for task in list(runs.values()):  # the caller is gone: end every program
        task.cancel()
    if runs:
        await asyncio.wait(list(runs.values()), timeout=5)
    if runs:  # still ending: leave anyway, they die with this process (the programs' PR_SET_PDEATHSIG)
        os._exit(1)


def main() -> None:
    global _IN_HELPER
    _IN_HELPER = True
    asyncio.run(_serve())
