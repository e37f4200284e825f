"""A streaming reader for large, untrusted JSON reports.

The skeleton of the document (the root object, the `runs` or `results` arrays) is walked here,
one token at a time; each element of interest (one SARIF result, one Bandit issue) is decoded
whole by the standard library's C decoder. Memory stays bounded by the largest single element,
not the report, and hostile input fails with a `ParseError`:

- invalid UTF-8, NaN/Infinity, numbers too large to convert, non-finite floats;
- nesting deeper than `max_depth` in the skeleton, or than Python's recursion limit in an element
  (the decoder raises RecursionError, which becomes a ParseError);
- one element larger than `max_value_chars`; text after the root value; an empty document.

ijson was measured and not used for untrusted input: its C backend crashes the process on an
integer of more than 4,300 digits and needs memory quadratic in the nesting depth (23 GB for
200,000 nested arrays), so one uploaded file could take a worker down.
"""

from __future__ import annotations

import codecs
import json
import math
import re
from collections.abc import Iterator
from typing import IO, Any

from apps.tools.plugins.base import ParseError

CHUNK_CHARS = 1 << 20
#: The largest single decoded element (a result, a rule list, a tool object).
MAX_VALUE_CHARS = 64 * 1024 * 1024
MAX_DEPTH = 64
_WS = re.compile(r"[ \t\n\r]*")
#: The separator between two array elements, with the whitespace around it.
_COMMA = re.compile(r"[ \t\n\r]*,[ \t\n\r]*")


