"""The vocabulary the byte schemas are written in: ``construct`` fields that know where they are.

GnuTLS packs sessions with nested, length-prefixed sections (``lib/str.h``: ``BUFFER_APPEND_NUM``,
``BUFFER_APPEND_PFX1/2/4``). Plain ``construct`` reads such a section through a sub-stream, so
offsets restart at zero inside it and a failure says little about where it happened. The fields
here read the one input in place instead, bounded by the innermost enclosing section, and:

- record ``(path, start, end, value)`` for every field when the input is a :class:`Span` with a
  ``fields`` list (the annotated view's byte ranges come from this, the same parse);
- raise :class:`~gnutls_lab.errors.BlobFormatError` naming the field path (``auth_info.dh.prime``,
  ``extensions[1].gid``) and the absolute byte offset of any defect, from the parse that met it;
- build back what they parse (lengths and counts recomputed from the content, identifier fields
  accepting a name or a number), so parse then build is byte-identical.

Every class here is a ``construct`` class written the way construct documents for its users
("Extending Construct": subclass ``Construct`` or ``Subconstruct``, implement ``_parse``, ``_build``
and ``_sizeof``, call ``self.subcon._parse``). Nothing reaches into construct's compiler or other
internals, so no construct release is pinned (the tests pass with 2.10.57, 2.10.70 and construct's
development head). :class:`Fields`,
:class:`When` and :class:`Choice` take the place of construct's ``Struct``, ``If`` and ``Switch``:
they read the same (``"name" / field``, ``this.x`` expressions or functions of the context) but keep
one plain ``dict`` per record and pass dotted field paths down, which makes the interpreted parse
fast enough that no compiled copy of the schema is needed (``benchmarks/bench_decode.py``).

Paths are the schema's field names joined by dots, array items as ``name[i]``; the ``body`` of a
sized section and the ``data`` of an extension entry do not appear in them. Parse results are plain
``dict`` and ``list`` trees (``this.x`` expressions read them by key).
"""

from __future__ import annotations

import io

from construct import Construct, Renamed, SizeofError, Subconstruct

from ..errors import BlobFormatError

__all__ = [
    "Span",
    "parse_span",
    "Int",
    "Bytes",
    "Blob",
    "ByteList",
    "Rest",
    "Count",
    "Items",
    "Block",
    "Fields",
    "When",
    "Choice",
    "Section",
    "Entry",
    "Ended",
    "Spanned",
]


class Span:
    """The input of a parse: the bytes, the position, the end of the innermost section, and the recorded fields.

    ``base`` is added to recorded offsets (a ticket inside a blob); ``root`` is the path of the
    whole input (``""``, or ``"ticket"`` when a ticket is read on its own).
    """

    __slots__ = ("data", "pos", "end", "fields", "base", "root")

    def __init__(self, data: bytes, fields: list | None = None, base: int = 0, root: str = ""):
        self.data = data
        self.pos = 0
        self.end = len(data)
        self.fields = fields
        self.base = base
        self.root = root

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


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _root(path: str, stream=None) -> str:
    """construct calls the outermost field with ``(parsing)``, ``(building)`` or ``(sizeof)``."""
    if path[:1] == "(":
        return getattr(stream, "root", "")
    return path


def _part(subcon) -> tuple[str | None, Construct]:
    """``"name" / field`` -> ``("name", field)``; an unnamed field -> ``(None, field)``."""
    if isinstance(subcon, Renamed):
        return subcon.name, subcon.subcon
    return None, subcon


def _short(stream: Span, path: str, need: int, at: int) -> BlobFormatError:
    left = max(stream.end - at, 0)
    return BlobFormatError(
        f"truncated: {path} needs {need} bytes but the {stream.where()} has {left} left",
        path=path,
        offset=stream.base + at,
    )


def _int_of(value, table: dict | None, path: str) -> int:
    if isinstance(value, int):
        return int(value)
    if table is not None:
        for key, name in table.items():
            if name == value:
                return key
        raise BlobFormatError(f"{path}: {value!r} is not one of {sorted(table.values())}", path=path)
    raise BlobFormatError(f"{path} must be an integer, not {value!r}", path=path)


