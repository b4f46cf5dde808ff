"""What podman as root (test_podman.py) and rootless podman (test_podman_rootless.py) are both
checked for, written once: each module's test calls these with its own podman driver, and adds
what only its mode has to say (the host's view of the container's pid, for one)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any, Protocol

import pytest

from . import images
from .ptyrun import exec_shell, interactive_shell
from .support import LOOP, EngineRuntime, Result, wait_until

IMAGE = images.PODMAN_IMAGE


class PodmanDriver(Protocol):
    """What the cases need of a podman driver (``Podman``, ``RootlessPodman``)."""

    env: dict[str, str]
    prefix: str  # of its containers' names

    def command(self, *args: str, runtime: EngineRuntime | None = None) -> list[str]: ...

    def __call__(self, *args: str, runtime: EngineRuntime | None = None, check: bool = True, timeout: float = 60,
                 input: str | None = None) -> Result: ...

    def names(self) -> list[str]: ...

    def inspect(self, name: str) -> dict[str, Any]: ...


Case = Callable[[PodmanDriver, EngineRuntime], None]


def remove_left(pm: PodmanDriver) -> list[str]:
    """After a test: the containers it left, removed now, as the problem to report."""
    left = pm.names()
    if left:
        pm("rm", "--force", "--time", "0", *left, check=False)
    return [f"containers left (removed now): {left}"] if left else []


def fail_on(problems: list[str]) -> None:
    if problems:
        pytest.fail("leftovers after the test:\n  " + "\n  ".join(problems), pytrace=False)


def name_for(pm: PodmanDriver, runtime: EngineRuntime, tag: str) -> str:
    return f"{pm.prefix}-{tag}-{runtime.name}-{uuid.uuid4().hex[:6]}"


def start_loop(pm: PodmanDriver, runtime: EngineRuntime, tag: str, *extra: str, script: str = LOOP) -> str:
    """A detached container running ``script`` (it prints "started"), once it has; its name."""
    name = name_for(pm, runtime, tag)
    pm("run", "-d", "--name", name, *extra, IMAGE, "sh", "-c", script, runtime=runtime)
    wait_until(lambda: "started" in pm("logs", name).stdout, f"{name} to start")
    return name


def run_it_through_a_pty(pm: PodmanDriver, runtime: EngineRuntime) -> None:
    """run -it: the shell's terminal is /dev/pts/0 of the size asked, follows a resize, and its
    exit status is podman's; the container is gone (--rm)."""
    interactive_shell(pm.command("run", "-it", "--rm", IMAGE, "sh", runtime=runtime), env=pm.env)
    assert pm.names() == []


def detached_logs(pm: PodmanDriver, runtime: EngineRuntime, name: str) -> dict[str, Any]:
    """run -d: stdout and stderr in the logs, running on the runtime asked for; its State."""
    pm("run", "-d", "--name", name, IMAGE, "sh", "-c", "echo one; echo two >&2; sleep 600", runtime=runtime)
    wait_until(lambda: "two" in (lambda r: r.stdout + r.stderr)(pm("logs", name)), "the logs")
    logs = pm("logs", name)
    assert "one" in logs.stdout + logs.stderr
    info = pm.inspect(name)
    assert info["OCIRuntime"] == runtime.name
    state: dict[str, Any] = info["State"]
    assert state["Status"] == "running" and state["Pid"] > 0
    return state


def exec_it_through_a_pty(pm: PodmanDriver, runtime: EngineRuntime) -> None:
    """exec -it into a running container: a pty of the size asked, the shell's exit status."""
    name = start_loop(pm, runtime, "execit")
    try:
        exec_shell(pm.command("exec", "-it", name, "sh"), env=pm.env)
    finally:
        pm("rm", "-f", "-t", "0", name)


def stop(pm: PodmanDriver, runtime: EngineRuntime) -> None:
    """stop: SIGTERM (the container's trap exits 7), and for one that ignores it, SIGKILL after -t."""
    name = start_loop(pm, runtime, "stop", script=f"trap 'echo got-term; exit 7' TERM; {LOOP}")
    try:
        started = time.monotonic()
        pm("stop", "-t", "20", name)
        assert time.monotonic() - started < 10
        state = pm.inspect(name)["State"]
        assert (state["Status"], state["ExitCode"]) == ("exited", 7), state
        assert "got-term" in pm("logs", name).stdout
    finally:
        pm("rm", "-f", "-t", "0", name)
    name = start_loop(pm, runtime, "stop-kill", script=f"trap '' TERM; {LOOP}")
    try:
        pm("stop", "-t", "1", name)
        state = pm.inspect(name)["State"]
        assert (state["Status"], state["ExitCode"]) == ("exited", 137), state
    finally:
        pm("rm", "-f", "-t", "0", name)
