#!/usr/bin/env python3
"""Verify a ramp store's audit log without ramp: an auditor's independent check.

    python3 examples/audit_verify.py STORE [--checkpoint FILE] [--json]

Implements docs/audit.md with the Python standard library only. The store is opened read-only and every text
column is read as the exact bytes SQLite holds (CAST(... AS BLOB)), so a NUL byte or bytes that are not UTF-8
cannot hide from the check. For each entry, in storage order, it rebuilds the hashed body, recomputes
SHA-256(previous hash bytes || canonical body) and checks the sequence, the links and the recorded head; with
--checkpoint it also checks that the chain passes through every published checkpoint.

Prints `ok: N entries` (exit 0) or `audit entry #K: <problem>` (exit 6). Exit 2: usage, or a checkpoint file
that cannot be read or parsed. Exit 1: the store cannot be opened or is not a ramp store. An intact entry
whose stored form differs from the documented one (say, evidence keys in the order ramp used before schema 6)
gets a warning on stderr, which does not change the exit status.
"""

import argparse
import hashlib
import json
import math
import os
import re
import sqlite3
import sys
import unicodedata
import urllib.parse

EXIT_OK, EXIT_STORE, EXIT_USAGE, EXIT_AUDIT = 0, 1, 2, 6
GENESIS = b"0" * 64
HEX_DIGITS = frozenset(b"0123456789abcdef")
TWO_53 = 2.0**53

# (column, key in the hashed body, kind) in the order ramp reads them. Kinds: "text" (NOT NULL text),
# "text?" (nullable text), "int" (NOT NULL integer), "int?" (nullable integer), "json" (canonical JSON text).
COLUMNS = [
    ("seq", "seq", "int"),
    ("at", "at", "text"),
    ("actor", "actor", "text"),
    ("rollout_id", "rollout", "int?"),
    ("flag", "flag", "text"),
    ("event", "event", "text"),
    ("from_state", "from_state", "text?"),
    ("to_state", "to_state", "text?"),
    ("from_bp", "from_bp", "int?"),
    ("to_bp", "to_bp", "int?"),
    ("reason", "reason", "text"),
    ("evidence", "evidence", "json"),
    ("plan_digest", "plan_digest", "text?"),
]
# Schema version 6: who wrote the entry at the operating-system level. In the body only when not NULL.
OPTIONAL_COLUMNS = [("os_user", "os_user", "text?"), ("host", "host", "text?")]


class Broken(Exception):
    """The first problem found, naming the entry, as `audit entry #K: problem`."""

    def __init__(self, seq, message):
        super().__init__(f"audit entry #{seq}: {message}")


class StoreProblem(Exception):
    """The store cannot be opened or read as a ramp store (exit 1)."""


class UsageProblem(Exception):
    """A bad argument or checkpoint file (exit 2)."""


# --- The canonical form (docs/audit.md, "Canonical JSON") -------------------------------------------------------


def format_number(x):
    """A number as ramp's JSONValue.format writes it: Swift's Double description, integers without a fraction."""
    if not math.isfinite(x):
        return "null"
    if x == math.floor(x) and abs(x) < TWO_53:
        return str(int(x))  # also turns -0.0 into "0"
    # repr() gives the same shortest round-trip digits as Swift; only the layout rules differ.
    text = repr(x)
    sign = "-" if text.startswith("-") else ""
    mantissa, _, exponent = text.lstrip("-").partition("e")
    whole, _, fraction = mantissa.partition(".")
    digits = whole + fraction
    point = len(whole) + (int(exponent) if exponent else 0)  # value = 0.<digits> * 10^point
    stripped = digits.lstrip("0")
    point -= len(digits) - len(stripped)
    digits = stripped.rstrip("0") or "0"
    e = point - 1  # scientific exponent: d.ddd * 10^e
    if e < -4 or abs(x) > TWO_53:
        # Swift switches to exponential form above 2^53 (Python's repr only at 1e16) and below 1e-4 (as Python).
        body = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return f"{sign}{body}e{'-' if e < 0 else '+'}{abs(e):02d}"
    if e < 0:
        return sign + "0." + "0" * (-e - 1) + digits
    if e + 1 < len(digits):
        return sign + digits[: e + 1] + "." + digits[e + 1 :]
    return sign + digits + "0" * (e + 1 - len(digits)) + ".0"


def quote(text):
    """A string as ramp's JSONValue.quote writes it: only ", \\, \\n, \\r, \\t and other controls escaped."""
    out = ['"']
    for ch in text:
        code = ord(ch)
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif code < 0x20:
            out.append("\\u%04x" % code)
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def utf8_order(key):
    return key.encode("utf-8")