def _bytes_of(value, path: str) -> bytes:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    raise BlobFormatError(f"{path} must be bytes, not {type(value).__name__}", path=path)


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
            raise _short(stream, path, self.size, p)
        value = int.from_bytes(stream.data[p:q], "big")
        stream.pos = q
        if stream.fields is not None:
            stream.fields.append((path, stream.base + p, stream.base + q, value))
        return value

    def _build(self, obj, stream, context, path):
        value = _int_of(obj, self.table, path)
        try:
            stream.write(value.to_bytes(self.size, "big"))
        except OverflowError:
            raise BlobFormatError(f"{path}: {value} does not fit in {self.size} bytes", path=path) from None
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
            raise _short(stream, path, size, p)
        value = stream.data[p : p + size]
        stream.pos = p + size
        if stream.fields is not None:
            stream.fields.append((path, stream.base + p, stream.base + p + size, value))
        return value

    def _build(self, obj, stream, context, path):
        data = _bytes_of(obj, path)
        size = self.size(context) if callable(self.size) else self.size
        if len(data) != size:
            raise BlobFormatError(f"{path} must be {size} bytes, not {len(data)}", path=path)
        stream.write(data)
        return obj

    def _sizeof(self, context, path):
        if callable(self.size):
            raise SizeofError(f"{path}: the size depends on the context", path=path)
        return self.size


class Blob(Construct):
    """Bytes after a ``width``-byte length (``BUFFER_APPEND_PFX1/2/4``); at most ``max_size`` bytes."""

    def __init__(self, width: int, max_size: int | None = None, too_long: str = "{n} bytes, more than {max}"):
        super().__init__()
        self.width = width
        self.max_size = max_size
        self.too_long = too_long

    def _parse(self, stream, context, path):
        p = stream.pos
        start = p + self.width
        if start > stream.end:
            raise BlobFormatError(
                f"truncated: the {self.width}-byte length of {path} needs {self.width} bytes but the "
                f"{stream.where()} has {max(stream.end - p, 0)} left",
                path=path,
                offset=stream.base + p,
            )
        size = int.from_bytes(stream.data[p:start], "big")
        if size > stream.end - start:
            raise BlobFormatError(
                f"length {size} of {path} exceeds the {stream.end - start} bytes left in the {stream.where()}",
                path=path,
                offset=stream.base + p,
            )
        if self.max_size is not None and size > self.max_size:
            raise BlobFormatError(self.too_long.format(n=size, max=self.max_size), path=path, offset=stream.base + p)
        value = stream.data[start : start + size]
        stream.pos = start + size
        if stream.fields is not None:
            stream.fields.append((path, stream.base + p, stream.base + start + size, value))
        return value

    def _build(self, obj, stream, context, path):
        data = self._payload(obj, path)
        if self.max_size is not None and len(data) > self.max_size:
            raise BlobFormatError(self.too_long.format(n=len(data), max=self.max_size), path=path)
        try:
            stream.write(len(data).to_bytes(self.width, "big") + data)
        except OverflowError:
            raise BlobFormatError(f"{path}: {len(data)} bytes do not fit a {self.width}-byte length", path=path) from None
        return obj

    def _payload(self, obj, path: str) -> bytes:
        return _bytes_of(obj, path)


class ByteList(Blob):
    """A :class:`Blob` read as a list of byte values (certificate types)."""

    def _parse(self, stream, context, path):
        return list(super()._parse(stream, context, path))

    def _payload(self, obj, path: str) -> bytes:
        try:
            return bytes(obj)
        except (TypeError, ValueError):
            raise BlobFormatError(f"{path} must be a list of byte values, not {obj!r}", path=path) from None


