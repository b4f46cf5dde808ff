"""A program using the library as its users would, checked by ``mypy --strict`` (make lint): the
public names are typed all the way (ocirun ships py.typed), so a mistake here is a type error.

Not run by the tests (tests/integration/test_api.py drives real containers); it type-checks only.
"""

from __future__ import annotations

import asyncio

import ocirun
from ocirun import errors
from ocirun.spec.resources import Resources


def make_bundle(rt: ocirun.Runtime, bundle: str) -> str:
    cfg: ocirun.Config = rt.spec()
    cfg.args = ["/bin/sh", "-c", "echo hello"]
    cfg.terminal = False
    cfg.resources["pids"] = {"limit": 20}
    cfg.check()
    return cfg.write(bundle)


def supervise(rt: ocirun.Runtime, bundle: str) -> int | None:
    c: ocirun.Container = rt.create("job", bundle)
    c.start()
    state: ocirun.ContainerState = c.state()
    print(state.status, state.pid, state.to_json()["id"])
    p: ocirun.Process = c.exec(["/bin/true"], env=["A=1"], user=(0, 0))
    code: int | None = p.wait(timeout=5.0)
    print(code, p.returncode, p.pid, p.master)
    c.pause()
    c.resume()
    c.update(Resources.from_json({"pids": {"limit": 10}}))
    c.update(pids_limit=12)
    pids: list[int] = c.ps()
    stats: dict[str, object] = c.stats()
    print(pids, sorted(stats))
    for event in c.events(interval=1.0):
        kind: str = event.kind
        print(kind, event.data)
        break
    c.kill("SIGTERM")
    status = c.wait(timeout=10.0)
    c.delete()
    return status


async def watch(rt: ocirun.Runtime) -> int | None:
    c = rt.get("job")
    async for event in c.events_async(interval=0.5):
        print(event.to_json())
        break
    p = c.exec(["/bin/true"])
    await p.wait_async(timeout=5.0)
    return await c.wait_async(timeout=5.0)


def main() -> None:
    rt = ocirun.Runtime(root="/run/ocirun-sample")
    try:
        make_bundle(rt, "/tmp/bundle")
        print(supervise(rt, "/tmp/bundle"), asyncio.run(watch(rt)))
    except errors.ContainerNotFound as e:
        print("no such container:", e)
    except errors.OciRunError as e:
        print("failed:", e)
    print([s.id for s in rt.list()])


if __name__ == "__main__":
    main()