def swift_string_order(key):
    """How ramp before schema 6 sorted keys: Swift String order, which compares NFC-normalized code points."""
    return [ord(c) for c in unicodedata.normalize("NFC", key)]


def canonical(value, key_order=utf8_order):
    """The canonical text of a parsed JSON value (numbers are floats, as ramp holds them)."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, float):
        return format_number(value)
    if isinstance(value, str):
        return quote(value)
    if isinstance(value, list):
        return "[" + ",".join(canonical(item, key_order) for item in value) + "]"
    if isinstance(value, dict):
        keys = sorted(value, key=key_order)  # by UTF-8 bytes
        return "{" + ",".join(quote(k) + ":" + canonical(value[k], key_order) for k in keys) + "}"
    raise TypeError(f"not a JSON value: {value!r}")


class NotJSON(ValueError):
    pass


def _no_constants(name):
    raise NotJSON(f"{name} is not JSON")


def _unique_keys(pairs):
    seen = {}
    for key, value in pairs:
        if key in seen:
            raise NotJSON(f'duplicate key "{key}"')
        seen[key] = value
    return seen


def _finite(text):
    value = float(text)
    if not math.isfinite(value):
        raise NotJSON(f"number {text} is out of range")
    return value


def parse_strict(text):
    """Parses JSON as ramp does: RFC 8259, no NaN/Infinity, no duplicate keys, every number a float."""
    try:
        value = json.loads(
            text,
            parse_float=_finite,
            parse_int=_finite,
            parse_constant=_no_constants,
            object_pairs_hook=_unique_keys,
        )
    except RecursionError as error:
        raise NotJSON("nested too deeply") from error
    except json.JSONDecodeError as error:
        raise NotJSON(str(error)) from error
    # json.loads accepts lone surrogates in \u escapes; ramp's parser refuses them.
    try:
        canonical(value).encode("utf-8")
    except UnicodeEncodeError as error:
        raise NotJSON("unpaired surrogate in a \\u escape") from error
    return value


def body_bytes(members):
    """The canonical body: members maps a key to its value's canonical UTF-8 bytes."""
    keys = sorted(members, key=lambda k: k.encode("utf-8"))
    parts = [quote(k).encode("utf-8") + b":" + members[k] for k in keys]
    return b"{" + b",".join(parts) + b"}"


def entry_hash(prev_hex, body):
    """SHA-256 over the 32 bytes of the previous hash followed by the body, as lowercase hex."""
    return hashlib.sha256(bytes.fromhex(prev_hex.decode("ascii")) + body).hexdigest().encode("ascii")


def is_hash(value):
    return isinstance(value, bytes) and len(value) == 64 and set(value) <= HEX_DIGITS


# --- Reading the store -------------------------------------------------------------------------------------------


def open_store(path):
    if not os.path.exists(path):
        raise StoreProblem(f"{path}: no store here")
    uri = "file:" + urllib.parse.quote(os.path.abspath(path)) + "?mode=ro"
    try:
        db = sqlite3.connect(uri, uri=True)
        encoding = db.execute("PRAGMA encoding").fetchone()[0]
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    except sqlite3.Error as error:
        raise StoreProblem(f"{path}: cannot open the store: {error}") from error
    if encoding != "UTF-8":
        raise StoreProblem(f"{path}: not a ramp store: text encoding is {encoding}, not UTF-8")
    missing = {"audit", "audit_head"} - tables
    if missing:
        raise StoreProblem(f"{path}: not a ramp store: no {' or '.join(sorted(missing))} table")
    return db


def audit_columns(db):
    """The columns to read: the body's, os_user and host when the store has them (schema 6), and the hashes."""
    present = {row[1] for row in db.execute("PRAGMA table_info(audit)")}
    optional = [column for column in OPTIONAL_COLUMNS if column[0] in present]
    wanted = COLUMNS + optional + [("prev_hash", None, "text"), ("hash", None, "text")]
    absent = [name for name, _, _ in wanted if name not in present]
    if absent:
        raise StoreProblem(f"not a ramp store: the audit table has no {', '.join(absent)} column")
    return wanted


def select_list(columns):
    """typeof() and the raw value of each column; text columns as their exact bytes."""
    parts = []
    for name, _, kind in columns:
        raw = name if kind.startswith("int") else f"CAST({name} AS BLOB)"
        parts.append(f"typeof({name}), {raw}")
    return ", ".join(parts)


