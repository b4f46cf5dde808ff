"""Plan.add writes the op header out by hand (the hot path of every create): it must be OP_HDR's."""

from __future__ import annotations

import pytest

from ocirun import protocol as P


@pytest.mark.parametrize("slots", [(0, 0, 0, 0), (1, -1, 2**63 - 1, -(2**63)), (0x4000, 7, -5, 123456789)])
@pytest.mark.parametrize("payload", [(), ("",), ("/proc", "a b", "ünï")])
def test_add_writes_op_hdr(slots: tuple[int, int, int, int], payload: tuple[str, ...]) -> None:
    plan = P.Plan()
    plan.add(P.OP_MOUNT, "what", *slots, strings=payload)
    chunk = plan.encode()[P.PLAN_HDR.size :]
    body = b"".join(s.encode() + b"\0" for s in payload)
    size = P.OP_HDR.size + len(body) + (-(P.OP_HDR.size + len(body)) % 8)
    assert chunk == P.OP_HDR.pack(P.OP_MOUNT, size, *slots) + body + b"\0" * (size - P.OP_HDR.size - len(body))
    assert P.OP_HDR.size == 40


def test_add_refuses_a_slot_out_of_range() -> None:
    with pytest.raises(OverflowError):
        P.Plan().add(P.OP_RLIMIT, "what", 2**63)