class Rest(Construct):
    """Every byte left in the enclosing section (a payload this schema does not interpret).

    ``leave``: stop that many bytes before the end, for a trailer of fixed size after a payload of
    no stated length (a MAC after a ciphertext: ``"encrypted_state" / Rest(leave=32), "mac" / Bytes(32)``).
    """

    def __init__(self, leave: int = 0):
        super().__init__()
        self.leave = leave

    def _parse(self, stream, context, path):
        p = stream.pos
        end = stream.end - self.leave
        if end < p:
            raise _short(stream, path, self.leave, p)
        value = stream.data[p:end]
        stream.pos = end
        if stream.fields is not None:
            stream.fields.append((path, stream.base + p, stream.base + end, value))
        return value

    def _build(self, obj, stream, context, path):
        stream.write(_bytes_of(obj, path))
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
                f"count {n} of {path} needs at least {n * self.item_size} bytes but the {stream.where()} has "
                f"{left} left",
                path=path,
                offset=stream.base + p,
            )
        return n

    def _build(self, obj, stream, context, path):
        items = context.get(self.items)
        if not isinstance(items, (list, tuple)):
            raise BlobFormatError(f"{path} counts {self.items}, which must be a list, not {items!r}", path=path)
        stream.write(len(items).to_bytes(4, "big"))
        return len(items)


class Items(Subconstruct):
    """``count`` (a function of the context) items, each at path ``name[i]``; ``flat`` drops ``name``."""

    def __init__(self, count, subcon, flat: bool = False):
        super().__init__(subcon)
        self.count = count
        self.flat = flat

    def _base(self, path: str) -> str:
        return path.rpartition(".")[0] if self.flat else path

    def _parse(self, stream, context, path):
        n = self.count(context) if callable(self.count) else self.count
        sub = self.subcon
        base = self._base(path)
        return [sub._parse(stream, context, f"{base}[{i}]") for i in range(n)]

    def _build(self, obj, stream, context, path):
        if not isinstance(obj, (list, tuple)):
            raise BlobFormatError(f"{path} must be a list, not {type(obj).__name__}", path=path)
        base = self._base(path)
        return [self.subcon._build(item, stream, context, f"{base}[{i}]") for i, item in enumerate(obj)]

    def _sizeof(self, context, path):
        raise SizeofError(f"{path}: a counted list has no fixed size", path=path)


class Block(Subconstruct):
    """``subcon`` of a fixed ``size``, checked whole before its parts and recorded as one field too."""

    def __init__(self, size: int, subcon):
        super().__init__(subcon)
        self.size = size

    def _parse(self, stream, context, path):
        p = stream.pos
        if p + self.size > stream.end:
            raise _short(stream, path, self.size, p)
        if stream.fields is not None:
            stream.fields.append((path, stream.base + p, stream.base + p + self.size, None))
        return self.subcon._parse(stream, context, path)

    def _sizeof(self, context, path):
        return self.size


class Fields(Construct):
    """Named fields in order, parsed into a ``dict``: this layout's ``Struct``.

    ``Fields("a" / Int(4), "b" / Bytes(this.a))``: each field sees the ones before it (and ``_``,
    the enclosing record) as its context, and is reported at ``path.name``. Building fills the context
    with the given values first, so a count or length can be rebuilt from a later field; a missing
    value is built from ``None`` (absent parts, rebuilt counts).
    """

    def __init__(self, *subcons):
        super().__init__()
        self.subcons = list(subcons)
        self.parts = []
        for subcon in subcons:
            name, inner = _part(subcon)
            if not name:
                raise ValueError(f"every part of Fields needs a name ('name' / field), not {subcon!r}")
            self.parts.append((name, inner))
        self.flagbuildnone = all(inner.flagbuildnone for _, inner in self.parts)

    def _parse(self, stream, context, path):
        obj = {"_": context}
        if path:
            prefix = path + "."
            for name, sub in self.parts:
                obj[name] = sub._parse(stream, obj, prefix + name)
        else:
            for name, sub in self.parts:
                obj[name] = sub._parse(stream, obj, name)
        del obj["_"]
        return obj

    def _build(self, obj, stream, context, path):
        if obj is None:
            obj = {}
        elif not isinstance(obj, dict):
            raise BlobFormatError(f"{path or 'the record'} must be a dict, not {type(obj).__name__}", path=path)
        out = dict(obj)
        out["_"] = context
        for name, sub in self.parts:
            out[name] = sub._build(obj.get(name), stream, out, _join(path, name))
        del out["_"]
        return out

    def _sizeof(self, context, path):
        return sum(sub._sizeof(context, _join(path, name)) for name, sub in self.parts)


