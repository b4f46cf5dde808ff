"""--debug: the init steps are logged decoded, each op with its named fields."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

from ocirun import protocol as P
from ocirun.lifecycle.launching import debug_plan
from ocirun.log import Logger
from ocirun.spec.mountopts import MS_NODEV, MS_NOEXEC, MS_NOSUID


def test_debug_log_shows_each_op_with_its_fields(tmp_path: Path) -> None:
    plan = P.Plan()
    plan.mount("mount proc to `/proc`", target="/proc", source="proc", fstype="proc",
               flags=MS_NOSUID | MS_NODEV | MS_NOEXEC)
    plan.sethostname("set the hostname", "box")
    launch: Any = SimpleNamespace(plan=plan)
    path = tmp_path / "log"
    log = Logger(str(path), debug=True)
    debug_plan(log, launch)
    lines = [line for line in path.read_text().splitlines() if "init step" in line]
    assert len(lines) == 2, lines
    assert "mount flags=MS_NOSUID|MS_NODEV|MS_NOEXEC" in lines[0]
    assert "target='/proc'" in lines[0] and "fstype='proc'" in lines[0]
    assert "# mount proc to `/proc`" in lines[0]
    assert "sethostname" in lines[1] and "'box'" in lines[1]