def read_field(seq_label, name, kind, sql_type, raw):
    """The field's canonical bytes in the body, or None for NULL. Raises Broken when the stored form is not one
    ramp writes (wrong type, NULL where ramp never writes NULL, bytes that are not UTF-8)."""
    nullable = kind.endswith("?")
    if sql_type == "null":
        if nullable:
            return None
        raise Broken(seq_label, f"contents do not match its hash (altered: {name} is NULL)")
    if kind.startswith("int"):
        if sql_type != "integer":
            raise Broken(seq_label, f"contents do not match its hash (altered: {name} is {sql_type}, not an integer)")
        return format_number(float(raw)).encode("ascii")
    if sql_type != "text":
        raise Broken(seq_label, f"contents do not match its hash (altered: {name} is {sql_type}, not text)")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise Broken(seq_label, f"contents do not match its hash (altered: {name} is not valid UTF-8)") from None
    if kind == "json":
        # ramp stores the evidence as its canonical text, and that text is what the body holds. The hash is
        # taken over the stored bytes, so a byte changed anywhere (even a space) fails.
        return raw
    return quote(text).encode("utf-8")


def form_warnings(seq, at, evidence):
    """Notes on an intact entry whose stored form differs from the one docs/audit.md describes."""
    notes = []
    if len(at) != 20 or at[10:11] != b"T" or not at.endswith(b"Z"):
        notes.append(f"audit entry #{seq}: time {at.decode('utf-8')!r} is not in the form YYYY-MM-DDTHH:MM:SSZ")
    try:
        value = parse_strict(evidence.decode("utf-8"))
    except NotJSON as error:
        return notes + [f"audit entry #{seq}: evidence is not JSON ({error})"]
    if canonical(value).encode("utf-8") != evidence:
        if canonical(value, swift_string_order).encode("utf-8") == evidence:
            notes.append(
                f"audit entry #{seq}: evidence object keys are in Swift String order, not UTF-8 byte order "
                "(written by a ramp from before keys were sorted by UTF-8 bytes); the hash covers these bytes")
        else:
            notes.append(f"audit entry #{seq}: evidence is not in the canonical form of docs/audit.md")
    return notes


def verify(db, checkpoints, warnings):
    """Returns (entries verified, problem or None, head checkpoint or None); appends notes to `warnings`."""
    columns = audit_columns(db)
    integrity = "; ".join(row[0] for row in db.execute("PRAGMA integrity_check"))
    if integrity != "ok":
        return 0, f"store integrity check failed: {integrity}", None

    expected = 1
    last_hash = GENESIS
    last_at = None
    seen = {}  # seq -> (at bytes, hash bytes), for the checkpoints
    wanted = {cp["seq"] for cp in checkpoints}
    count = 0
    cursor = db.execute(f"SELECT {select_list(columns)} FROM audit ORDER BY rowid")
    try:
        for row in cursor:
            fields = {}
            for i, (name, _, kind) in enumerate(columns):
                fields[name] = (row[2 * i], row[2 * i + 1])
            seq_type, seq = fields["seq"]
            if seq_type != "integer":
                raise Broken(expected, f"has a seq of type {seq_type}")
            if seq > expected:
                raise Broken(expected, f"is missing (the log jumps from #{expected - 1} to #{seq})")
            if seq != expected:
                raise Broken(seq, f"is out of order (found after #{expected - 1})")
            prev_type, prev = fields["prev_hash"]
            if prev_type != "text" or prev != last_hash:
                raise Broken(seq, f"previous hash does not match entry #{seq - 1}'s hash")
            members = {}
            for name, key, kind in columns:
                if key is None:
                    continue
                sql_type, raw = fields[name]
                value = read_field(seq, name, kind, sql_type, raw)
                if value is not None:
                    members[key] = value
                elif (name, key, kind) not in OPTIONAL_COLUMNS:
                    members[key] = b"null"
            computed = entry_hash(prev, body_bytes(members))
            hash_type, stored = fields["hash"]
            if hash_type != "text" or stored != computed:
                raise Broken(seq, "contents do not match its hash (altered)")
            # The hash matched, so these bytes are exactly what ramp hashed: the entry is intact. Whether they are
            # also in the form docs/audit.md describes is worth a warning, not a failure.
            warnings.extend(form_warnings(seq, fields["at"][1], fields["evidence"][1]))
            at = fields["at"][1]
            if seq in wanted:
                seen[seq] = (at, computed)
            last_hash, last_at = computed, at
            expected += 1
            count += 1
    except Broken as broken:
        return count, str(broken).split("\n")[0], None

    head_row = db.execute(
        "SELECT typeof(seq), seq, typeof(hash), CAST(hash AS BLOB) FROM audit_head WHERE id = 1"
    ).fetchone()
    last_seq = expected - 1
    if head_row is not None and (head_row[0] != "integer" or head_row[2] != "text"):
        return count, f"audit entry #{max(last_seq, 1)}: the recorded head is malformed", None
    head_seq = head_row[1] if head_row else 0
    if head_seq != last_seq:
        if head_seq > last_seq:
            problem = f"is missing: the log ends at #{last_seq} but the recorded head is #{head_seq}"
        else:
            problem = f"is beyond the recorded head #{head_seq}"
        return count, f"audit entry #{max(head_seq, last_seq if last_seq else 1)}: {problem}", None
    if head_row is not None and head_row[3] != last_hash:
        return count, f"audit entry #{head_seq}: hash does not match the recorded head", None

    for cp in checkpoints:
        where = f"checkpoint {cp['source']}"
        if cp["seq"] not in seen:
            return count, (
                f"audit entry #{cp['seq']}: is missing: {where} names it but the log ends at #{last_seq}"
            ), None
        at, digest = seen[cp["seq"]]
        if digest != cp["hash"].encode("ascii"):
            return count, f"audit entry #{cp['seq']}: hash does not match {where} (the log was rewritten)", None
        if at != cp["at"].encode("utf-8"):
            return count, f"audit entry #{cp['seq']}: time does not match {where}", None

    head = None
    if last_seq:
        head = {"at": last_at.decode("utf-8"), "hash": last_hash.decode("ascii"), "seq": last_seq}
    return count, None, head