class When(Subconstruct):
    """``subcon`` where ``condition`` (a ``this`` expression or a function of the context) holds, else ``None``.

    This layout's ``If``: it builds nothing when the condition is false.
    """

    def __init__(self, condition, subcon):
        super().__init__(subcon)
        self.condition = condition
        self.flagbuildnone = True

    def _parse(self, stream, context, path):
        if self.condition(context):
            return self.subcon._parse(stream, context, path)
        return None

    def _build(self, obj, stream, context, path):
        if self.condition(context):
            return self.subcon._build(obj, stream, context, path)
        return None

    def _sizeof(self, context, path):
        raise SizeofError(f"{path}: an optional part has no fixed size", path=path)


class Choice(Construct):
    """The field ``cases[key]`` (``key`` a ``this`` expression), else ``default``: this layout's ``Switch``.

    A named default (``"data" / Rest()``) is reported at ``path.data``.
    """

    def __init__(self, key, cases: dict, default):
        super().__init__()
        self.key = key
        self.cases = {value: _part(subcon) for value, subcon in cases.items()}
        self.default = _part(default)

    def _pick(self, context, path):
        name, sub = self.cases.get(self.key(context), self.default)
        return sub, (_join(path, name) if name else path)

    def _parse(self, stream, context, path):
        sub, path = self._pick(context, path)
        return sub._parse(stream, context, path)

    def _build(self, obj, stream, context, path):
        sub, path = self._pick(context, path)
        return sub._build(obj, stream, context, path)


def _close(stream: Span, end: int, outer_end: int, path: str) -> None:
    pos = stream.pos
    if pos != end:
        raise BlobFormatError(
            f"{end - pos} unused bytes at the end of {path}: its fields end at byte {stream.base + pos} but "
            f"its length field says {stream.base + end}",
            path=path,
            offset=stream.base + pos,
        )
    stream.end = outer_end


def _open(stream: Span, path: str, width: int) -> tuple[int, int]:
    """Read a ``width``-byte length of the section at ``path`` (recorded as ``path.length``); return (length, end)."""
    p = stream.pos
    q = p + width
    if q > stream.end:
        raise _short(stream, path + ".length", width, p)
    length = int.from_bytes(stream.data[p:q], "big")
    stream.pos = q
    if stream.fields is not None:
        stream.fields.append((path + ".length", stream.base + p, stream.base + q, length))
    left = stream.end - q
    if length > left:
        raise BlobFormatError(
            f"length {length} of {path} exceeds the {left} bytes left in the {stream.where()}",
            path=path,
            offset=stream.base + p,
        )
    return length, q + length


def _built(subcon, obj, context, path) -> bytes:
    stream = io.BytesIO()
    subcon._build(obj, stream, context, path)
    return stream.getvalue()


def _prefixed(data: bytes, width: int, path: str) -> bytes:
    try:
        return len(data).to_bytes(width, "big") + data
    except OverflowError:
        raise BlobFormatError(f"{path}: {len(data)} bytes do not fit a {width}-byte length", path=path) from None


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
        self.flagbuildnone = False

    def _parse(self, stream, context, path):
        length, end = _open(stream, path, self.width)
        if length == 0 and self.optional:
            return None if self.bare else {"length": 0, "body": None}
        outer = stream.end
        stream.end = end
        body = self.subcon._parse(stream, context, path)
        _close(stream, end, outer, path)
        return body if self.bare else {"length": length, "body": body}

    def _build(self, obj, stream, context, path):
        if self.bare:
            body = obj
        elif isinstance(obj, dict):
            body = obj.get("body")
        else:
            raise BlobFormatError(f"{path or 'the section'} must be a dict with a body, not {obj!r}", path=path)
        built = None
        if body is None and self.optional:
            data = b""
        else:
            inner = io.BytesIO()
            built = self.subcon._build(body, inner, context, path)
            data = inner.getvalue()
        stream.write(_prefixed(data, self.width, path))
        return built if self.bare else {"length": len(data), "body": built}


