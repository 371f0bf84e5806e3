#!/usr/bin/env python3
"""Checks ramp plans against plans/ramp-plan.schema.json with an independent validator (PyPI jsonschema).

    python check_plan_schema.py [--expect-invalid] SCHEMA PATH...

Each PATH is
  - a plan file (*.json, always checked as a plan),
  - a Markdown file (*.md): every fenced ```json block that parses as a JSON object with "flag" and "steps"
    keys (or "kind": "experiment" or "bandit") is a plan, named FILE:LINE (LINE is the block's first line of JSON),
  - a folder: every *.json inside, recursively, that is a plan (a JSON object with a "steps" key, or "kind": "experiment" or "bandit"; *.schema.json
    and other JSON files are skipped), and every *.md inside as above. Folders whose names start with "." are
    skipped.

Each plan is validated with jsonschema.Draft202012Validator (format checking off) and gets one line:
`ok FILE[:LINE]` or `FAIL FILE[:LINE]: path: message`. The exit status is 0 when every plan passed, 1 when any
failed, 2 on a usage error (bad arguments, unreadable or invalid schema, a missing path, no plan found).

--expect-invalid turns the check around, for a corpus of plans ramp refuses: a plan the schema refuses is
`ok FILE: refused at path: message`, a plan it accepts is `FAIL FILE: accepted by the schema` (exit 1).

Numbers are read as ramp reads them, as the nearest double, and then as the exact decimal (decimal.Decimal) of
that double's shortest spelling, so that `multipleOf: 0.01` on a step's percent is exact (in binary floating point
0.07 / 0.01 is not a whole number) and 0.49999999999999999999 is 0.5, as ramp sees it. JSON that ramp's parser
refuses (duplicate keys, also keys equal under Unicode canonical equivalence as Swift compares strings; NaN,
Infinity; a number out of the double's range; an unpaired surrogate; nesting deeper than 256 levels) is not a plan:
as a plan file it FAILs, in a folder it is skipped. A leading byte order mark is ignored, as ramp ignores it.
"""

import decimal
import json
import math
import os
import re
import sys
import unicodedata

USAGE = "usage: check_plan_schema.py [--expect-invalid] SCHEMA PATH..."


class NotJSON(Exception):
    pass


def _pairs(pairs):
    seen = {}
    canonical = set()
    for key, value in pairs:
        # Swift's String == is canonical equivalence: "\u00e9" and "e\u0301" are the same key to ramp.
        normal = unicodedata.normalize("NFD", key)
        if key in seen or normal in canonical:
            raise NotJSON(f'duplicate key "{key}"')
        seen[key] = value
        canonical.add(normal)
    return seen


def _double(text):
    """The double ramp reads for a number's text (Swift's Double(text)); out of its range is not JSON."""
    value = float(text)
    if not math.isfinite(value):
        raise NotJSON(f"number {text} is out of range")
    return value


def _float(text):
    return decimal.Decimal(repr(_double(text)))


def _int(text):
    value = _double(text)
    return int(text) if abs(value) < 2**53 else int(value)


SURROGATE = re.compile("[\ud800-\udfff]")


def _check(value):
    """Refuses an unpaired surrogate (\\ud800 alone) and nesting deeper than 256 levels, as ramp's parser does."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list)):
            if depth > 256:
                raise NotJSON("nesting deeper than 256 levels")
            children = item.items() if isinstance(item, dict) else enumerate(item)
            for key, child in children:
                if isinstance(key, str) and SURROGATE.search(key):
                    raise NotJSON("unpaired surrogate in \\u escape")
                stack.append((child, depth + 1))
        elif isinstance(item, str) and SURROGATE.search(item):
            raise NotJSON("unpaired surrogate in \\u escape")


def _constant(name):
    raise NotJSON(f"{name} is not JSON")


def parse(text):
    """The JSON value of `text`, numbers as Decimal, refusing what ramp's parser refuses."""
    try:
        value = json.loads(
            text, parse_float=_float, parse_int=_int, parse_constant=_constant, object_pairs_hook=_pairs
        )
    except json.JSONDecodeError as error:
        raise NotJSON(f"line {error.lineno}, column {error.colno}: {error.msg}") from None
    except RecursionError:
        raise NotJSON("nesting deeper than 256 levels") from None
    _check(value)
    return value


def is_plan(value, markdown=False):
    if not isinstance(value, dict):
        return False
    if "steps" not in value and value.get("kind") not in ("experiment", "bandit"):
        return False
    return "flag" in value if markdown else True


FENCE = re.compile(r"^\s*(`{3,}|~{3,})\s*([A-Za-z0-9_+-]*)")


def markdown_plans(path, text):
    """(name, value) for each fenced json block of a Markdown file that is a plan."""
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        match = FENCE.match(lines[i])
        if not match:
            i += 1
            continue
        fence, language = match.group(1), match.group(2).lower()
        start = i + 1
        end = start
        while end < len(lines) and not lines[end].strip().startswith(fence[0] * len(fence)):
            end += 1
        if language == "json":
            try:
                value = parse("\n".join(lines[start:end]))
            except NotJSON:
                value = None
            if is_plan(value, markdown=True):
                yield f"{path}:{start + 1}", value
        i = end + 1