def read_checkpoints(path):
    """Lines `{"at":"…","hash":"…","seq":N}`; blank lines are skipped."""
    try:
        with open(path, "rb") as file:
            lines = file.read().split(b"\n")
    except OSError as error:
        raise UsageProblem(f"--checkpoint: cannot read {path}: {error.strerror}") from error
    checkpoints = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            value = parse_strict(line.decode("utf-8"))
        except (UnicodeDecodeError, NotJSON) as error:
            raise UsageProblem(f"{where}: not a checkpoint line: {error}") from error
        if not isinstance(value, dict) or set(value) != {"at", "hash", "seq"}:
            raise UsageProblem(f'{where}: expected {{"at":…,"hash":…,"seq":…}}')
        seq, digest, at = value["seq"], value["hash"], value["at"]
        if not (isinstance(seq, float) and seq == math.floor(seq) and 1 <= seq < TWO_53):
            raise UsageProblem(f"{where}: seq must be a whole number from 1")
        if not (isinstance(digest, str) and is_hash(digest.encode("utf-8", "replace"))):
            raise UsageProblem(f"{where}: hash must be 64 lowercase hex digits")
        if not (isinstance(at, str) and re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", at)):
            raise UsageProblem(f"{where}: at must be a time like 2026-01-01T00:00:00Z")
        checkpoints.append({"seq": int(seq), "hash": digest, "at": at, "source": where})
    if not checkpoints:
        raise UsageProblem(f"--checkpoint: {path} holds no checkpoint")
    return checkpoints


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="audit_verify.py",
        description="Independently verify a ramp store's hash-chained audit log (see docs/audit.md).",
    )
    parser.add_argument("store", metavar="STORE", help="the ramp SQLite store, opened read-only")
    parser.add_argument("--checkpoint", metavar="FILE", help="checkpoint lines the chain must pass through")
    parser.add_argument("--json", action="store_true", help='print one JSON line: entries, head, ok, problem, warnings')
    args = parser.parse_args(argv)  # exits 2 on a usage error

    warnings = []
    try:
        checkpoints = read_checkpoints(args.checkpoint) if args.checkpoint else []
        db = open_store(args.store)
        try:
            count, problem, head = verify(db, checkpoints, warnings)
        except sqlite3.Error as error:
            raise StoreProblem(f"{args.store}: {error}") from error
        except StoreProblem as error:
            raise StoreProblem(f"{args.store}: {error}") from error
        finally:
            db.close()
    except UsageProblem as error:
        print(f"audit_verify.py: {error}", file=sys.stderr)
        return EXIT_USAGE
    except StoreProblem as error:
        print(f"audit_verify.py: {error}", file=sys.stderr)
        return EXIT_STORE

    for note in warnings:
        print(f"audit_verify.py: warning: {note}", file=sys.stderr)
    if args.json:
        report = {"entries": count, "head": head, "ok": problem is None, "problem": problem, "warnings": warnings}
        print(json.dumps(report, sort_keys=True, separators=(",", ":"), ensure_ascii=False))
    elif problem:
        print(problem)
    else:
        print(f"ok: {count} entries")
    return EXIT_OK if problem is None else EXIT_AUDIT


if __name__ == "__main__":
    sys.exit(main())