def _reject_constant(name: str) -> Any:
    raise ParseError(f"{name} is not valid JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ParseError(f"the number {text[:40]} is out of range")
    return value


_DECODER = json.JSONDecoder(parse_constant=_reject_constant, parse_float=_finite_float)


class JsonReader:
    """Pull reader: `iter_object()` / `iter_array()` walk containers, `read_value()` decodes one
    value whole, `skip_value()` passes over one (streaming through big containers)."""

    def __init__(
        self,
        stream: IO[bytes],
        *,
        max_value_chars: int = MAX_VALUE_CHARS,
        max_depth: int = MAX_DEPTH,
        max_bytes: int | None = None,
    ):
        self._stream = stream
        self._decoder = codecs.getincrementaldecoder("utf-8")("strict")
        self._buf = ""
        self._pos = 0
        self._eof = False
        self._offset = 0  # characters dropped from the front of the buffer
        self._bytes = 0
        self._max_bytes = max_bytes
        self._started = False
        self.max_value_chars = max_value_chars
        self.max_depth = max_depth
        self._depth = 0

    # --- input --------------------------------------------------------------------------------
    def _fill(self, want: int = CHUNK_CHARS) -> bool:
        """Read at least `want` more characters (fewer at the end); False at end of input."""
        if self._eof:
            return False
        parts = []
        got = 0
        while got < want:
            raw = self._stream.read(max(want - got, 65536))
            if not raw:
                try:
                    tail = self._decoder.decode(b"", final=True)
                except UnicodeDecodeError as exc:
                    raise ParseError(f"the report is not valid UTF-8: {exc.reason}") from None
                parts.append(tail)
                self._eof = True
                break
            self._bytes += len(raw)
            if self._max_bytes is not None and self._bytes > self._max_bytes:
                raise ParseError(f"the report is larger than {self._max_bytes} bytes")
            try:
                text = self._decoder.decode(raw)
            except UnicodeDecodeError as exc:
                where = self._bytes - len(raw) + exc.start
                raise ParseError(
                    f"the report is not valid UTF-8 (byte {where}: {exc.reason})"
                ) from None
            parts.append(text)
            got += len(text)
        if not self._started:
            self._started = True
            if parts and parts[0].startswith("\ufeff"):
                parts[0] = parts[0][1:]
        self._offset += self._pos
        self._buf = self._buf[self._pos :] + "".join(parts)
        self._pos = 0
        return True

    def _peek(self) -> str:
        """The next non-whitespace character ('' at the end), without consuming it."""
        while True:
            self._pos = _WS.match(self._buf, self._pos).end()
            if self._pos < len(self._buf):
                return self._buf[self._pos]
            if not self._fill():
                return ""

    def _error(self, message: str) -> ParseError:
        return ParseError(f"{message} (at character {self._offset + self._pos})")

    def _expect(self, char: str, what: str) -> None:
        found = self._peek()
        if found != char:
            raise self._error(f"expected {what}, found {_show(found)}")
        self._pos += 1

    # --- values -------------------------------------------------------------------------------
    def kind(self) -> str:
        """The kind of the next value: object, array, string, number, literal or end."""
        char = self._peek()
        if char == "{":
            return "object"
        if char == "[":
            return "array"
        if char == '"':
            return "string"
        if char in "-0123456789":
            return "number"
        if char in "tfn":
            return "literal"
        if char == "":
            return "end"
        raise self._error(f"unexpected {_show(char)}")

    def read_value(self) -> Any:
        """Decode the next value whole (one finding, one rule list...)."""
        self._peek()
        return self._decode()

    def _decode(self) -> Any:
        """Decode the value that starts at the current position (after any whitespace)."""
        while True:
            end = None
            try:
                value, end = _DECODER.raw_decode(self._buf, self._pos)
            except json.JSONDecodeError as exc:
                if self._eof or not _cut_short(exc, self._buf):
                    raise ParseError(
                        f"the report is not valid JSON: {exc.msg} (at character "
                        f"{self._offset + exc.pos})"
                    ) from None
            except RecursionError:
                raise self._error("the JSON is nested too deeply") from None
            except ValueError as exc:  # an integer too long to convert, a rejected constant
                if isinstance(exc, ParseError):
                    raise
                raise self._error(f"unreadable JSON value: {exc}") from None
            # A value that touches the end of the buffer may continue in the next chunk.
            if end is not None and (end < len(self._buf) or self._eof):
                if end - self._pos > self.max_value_chars:
                    raise self._too_large()
                self._pos = end
                return value
            self._grow()

    def _grow(self) -> None:
        """Read more of a value that the end of the buffer cut short."""
        pending = len(self._buf) - self._pos
        if pending > self.max_value_chars:
            raise self._too_large()
        # Doubling keeps re-decoding linear; past half the limit, one chunk at a time, so the
        # buffer never holds much more than the limit.
        self._fill(max(CHUNK_CHARS, min(pending, self.max_value_chars - pending)))

    def _too_large(self) -> ParseError:
        return self._error(f"a single JSON value is larger than {self.max_value_chars} characters")

    def iter_object(self) -> Iterator[str]:
        """Yield each key of the next object; the caller reads or skips its value (a value
        left unread is skipped)."""
        self._expect("{", "an object")
        self._enter()
        first = True
        while True:
            char = self._peek()
            if char == "}":
                self._pos += 1
                break
            if not first:
                if char != ",":
                    raise self._error(f"expected ',' or '}}', found {_show(char)}")
                self._pos += 1
                char = self._peek()
            if char != '"':
                raise self._error(f"expected a key, found {_show(char)}")
            key = self.read_value()
            self._expect(":", "':'")
            self._peek()  # the mark is where the value starts, after any whitespace
            mark = (self._offset + self._pos, self._depth)
            yield key
            self._skip_unread(mark)
            first = False
        self._depth -= 1

    def iter_array(self) -> Iterator[int]:
        """Yield the index of each element of the next array; the caller reads or skips it."""
        self._expect("[", "an array")
        self._enter()
        index = 0
        while True:
            char = self._peek()
            if char == "]":
                self._pos += 1
                break
            if index:
                if char != ",":
                    raise self._error(f"expected ',' or ']', found {_show(char)}")
                self._pos += 1
                self._peek()
            mark = (self._offset + self._pos, self._depth)
            yield index
            self._skip_unread(mark)
            index += 1
        self._depth -= 1

    def iter_values(self) -> Iterator[Any]:
        """Decode each element of the next array in turn: `iter_array()` with `read_value()` on
        every element (the same values and errors), at less cost per element.

        An element after a separator is decoded by one call of the C scanner; one that the end
        of the buffer cuts short goes on with more input, as `read_value()` would; anything else
        (the first element, the end of the array, an error) takes the general path, which
        decodes it again from scratch and fails the same way."""
        self._expect("[", "an array")
        self._enter()
        scan = _DECODER.scan_once
        comma = _COMMA.match
        first = True
        while True:
            if not first:
                buf = self._buf
                match = comma(buf, self._pos)
                if match is not None:
                    start = match.end()
                    try:
                        value, end = scan(buf, start)
                    except json.JSONDecodeError as exc:
                        if not self._eof and _cut_short(exc, buf):
                            self._pos = start
                            self._grow()
                            yield self._decode()
                            continue
                        end = 0
                    except Exception:  # the general path below fails the same way
                        end = 0
                    if start < end < len(buf) and end - start <= self.max_value_chars:
                        self._pos = end
                        yield value
                        continue
            char = self._peek()
            if char == "]":
                self._pos += 1
                break
            if not first:
                if char != ",":
                    raise self._error(f"expected ',' or ']', found {_show(char)}")
                self._pos += 1
                self._peek()
            first = False
            yield self._decode()
        self._depth -= 1

    def skip_value(self) -> None:
        """Pass over the next value; containers are walked, never held whole."""
        kind = self.kind()
        if kind == "object":
            for _ in self.iter_object():
                self.skip_value()
        elif kind == "array":
            for _ in self.iter_array():
                self.skip_value()
        elif kind == "end":
            raise self._error("the report ends in the middle of a value")
        else:
            self.read_value()

    def finish(self) -> None:
        """Nothing but whitespace may follow the root value."""
        if self._peek() != "":
            raise self._error("unexpected data after the end of the JSON document")

    def _enter(self) -> None:
        self._depth += 1
        if self._depth > self.max_depth:
            raise self._error(f"the JSON is nested more than {self.max_depth} levels deep")

    def _skip_unread(self, mark: tuple[int, int]) -> None:
        if (self._offset + self._pos, self._depth) == mark:
            self.skip_value()


def _cut_short(exc: json.JSONDecodeError, buf: str) -> bool:
    """The decoder failed at the end of the buffer: more input may complete the value."""
    return exc.msg.startswith("Unterminated string") or exc.pos >= len(buf) - 16


def _show(char: str) -> str:
    return "the end of the report" if char == "" else repr(char)
