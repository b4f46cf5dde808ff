"""ocirun.api's asyncio waits on every Python the package supports (requires-python >= 3.10)."""

from __future__ import annotations

import asyncio
import os

import pytest

from ocirun import api


def test_a_timeout_is_false_also_where_asyncio_has_its_own_timeout_error(monkeypatch: pytest.MonkeyPatch) -> None:
    # Python 3.10: asyncio.wait_for raises asyncio.TimeoutError, which is no builtin TimeoutError.
    class AsyncioTimeoutError(Exception):
        pass

    async def wait_for(awaitable: object, timeout: float | None) -> None:
        if asyncio.iscoroutine(awaitable):
            awaitable.close()
        raise AsyncioTimeoutError

    monkeypatch.setattr(asyncio, "TimeoutError", AsyncioTimeoutError)
    monkeypatch.setattr(asyncio, "wait_for", wait_for)
    r, w = os.pipe()
    try:
        assert asyncio.run(api._readable(r, 0.01)) is False
    finally:
        os.close(r)
        os.close(w)


def test_readable_sees_a_ready_fd_and_times_out_on_an_idle_one() -> None:
    r, w = os.pipe()
    try:
        assert asyncio.run(api._readable(r, 0.01)) is False
        os.write(w, b"x")
        assert asyncio.run(api._readable(r, 1)) is True
    finally:
        os.close(r)
        os.close(w)
