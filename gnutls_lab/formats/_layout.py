"""The vocabulary the byte schemas are written in: ``construct`` fields that know where they are.

GnuTLS packs sessions with nested, length-prefixed sections (``lib/str.h``: ``BUFFER_APPEND_NUM``,
``BUFFER_APPEND_PFX1/2/4``). Plain ``construct`` reads such a section through a sub-stream, so
offsets restart at zero inside it and a failure says little about where it happened. The fields
here read the one input in place instead, bounded by the innermost enclosing section, and:

- record ``(path, start, end, value)`` for every field when the input is a :class:`Span` with a
  ``fields`` list (the annotated view's byte ranges come from this, the same parse);
- raise :class:`~gnutls_lab.errors.BlobFormatError` naming the field path (``auth_info.dh.prime``,
  ``extensions[1].gid``) and the absolute byte offset of any defect;
- build back what they parse (lengths and counts recomputed from the content, identifier fields
  accepting a name or a number), so parse then build is byte-identical.

Paths are the schema's field names joined by dots, array items as ``name[i]``; the ``body`` of a
sized section and the ``data`` of an extension entry do not appear in them.
"""

from __future__ import annotations

import io

from construct import Construct, Container, ListContainer, Subconstruct

from ..errors import BlobFormatError

__all__ = [
    "Span",
    "field_path",
    "parse_span",
    "Int",
    "Bytes",
    "Blob",
    "ByteList",
    "Rest",
    "Count",
    "Items",
    "Block",
    "Section",
    "Entry",
    "Ended",
    "Spanned",
    "plain",
]


class Span:
    """The input of a parse: the bytes, the position, the end of the innermost section, and the recorded fields."""

    __slots__ = ("data", "pos", "end", "fields", "base")

    def __init__(self, data: bytes, fields: list | None = None, base: int = 0):
        self.data = data
        self.pos = 0
        self.end = len(data)
        self.fields = fields
        self.base = base  # added to recorded offsets (a ticket inside a blob)

    def tell(self) -> int:
        return self.pos

    def seek(self, pos: int, whence: int = 0) -> int:
        self.pos = pos if whence == 0 else (self.pos + pos if whence == 1 else len(self.data) + pos)
        return self.pos

    def read(self, size: int = -1) -> bytes:
        end = len(self.data) if size < 0 else self.pos + size
        value = self.data[self.pos : end]
        self.pos += len(value)
        return value

    def where(self) -> str:
        return "blob" if self.end == len(self.data) else "enclosing section"


_PATHS: dict[str, str] = {}


def _function(code, name: str, lines: list[str]) -> str:
    """Add a function to ``Struct.compile()``'s generated module; return the call expression."""
    fname = f"{name}_{code.allocateId()}"
    body = "\n".join("    " + line for line in lines)
    code.append(f"def {fname}(io, this):\n{body}\n")
    return f"{fname}(io, this)"


def _link(code, obj) -> str:
    """Make ``obj`` (a construct, or a function of this module) callable from the generated module."""
    code.linkedinstances[id(obj)] = obj
    return f"linkedinstances[{id(obj)}]"


def field_path(path: str) -> str:
    """``(parsing) -> auth_info -> body -> dh -> prime`` -> ``auth_info.dh.prime``."""
    dotted = _PATHS.get(path)
    if dotted is None:
        parts = [p for p in path.split(" -> ")[1:] if p not in ("body", "(data)")]
        dotted = _PATHS[path] = ".".join(parts)
    return dotted


def _short(stream: Span, path: str, need: int, at: int) -> BlobFormatError:
    left = max(stream.end - at, 0)
    return BlobFormatError(
        f"truncated: {path} needs {need} bytes but the {stream.where()} has {left} left",
        path=path,
        offset=stream.base + at,
    )


def _record(stream: Span, path: str, start: int, end: int, value) -> None:
    stream.fields.append((field_path(path), stream.base + start, stream.base + end, value))


def _int_of(value, table: dict | None, path: str) -> int:
    if isinstance(value, int):
        return int(value)
    if table is not None:
        for key, name in table.items():
            if name == value:
                return key
        raise BlobFormatError(f"{value!r} is not one of {sorted(table.values())}", path=path)
    raise BlobFormatError(f"{path} must be an integer, not {value!r}", path=path)


