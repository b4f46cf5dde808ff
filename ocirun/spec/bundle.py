"""Reading a bundle's config.json: parse once, check against the schema, build the typed model."""

from __future__ import annotations

from .. import _json
from .. import _os as os
from ..errors import InvalidSpec, SyscallError
from . import schema, validate
from .model import Spec

MAX_CONFIG = 64 << 20


def load(bundle: str) -> Spec:
    """The Spec of ``bundle``; raises InvalidSpec (naming the JSON path) or SyscallError."""
    path = os.path.join(bundle, "config.json")
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError as e:
        if e.errno == 2 and not os.path.isdir(bundle):
            raise SyscallError.from_oserror("open bundle", e, bundle) from None
        raise SyscallError.from_oserror("open", e, path) from None
    try:
        chunks = []
        while chunk := os.read(fd, 1 << 20):
            chunks.append(chunk)
            if sum(map(len, chunks)) > MAX_CONFIG:
                raise InvalidSpec("", "the file is larger than 64 MiB")
    except OSError as e:
        raise SyscallError.from_oserror("read", e, path) from None
    finally:
        os.close(fd)
    raw = b"".join(chunks)
    try:
        doc = _json.loads(raw)
    except UnicodeDecodeError as e:
        raise InvalidSpec("", f"not UTF-8 text ({e.reason} at byte {e.start})") from None
    except ValueError as e:
        raise InvalidSpec("", f"invalid JSON: {e}") from None
    except RecursionError:
        raise InvalidSpec("", "invalid JSON: nested too deeply") from None
    validate.strings(doc, raw)
    try:
        schema.check(doc)
        spec = Spec.from_json(doc)
    except RecursionError:  # deep nesting the parser took, in a property ocirun does not know
        raise InvalidSpec("", "nested too deeply") from None
    validate.check_for_create(spec)
    return spec
