"""Shared test material for the blob decoder: the captured corpus and generated valid sessions.

``corpus()`` reads ``data/corpus/manifest.json`` (see data/README.md: which GnuTLS produced each
file and how). ``sessions()`` is a hypothesis strategy of schema trees that build into valid packed
sessions of any supported layout, with every optional part and extension payload exercised.
"""

from __future__ import annotations

import json
import os

from hypothesis import strategies as st

from gnutls_lab.formats import _gnutls_ids as ids
from gnutls_lab.formats._gnutls_ids import DUMMY_SESSION
from gnutls_lab.formats._session_blob import SecurityParameters, magic_of_gnutls_version

DATA = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "data", "corpus")


def corpus() -> list[tuple[str, dict, bytes]]:
    """(file name, manifest entry, bytes) for every corpus file, sessions and tickets."""
    with open(os.path.join(DATA, "manifest.json")) as handle:
        manifest = json.load(handle)
    items = []
    for name, entry in sorted(manifest.items()):
        with open(os.path.join(DATA, name), "rb") as handle:
            items.append((name, entry, handle.read()))
    return items


def session_corpus(dummy: bool = True) -> list[tuple[str, dict, bytes]]:
    return [c for c in corpus() if c[1]["kind"] == "session" and (dummy or c[2] != DUMMY_SESSION)]


u32 = st.integers(0, 2**32 - 1)
VERSIONS = [0x030605, 0x030608, 0x030610, 0x030701, 0x030702, 0x030709, 0x030809, 0x030A00]
#: The security parameters after the cipher suite (TLS <= 1.2 only), in the schema's order.
_SP_FIELDS = [name for name, _ in SecurityParameters.subcon.subcon.parts]
TLS12_TAIL = tuple(_SP_FIELDS[_SP_FIELDS.index("cs") + 1:])


def _blob(max_size: int, min_size: int = 0):
    return st.binary(min_size=min_size, max_size=max_size)


def _enum_value(table):
    return st.one_of(st.sampled_from(sorted(table)), u32)


@st.composite
def _dh(draw):
    return {"secret_bits": draw(u32), "prime": draw(_blob(40)), "generator": draw(_blob(2)),
            "public_key": draw(_blob(40))}


@st.composite
def _auth_body(draw, auth_type: int):
    if auth_type == 1:
        return {"dh": draw(_dh()), "raw_certificate_list": draw(st.lists(_blob(60), max_size=3)),
                "raw_ocsp_list": draw(st.lists(_blob(20), max_size=3))}
    if auth_type == 2:
        return {"dh": draw(_dh())}
    if auth_type == 3:
        return {"username": draw(_blob(16))}
    if auth_type == 4:
        return {"username": draw(_blob(16)), "hint": draw(_blob(16)), "dh": draw(_dh())}
    return draw(_blob(20, min_size=1))  # an auth type libgnutls does not pack: kept raw


@st.composite
def _extension(draw):
    gid = draw(st.sampled_from([2, 3, 6, 7, 8, 9, 13, 18, 0, 1, 4, 10, 26, 27, 99]))
    if gid in (2, 3):
        data = {"cert_types": draw(st.lists(st.integers(0, 255), max_size=4))}
    elif gid == 6:
        data = {"username": draw(_blob(12)), "password": draw(_blob(12))}
    elif gid == 7:
        data = {"sign_algorithms": draw(st.lists(_enum_value(ids.SIGN_ALGORITHMS), max_size=6))}
    elif gid == 8:
        mki = draw(st.integers(0, 2))
        data = {"profiles": draw(st.lists(_enum_value(ids.SRTP_PROFILES), max_size=3)), "mki_received": mki,
                "selected_profile": draw(_enum_value(ids.SRTP_PROFILES)) if mki else None,
                "mki": draw(_blob(8)) if mki else None}
    elif gid == 9:
        data = {"mode": draw(u32)}
    elif gid == 13:
        data = {"ticket": draw(_blob(80))}
    elif gid == 18:
        data = {"server_name": draw(_blob(20))}
    else:
        data = draw(_blob(16))
    return {"gid": gid, "data": data}


@st.composite
def sessions(draw):
    """A schema tree (lengths left to ``Rebuild``) of a valid packed session, any supported layout."""
    version = draw(st.sampled_from(VERSIONS))
    auth_type = draw(st.sampled_from([1, 2, 3, 4, 5]))
    tls13 = draw(st.booleans())
    pversion = 5 if tls13 else draw(st.sampled_from([2, 3, 4, 201, 202]))
    with_cs = not tls13 or version >= 0x030702
    body = {
        "entity": draw(st.sampled_from([1, 2])),
        "prf": draw(_enum_value(ids.MACS)),
        "client_auth_type": draw(_enum_value(ids.CREDENTIALS)),
        "server_auth_type": draw(_enum_value(ids.CREDENTIALS)),
        "session_id": draw(_blob(32)),
        "pversion": pversion,
        "client_ctype": draw(_enum_value(ids.CERTIFICATE_TYPES)),
        "server_ctype": draw(_enum_value(ids.CERTIFICATE_TYPES)),
        "cs": draw(st.one_of(st.sampled_from(sorted(ids.CIPHER_SUITES)), st.integers(0, 0xFFFF))) if with_cs else None,
    }
    if tls13:
        body.update({name: None for name in TLS12_TAIL})
    else:
        body.update(master_secret=draw(_blob(48)), client_random=draw(_blob(32)), server_random=draw(_blob(32)))
        for name in TLS12_TAIL[3:]:
            body[name] = draw(u32)
    tree = {
        "magic": magic_of_gnutls_version(version),
        "timestamp": draw(u32),
        "expire_time": draw(u32),
        "auth_type": auth_type,
        "auth_info": {"body": draw(st.one_of(st.none(), _auth_body(auth_type))) if auth_type != 5
                      else draw(_auth_body(auth_type))},
        "security_parameters": {"body": body},
        "tls13": None,
        "extensions": None,
    }
    if tls13:
        ticket = None if draw(st.booleans()) else {
            "lifetime": draw(u32), "age_add": draw(u32), "nonce": draw(_blob(8)),
            "ticket": draw(_blob(120)), "resumption_master_secret": draw(_blob(48)),
            "arrival_time": {"tv_sec_high": draw(st.one_of(st.integers(0, 3), u32)), "tv_sec_low": draw(u32),
                             "tv_nsec": draw(st.integers(0, 999_999_999))},
            "max_early_data_size": draw(u32),
        }
        tree["tls13"] = {"body": ticket}
    else:
        tree["extensions"] = {"entries": draw(st.lists(_extension(), max_size=5))}
    return tree