def plans_in(path, errors):
    """(name, value or NotJSON) for each plan under `path`; usage problems go to `errors`."""
    if os.path.isdir(path):
        found = []
        for root, dirs, files in os.walk(path):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            for name in sorted(files):
                file = os.path.join(root, name)
                if name.endswith(".md"):
                    found += list(markdown_plans(file, read(file, errors)))
                elif name.endswith(".json") and not name.endswith(".schema.json"):
                    try:
                        value = parse(read(file, errors))
                    except NotJSON as why:
                        print(f"note: {file}: skipped, not JSON ({why})", file=sys.stderr)
                        continue
                    if is_plan(value):
                        found.append((file, value))
        if not found:
            print(f"note: {path}: no plans found", file=sys.stderr)
        return found
    if not os.path.exists(path):
        errors.append(f"{path}: no such file or folder")
        return []
    if path.endswith(".md"):
        return list(markdown_plans(path, read(path, errors)))
    if path.endswith(".json"):
        try:
            return [(path, parse(read(path, errors)))]
        except NotJSON as why:
            return [(path, why)]
    errors.append(f"{path}: not a plan (.json), Markdown (.md) file or folder")
    return []


def read(path, errors):
    try:
        with open(path, encoding="utf-8-sig") as file:
            return file.read()
    except (OSError, UnicodeDecodeError) as error:
        errors.append(f"{path}: {error}")
        return ""


def where(error):
    """The error's place in the plan, as ramp names it: `gates[0].kind`, `steps[2]`, or `(plan)`."""
    out = ""
    for part in error.absolute_path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(plan)"


def describe(error, schema):
    message = error.message
    if error.schema is False:
        message = "not allowed here"
    # Say what is wrong without repeating a whole object or array, and numbers as the plan writes them.
    shown = repr(error.instance)
    forbidden = error.validator_value if error.validator == "not" else None
    if isinstance(forbidden, dict) and list(forbidden) == ["required"]:
        message = "must not have " + " and ".join(f"'{key}'" for key in forbidden["required"])
    elif isinstance(error.instance, (dict, list)) and message.startswith(shown):
        message = message[len(shown) :].strip()
    message = re.sub(r"Decimal\('([^']*)'\)", r"\1", message)
    # A failed branch of the schema says why in its own description, when it has one.
    if isinstance(error.schema, dict) and error.schema is not schema and error.validator in (
        "required", "anyOf", "not", "oneOf", "propertyNames"
    ):
        hint = error.schema.get("description")
        if hint:
            message += f" ({hint})"
    return f"{where(error)}: {message}"


def main(argv):
    expect_invalid = False
    args = []
    for arg in argv:
        if arg == "--expect-invalid":
            expect_invalid = True
        elif arg in ("-h", "--help"):
            print(__doc__.strip())
            return 0
        elif arg.startswith("--"):
            print(f"check_plan_schema.py: unknown option {arg}\n{USAGE}", file=sys.stderr)
            return 2
        else:
            args.append(arg)
    if len(args) < 2:
        print(USAGE, file=sys.stderr)
        return 2
    try:
        import jsonschema
        from jsonschema.exceptions import best_match
    except ImportError:
        print("check_plan_schema.py: needs the PyPI package jsonschema (pip install jsonschema)", file=sys.stderr)
        return 2

    schema_path, paths = args[0], args[1:]
    try:
        with open(schema_path, encoding="utf-8") as file:
            schema = parse(file.read())
    except (OSError, UnicodeDecodeError, NotJSON) as error:
        print(f"check_plan_schema.py: {schema_path}: {error}", file=sys.stderr)
        return 2
    base = jsonschema.Draft202012Validator
    try:
        base.check_schema(schema)
    except jsonschema.exceptions.SchemaError as error:
        print(f"check_plan_schema.py: {schema_path}: not a draft 2020-12 schema: {error.message}", file=sys.stderr)
        return 2
    # JSON Schema's integer is any number with no fractional part (5.0 too), whatever the number's Python type.
    checker = base.TYPE_CHECKER.redefine(
        "integer",
        lambda checker, value: not isinstance(value, bool)
        and (isinstance(value, int) or (isinstance(value, (float, decimal.Decimal)) and value == int(value))),
    )
    validator = jsonschema.validators.extend(base, type_checker=checker)(schema, format_checker=None)

    errors = []
    plans = []
    for path in paths:
        plans += plans_in(path, errors)
    if errors:
        for error in errors:
            print(f"check_plan_schema.py: {error}", file=sys.stderr)
        return 2
    if not plans:
        print("check_plan_schema.py: no plans found", file=sys.stderr)
        return 2

    failed = 0
    for name, value in plans:
        if isinstance(value, NotJSON):
            print(f"FAIL {name}: not JSON: {value}")
            failed += 1
            continue
        try:
            error = best_match(validator.iter_errors(value))
        except decimal.DecimalException as why:
            # A number too large for exact arithmetic (1e999 % 0.01): no verdict either way.
            print(f"FAIL {name}: not checked: a number is out of range ({type(why).__name__})")
            failed += 1
            continue
        if expect_invalid:
            if error is None:
                print(f"FAIL {name}: accepted by the schema")
                failed += 1
            else:
                print(f"ok {name}: refused at {describe(error, schema)}")
        elif error is None:
            print(f"ok {name}")
        else:
            print(f"FAIL {name}: {describe(error, schema)}")
            failed += 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
