"""Check a decoded config.json against ocirun's schema.

``check(doc)`` runs the generated validator (``_validator.py``), which costs tens of
microseconds and imports nothing.  Only when the document is invalid, and only if the
``jsonschema`` package is installed, it is asked for its wording of the same problem; the
JSON path always comes from the generated validator, so the error does not depend on
whether jsonschema is installed.
"""

from __future__ import annotations

from ocirun.errors import InvalidSpec
from ocirun.spec._validator import json_path, validate

#: Path of our JSON Schema, next to this file.
SCHEMA_FILE = __file__.rpartition("/")[0] + "/config.schema.json"

#: jsonschema messages longer than this (they can quote a whole object) are not used.
MAX_DETAIL = 300

#: Keywords whose jsonschema message is less clear than ours: a pattern error quotes the
#: regex, an anyOf error the whole object, a property name error does not say it is one.
OWN_WORDING = frozenset({"pattern", "anyOf", "propertyNames", "minLength"})


def check(doc: object) -> None:
    """Raise ``InvalidSpec(path, reason)`` if ``doc`` is not a valid configuration."""
    err = validate(doc)
    if err is None:
        return
    path, reason = err
    raise InvalidSpec(path, _detailed_reason(doc, path) or reason)


def load_schema() -> dict[str, object]:
    """Our config schema as a Python object."""
    import json

    with open(SCHEMA_FILE, encoding="utf-8") as f:
        schema: dict[str, object] = json.load(f)
    return schema


def reference_validator(schema: dict[str, object] | None = None) -> object:
    """A jsonschema validator for our schema, with the generated validator's notion of integer.

    Draft-07 counts 1.0 as an integer; we do not (neither does Go's decoder, nor does draft-04),
    so "integer" is redefined as an ``int`` that is not a ``bool``.  Raises ImportError if
    jsonschema is not installed.
    """
    from jsonschema import Draft7Validator, validators  # type: ignore[import-untyped, unused-ignore]

    def is_integer(checker: object, instance: object) -> bool:
        return type(instance) is int

    checker = Draft7Validator.TYPE_CHECKER.redefine("integer", is_integer)
    strict = validators.extend(Draft7Validator, type_checker=checker)
    return strict(load_schema() if schema is None else schema)


def _detailed_reason(doc: object, path: str) -> str | None:
    """jsonschema's message for the problem at ``path``, or None.

    Uses jsonschema's best match when it is at ``path``, else any other of its errors at
    ``path``, except for the keywords in OWN_WORDING.  Never raises: this only changes the
    wording.
    """
    try:
        from jsonschema.exceptions import best_match  # type: ignore[import-untyped, unused-ignore]

        validator = reference_validator()
        errors = list(validator.iter_errors(doc))  # type: ignore[attr-defined]
        if not errors:
            return None
        for e in [best_match(errors), *errors]:
            # An error nested under anyOf tells of one alternative only: not used.
            if e.parent is not None or e.validator in OWN_WORDING or len(e.message) > MAX_DETAIL:
                continue
            if json_path(e.absolute_path) == path:
                return str(e.message)
    except Exception:  # ImportError, or any jsonschema trouble: keep the generated message
        return None
    return None