class Int(Construct):
    """A big-endian unsigned integer of ``size`` bytes; ``table`` (number -> name) lets it build from names."""

    def __init__(self, size: int, table: dict | None = None):
        super().__init__()
        self.size = size
        self.table = table

    def _parse(self, stream, context, path):
        p = stream.pos
        q = p + self.size
        if q > stream.end:
            raise _short(stream, field_path(path), self.size, p)
        value = int.from_bytes(stream.data[p:q], "big")
        stream.pos = q
        if stream.fields is not None:
            _record(stream, path, p, q, value)
        return value

    def _emitparse(self, code):
        return f"{_link(code, self)}._parse(io, this, '')"

    def _build(self, obj, stream, context, path):
        value = _int_of(obj, self.table, field_path(path))
        try:
            stream.write(value.to_bytes(self.size, "big"))
        except OverflowError:
            raise BlobFormatError(f"{value} does not fit in {self.size} bytes", path=field_path(path)) from None
        return value

    def _sizeof(self, context, path):
        return self.size


class Bytes(Construct):
    """``size`` raw bytes; ``size`` is a number or a function of the context (``this.x``)."""

    def __init__(self, size):
        super().__init__()
        self.size = size

    def _parse(self, stream, context, path):
        size = self.size(context) if callable(self.size) else self.size
        p = stream.pos
        if p + size > stream.end:
            raise _short(stream, field_path(path), size, p)
        value = stream.data[p : p + size]
        stream.pos = p + size
        if stream.fields is not None:
            _record(stream, path, p, p + size, value)
        return value

    def _build(self, obj, stream, context, path):
        stream.write(bytes(obj))
        return obj


class Blob(Construct):
    """Bytes after a ``width``-byte length (``BUFFER_APPEND_PFX1/2/4``); at most ``max_size`` bytes."""

    def __init__(self, width: int, max_size: int | None = None, too_long: str = "{n} bytes, more than {max}"):
        super().__init__()
        self.width = width
        self.max_size = max_size
        self.too_long = too_long

    def _read(self, stream, path):
        p = stream.pos
        start = p + self.width
        if start > stream.end:
            raise _short(stream, field_path(path) + " length", self.width, p)
        size = int.from_bytes(stream.data[p:start], "big")
        if size > stream.end - start:
            raise BlobFormatError(
                f"length {size} of {field_path(path)} exceeds the {stream.end - start} bytes left in the "
                f"{stream.where()}",
                path=field_path(path),
                offset=stream.base + p,
            )
        if self.max_size is not None and size > self.max_size:
            raise BlobFormatError(
                self.too_long.format(n=size, max=self.max_size),
                path=field_path(path),
                offset=stream.base + p,
            )
        value = stream.data[start : start + size]
        stream.pos = start + size
        if stream.fields is not None:
            _record(stream, path, p, start + size, value)
        return value, start

    def _parse(self, stream, context, path):
        return self._read(stream, path)[0]

    def _build(self, obj, stream, context, path):
        data = bytes(obj)
        if self.max_size is not None and len(data) > self.max_size:
            raise BlobFormatError(self.too_long.format(n=len(data), max=self.max_size), path=field_path(path))
        try:
            stream.write(len(data).to_bytes(self.width, "big") + data)
        except OverflowError:
            raise BlobFormatError(f"{len(data)} bytes do not fit a {self.width}-byte length", path=field_path(path)) from None
        return obj


class ByteList(Blob):
    """A :class:`Blob` read as a list of byte values (certificate types)."""

    def _parse(self, stream, context, path):
        return list(self._read(stream, path)[0])


class Rest(Construct):
    """Every byte left in the enclosing section (a payload this schema does not interpret)."""

    def _parse(self, stream, context, path):
        p = stream.pos
        value = stream.data[p : stream.end]
        stream.pos = stream.end
        if stream.fields is not None:
            _record(stream, path, p, stream.end, value)
        return value

    def _build(self, obj, stream, context, path):
        stream.write(bytes(obj))
        return obj


class Count(Construct):
    """A u32 number of items of ``items`` (a sibling list), refused when even ``item_size``-byte items could not fit."""

    def __init__(self, items: str, item_size: int):
        super().__init__()
        self.flagbuildnone = True  # rebuilt from the items
        self.items = items
        self.item_size = item_size
        self.u32 = Int(4)

    def _parse(self, stream, context, path):
        p = stream.pos
        n = self.u32._parse(stream, context, path)
        left = stream.end - stream.pos
        if n * self.item_size > left:
            raise BlobFormatError(
                f"count {n} of {field_path(path)} needs at least {n * self.item_size} bytes but the "
                f"{stream.where()} has {left} left",
                path=field_path(path),
                offset=stream.base + p,
            )
        return n

    def _build(self, obj, stream, context, path):
        n = len(context[self.items])
        stream.write(n.to_bytes(4, "big"))
        return n