class Entry(Construct):
    """``u32 tag; u32 length; payload`` where ``payloads[tag]`` reads the payload: ``{"tag", "length", "data"}``."""

    def __init__(self, tag: str, tag_table: dict, payloads: dict, default):
        super().__init__()
        self.tag = tag
        self.tag_con = Int(4, tag_table)
        self.payloads = {value: _part(subcon) for value, subcon in payloads.items()}
        self.default = _part(default)

    def _payload(self, tag, path):
        name, sub = self.payloads.get(tag, self.default)
        return sub, (_join(path, name) if name else path)

    def _parse(self, stream, context, path):
        tag = self.tag_con._parse(stream, context, _join(path, self.tag))
        length, end = _open(stream, path, 4)
        outer = stream.end
        stream.end = end
        sub, data_path = self._payload(tag, path)
        data = sub._parse(stream, context, data_path)
        _close(stream, end, outer, path)
        return {self.tag: tag, "length": length, "data": data}

    def _build(self, obj, stream, context, path):
        if not isinstance(obj, dict):
            raise BlobFormatError(f"{path} must be a dict with {self.tag} and data, not {obj!r}", path=path)
        tag = _int_of(obj.get(self.tag), self.tag_con.table, _join(path, self.tag))
        sub, data_path = self._payload(tag, path)
        data = _built(sub, obj.get("data"), context, data_path)
        stream.write(tag.to_bytes(4, "big") + _prefixed(data, 4, path))
        return {self.tag: tag, "length": len(data), "data": obj.get("data")}


class Ended(Subconstruct):
    """``subcon``, and nothing after it in the enclosing section.

    ``message`` (with ``{n}``, the excess) explains the refusal; ``where`` names its path (``None``:
    the path of this field itself).
    """

    def __init__(self, subcon, message: str, where: str | None = None):
        super().__init__(subcon)
        self.message = message
        self.where = where

    def _parse(self, stream, context, path):
        obj = self.subcon._parse(stream, context, path)
        pos = stream.pos
        if pos != stream.end:
            where = path if self.where is None else _join(path, self.where)
            raise BlobFormatError(self.message.format(n=stream.end - pos), path=where, offset=stream.base + pos)
        return obj


class Spanned(Subconstruct):
    """A schema's outer field: parses plain bytes (``Schema.parse(data)``) by wrapping them in a :class:`Span`,
    and starts the field paths at the input's ``root`` (``""``) rather than construct's ``(parsing)``."""

    def _parse(self, stream, context, path):
        path = _root(path, stream)
        if isinstance(stream, Span):
            return self.subcon._parse(stream, context, path)
        start = stream.tell()
        span = Span(stream.read())
        try:
            return self.subcon._parse(span, context, path)
        finally:
            stream.seek(start + span.pos)

    def _build(self, obj, stream, context, path):
        return self.subcon._build(obj, stream, context, _root(path))

    def _sizeof(self, context, path):
        return self.subcon._sizeof(context, _root(path))


def parse_span(schema, data: bytes, fields: list | None = None, base: int = 0, root: str = ""):
    """Parse ``data`` with ``schema``; ``fields`` (a list) receives every field's ``(path, start, end, value)``.

    Offsets are shifted by ``base`` and paths start at ``root`` (a ticket read inside a blob).
    Returns the plain tree (dicts, lists, ints, bytes).
    """
    return schema.parse_stream(Span(data, fields, base, root))
