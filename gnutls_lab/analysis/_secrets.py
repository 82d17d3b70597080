"""Secret bytes that never show themselves: ``repr``/``str`` say "redacted" unless asked.

Decoded sessions and decrypted tickets hold the master secret (TLS <= 1.2), the resumption master
secret (TLS 1.3) and the SRP password as :class:`Secret`. It *is* ``bytes`` (equal to the raw
value, usable in every computation, ``.hex()`` gives it on purpose), but printing it, or any tree,
tuple or list holding it, shows ``Secret(redacted, 48 bytes)``. Views take ``show_secrets=True``.
"""

from __future__ import annotations

__all__ = ["Secret", "reveal"]


class Secret(bytes):
    """Bytes whose ``repr``/``str`` are redacted."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"Secret(redacted, {len(self)} bytes)"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return repr(self)

    def __reduce__(self):  # pickles and copies stay secrets
        return (Secret, (bytes(self),))

    def __deepcopy__(self, memo):
        return self

    def __copy__(self):
        return self


def reveal(value):
    """The plain bytes behind a :class:`Secret` (other values unchanged)."""
    return bytes(value) if isinstance(value, Secret) else value