class Items(Subconstruct):
    """``count`` (a function of the context) items, each at path ``name[i]``; ``flat`` drops ``name``."""

    def __init__(self, count, subcon, flat: bool = False):
        super().__init__(subcon)
        self.count = count
        self.flat = flat

    def _item_path(self, path: str, i: int) -> str:
        if self.flat:
            path = path.rsplit(" -> ", 1)[0]
        return f"{path}[{i}]"

    def _parse(self, stream, context, path):
        n = self.count(context)
        sub = self.subcon
        return [sub._parsereport(stream, context, self._item_path(path, i)) for i in range(n)]

    def _emitparse(self, code):
        return f"[{self.subcon._compileparse(code)} for i in range({self.count!r})]"

    def _build(self, obj, stream, context, path):
        for i, item in enumerate(obj):
            self.subcon._build(item, stream, context, self._item_path(path, i))
        return obj


class Block(Subconstruct):
    """``subcon`` of a fixed ``size``, checked whole before its parts and recorded as one field too."""

    def __init__(self, size: int, subcon):
        super().__init__(subcon)
        self.size = size

    def _parse(self, stream, context, path):
        p = stream.pos
        if p + self.size > stream.end:
            raise _short(stream, field_path(path), self.size, p)
        if stream.fields is not None:
            _record(stream, path, p, p + self.size, None)
        return self.subcon._parsereport(stream, context, path)

    def _emitparse(self, code):
        return _function(code, "parse_block", [
            f"if io.pos + {self.size} > io.end:",
            "    raise BlobFormatError('truncated', path=None, offset=io.pos)",
            f"return {self.subcon._compileparse(code)}",
        ])


def _close(stream: Span, end: int, outer_end: int, path: str) -> None:
    pos = stream.pos
    if pos != end:
        raise BlobFormatError(
            f"{end - pos} unused bytes at the end of {field_path(path)}: its fields end at byte "
            f"{stream.base + pos} but its length field says {stream.base + end}",
            path=field_path(path),
            offset=stream.base + pos,
        )
    stream.end = outer_end


def _open(stream: Span, context, path: str, length_path: str, width: int = 4) -> tuple[int, int]:
    """Read a ``width``-byte length, check it fits; return (length, end of the section)."""
    p = stream.pos
    length = (_U32 if width == 4 else Int(width))._parse(stream, context, length_path)
    left = stream.end - stream.pos
    if length > left:
        raise BlobFormatError(
            f"length {length} of {field_path(path)} exceeds the {left} bytes left in the {stream.where()}",
            path=field_path(path),
            offset=stream.base + p,
        )
    return length, stream.pos + length


_U32 = Int(4)


def _built(subcon, obj, context, path) -> bytes:
    stream = io.BytesIO()
    subcon._build(obj, stream, context, path)
    return stream.getvalue()


class Section(Subconstruct):
    """``u32 length`` then a body filling exactly that many bytes: ``{"length", "body"}``.

    ``optional``: length 0 means no body (``None``). ``width``: bytes of the length (4, or 2 for a
    ``u16``-prefixed part); ``bare``: the result is the body itself. Building recomputes the length.
    """

    def __init__(self, subcon, optional: bool = True, width: int = 4, bare: bool = False):
        super().__init__(subcon)
        self.optional = optional
        self.width = width
        self.bare = bare

    def _parse(self, stream, context, path):
        length, end = _open(stream, context, path, path + " -> length", self.width)
        if length == 0 and self.optional:
            return None if self.bare else Container(length=0, body=None)
        outer = stream.end
        stream.end = end
        body = self.subcon._parsereport(stream, context, path + " -> body")
        _close(stream, end, outer, path)
        return body if self.bare else Container(length=length, body=body)

    def _emitparse(self, code):
        code.append("from gnutls_lab.errors import BlobFormatError\n")
        return _function(code, "parse_section", [
            f"length, end = {_link(code, _open)}(io, this, '', '', {self.width})",
            f"if length == 0 and {self.optional}:",
            f"    return {'None' if self.bare else 'Container(length=0, body=None)'}",
            "outer = io.end",
            "io.end = end",
            f"body = {self.subcon._compileparse(code)}",
            f"{_link(code, _close)}(io, end, outer, '')",
            f"return {'body' if self.bare else 'Container(length=length, body=body)'}",
        ])

    def _build(self, obj, stream, context, path):
        body = obj if self.bare else obj.get("body")
        built = None
        if body is None:
            data = b""
        else:
            inner = io.BytesIO()
            built = self.subcon._build(body, inner, context, path + " -> body")
            data = inner.getvalue()
        try:
            stream.write(len(data).to_bytes(self.width, "big") + data)
        except OverflowError:
            raise BlobFormatError(f"{len(data)} bytes do not fit a {self.width}-byte length", path=field_path(path)) from None
        return built if self.bare else Container(length=len(data), body=built)


class Entry(Construct):
    """``u32 tag; u32 length; payload`` where ``payloads[tag]`` reads the payload: ``{"tag", "length", "data"}``."""

    def __init__(self, tag: str, tag_table: dict, payloads: dict, default):
        super().__init__()
        self.tag = tag
        self.tag_con = Int(4, tag_table)
        self.payloads = payloads
        self.default = default

    def _parse(self, stream, context, path):
        tag = self.tag_con._parse(stream, context, path + " -> " + self.tag)
        length, end = _open(stream, context, path, path + " -> length")
        outer = stream.end
        stream.end = end
        data = self.payloads.get(tag, self.default)._parsereport(stream, context, path)
        _close(stream, end, outer, path)
        return Container([(self.tag, tag), ("length", length), ("data", data)])

    def _emitparse(self, code):
        table = ", ".join(
            f"{tag}: (lambda io, this: {sub._compileparse(code)})" for tag, sub in self.payloads.items()
        )
        default = f"(lambda io, this: {self.default._compileparse(code)})"
        code.append(f"payloads_{id(self)} = {{{table}}}\n")
        return _function(code, "parse_entry", [
            f"tag = {_link(code, self.tag_con)}._parse(io, this, '')",
            f"length, end = {_link(code, _open)}(io, this, '', '')",
            "outer = io.end",
            "io.end = end",
            f"data = payloads_{id(self)}.get(tag, {default})(io, this)",
            f"{_link(code, _close)}(io, end, outer, '')",
            f"return Container([({self.tag!r}, tag), ('length', length), ('data', data)])",
        ])

    def _build(self, obj, stream, context, path):
        tag = _int_of(obj[self.tag], self.tag_con.table, field_path(path + " -> " + self.tag))
        data = _built(self.payloads.get(tag, self.default), obj["data"], context, path)
        stream.write(tag.to_bytes(4, "big") + len(data).to_bytes(4, "big") + data)
        return obj


class Ended(Subconstruct):
    """``subcon``, and nothing after it in the enclosing section (``message`` and ``path`` name the excess)."""

    def __init__(self, subcon, message: str, path: str):
        super().__init__(subcon)
        self.message = message
        self.where = path

    def _parse(self, stream, context, path):
        obj = self.subcon._parsereport(stream, context, path)
        self.check(stream)
        return obj

    def _emitparse(self, code):
        me = _link(code, self)
        return _function(code, "parse_ended", [
            f"obj = {self.subcon._compileparse(code)}",
            f"{me}.check(io)",
            "return obj",
        ])

    def check(self, stream):
        pos = stream.pos
        if pos != stream.end:
            raise BlobFormatError(self.message.format(n=stream.end - pos), path=self.where, offset=stream.base + pos)


class Spanned(Subconstruct):
    """Lets a schema parse plain bytes (``Schema.parse(data)``) by wrapping them in a :class:`Span`."""

    def _parse(self, stream, context, path):
        if isinstance(stream, Span):
            return self.subcon._parsereport(stream, context, path)
        start = stream.tell()
        span = Span(stream.read())
        try:
            return self.subcon._parsereport(span, context, path)
        finally:
            stream.seek(start + span.pos)

    def _emitparse(self, code):
        return self.subcon._compileparse(code)


def parse_span(schema, data: bytes, fields: list | None = None, base: int = 0):
    """Parse ``data`` with ``schema`` (a :class:`Span` is created); returns the plain tree."""
    return plain(schema.parse_stream(Span(data, fields, base)))


def plain(value):
    """A parse result as plain Python: dicts without construct's ``_`` keys, lists, ints, bytes."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if key[0] != "_":
                out[key] = plain(item) if type(item) in _NESTED else item
        return out
    if isinstance(value, list):
        return [plain(item) if type(item) in _NESTED else item for item in value]
    return value


_NESTED = {Container, ListContainer, dict, list}
