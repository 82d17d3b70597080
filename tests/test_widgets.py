"""Widgets driven without a browser: set their values like a user would, read what they show.

Every connection here is a real in-process handshake with libgnutls; nothing is mocked.
"""

from __future__ import annotations

import html as html_lib
import re

import matplotlib
import pytest

matplotlib.use("Agg")

from gnutls_lab import Lab  # noqa: E402
from gnutls_lab.errors import UsageError  # noqa: E402
from gnutls_lab.faces import blob_inspector, sequence_diagram  # noqa: E402
from gnutls_lab.faces._stepper import framed, handshake_stepper, message_fields, split_records  # noqa: E402
from gnutls_lab.faces._views import hex_dump_html  # noqa: E402
from gnutls_lab.formats import record_spans as record_fields  # noqa: E402


def _text(html_text: str) -> str:
    return re.sub(r"<[^>]+>", "", html_text)


@pytest.fixture(scope="module")
def tls13():
    lab = Lab("1.3")
    first = lab.connect()
    first.session_data  # read the tickets: they join the transcript
    again = lab.connect(resume=first.session_data)
    yield first, again
    first.close()
    again.close()


@pytest.fixture(scope="module")
def tls12():
    lab = Lab("1.2")
    conn = lab.connect()
    yield conn
    conn.close()


def test_stepper_walks_every_tls13_message_with_sender_type_and_named_header(tls13):
    conn, _ = tls13
    stepper = handshake_stepper(conn)
    assert stepper.position.max == len(conn.transcript) - 1
    for index, message in enumerate(conn.transcript):
        stepper.position.value = index
        text = _text(stepper.detail.value)
        assert f"Message {index + 1} of {len(conn.transcript)}" in text
        assert f"{message.sender} → " in text
        assert message.name in text and f"(type {message.type})" in text
        assert "tls.handshake.type" in text and "tls.handshake.length" in text
        # the hex dump starts with the real header bytes: type, then the u24 body length
        header = f"{message.type:02x} " + " ".join(f"{b:02x}" for b in len(message.body).to_bytes(3, "big"))
        assert header in text
    names = [m.name for m in conn.transcript]
    assert names[0] == "CLIENT HELLO" and names.count("NEW SESSION TICKET") == 2


def test_stepper_buttons_move_and_stop_at_the_ends(tls13):
    conn, _ = tls13
    stepper = handshake_stepper(conn)
    stepper.previous.click()
    assert stepper.position.value == 0
    stepper.next.click()
    stepper.next.click()
    assert stepper.position.value == 2
    assert conn.transcript[2].name in stepper.detail.value
    for _ in range(50):
        stepper.next.click()
    assert stepper.position.value == len(conn.transcript) - 1


def test_stepper_tells_clear_from_encrypted_as_the_observer_would(tls13):
    conn, _ = tls13
    stepper = handshake_stepper(conn)
    seen = []
    for index in range(len(conn.transcript)):
        stepper.position.value = index
        seen.append("in clear" in _text(stepper.detail.value))
    # TLS 1.3: only ClientHello and ServerHello cross in clear
    assert seen == [True, True] + [False] * (len(conn.transcript) - 2)


def test_stepper_tls12_new_session_ticket_is_in_clear_and_split_into_fields(tls12):
    stepper = handshake_stepper(tls12)
    index = next(i for i, m in enumerate(tls12.transcript) if m.name == "NEW SESSION TICKET")
    stepper.position.value = index
    text = _text(stepper.detail.value)
    assert "in clear" in text
    assert "tls.handshake.session_ticket_lifetime_hint" in text and "tls.handshake.session_ticket" in text
    finished = [i for i, m in enumerate(tls12.transcript) if m.name == "FINISHED"]
    stepper.position.value = finished[0]
    assert "encrypted" in _text(stepper.detail.value)


def test_stepper_wire_view_names_record_header_fields(tls13):
    conn, _ = tls13
    stepper = handshake_stepper(conn)
    stepper.source.value = "wire"
    records = split_records(conn.wire)
    assert stepper.position.max == len(records) - 1
    assert b"".join(r for _, r in records) == b"".join(c.data for c in conn.wire)
    kinds = []
    for index, (sender, record) in enumerate(records):
        stepper.position.value = index
        text = _text(stepper.detail.value)
        assert f"Record {index + 1} of {len(records)}" in text and f"{sender} → " in text
        assert "tls.record.content_type" in text and f"{len(record)} bytes on the wire" in text
        kinds.append(record[0])
    assert kinds[0] == 22 and 23 in kinds  # a handshake first, application_data later
    stepper.source.value = "transcript"
    assert stepper.position.value == 0 and stepper.position.max == len(conn.transcript) - 1


def test_stepper_shows_the_library_verdict_and_the_observer_view(tls13):
    first, again = tls13
    assert "full handshake" in _text(handshake_stepper(first).verdict.value)
    verdict = _text(handshake_stepper(again).verdict.value)
    assert again.resumed and "resumed" in verdict
    assert "psk.identity.selected" in verdict  # what the passive observer reads from the ServerHello


def test_message_fields_cover_every_byte_once(tls13, tls12):
    for conn in (tls13[0], tls12):
        for message in conn.transcript:
            spans = message_fields(message, conn.protocol)
            assert spans[0][1] == 0 and spans[-1][2] == len(framed(message)), message
            for (_, _, end), (_, start, _) in zip(spans, spans[1:]):
                assert end == start, (message, spans)
    hello = message_fields(tls13[0].transcript[0], "TLS1.3")
    assert any(name.startswith("extension supported_versions") for name, _, _ in hello)
    assert ("tls.handshake.random", 6, 38) in hello


def test_record_fields_and_hex_dump_mask():
    record = bytes([23, 3, 3, 0, 2, 0xAB, 0xCD])
    assert [n for n, _, _ in record_fields(record)][:3] == [
        "tls.record.content_type", "tls.record.version", "tls.record.length"]
    page = hex_dump_html(record, record_fields(record), highlight=(0, 1), masked=[(5, 7)])
    assert "ab" not in _text(page) and "··" in page and "17" in page


def test_inspector_selecting_a_field_highlights_exactly_its_bytes(tls13):
    conn, _ = tls13
    inspector = blob_inspector(conn.session_data)
    inspector.select("tls13.lifetime")
    start, end = inspector.session.ranges["tls13.lifetime"]
    marked = re.findall(r"font-weight:bold'[^>]*>([0-9a-f·]{2})<", inspector.hexdump.value)
    assert marked == [f"{b:02x}" for b in conn.session_data.data[start:end]]
    assert "21600" in _text(inspector.detail.value)
    with pytest.raises(UsageError):
        inspector.select("no.such.field")


@pytest.mark.parametrize("version,secret", [("1.3", "tls13.resumption_master_secret"),
                                             ("1.2", "security_parameters.master_secret")])
def test_inspector_redacts_until_revealed(version, secret):
    with Lab(version).connect() as conn:
        data = conn.session_data
        inspector = blob_inspector(data)
        value = inspector.session.fields[[f.path for f in inspector.session.fields].index(secret)].value
        assert len(value) == 48
        secret_hex = value.hex(" ")
        everything = lambda: inspector.hexdump.value + inspector.detail.value + inspector.report.value + str(  # noqa: E731
            inspector.field_list.options)
        inspector.select(secret)
        assert value.hex() not in everything().replace(" ", "").replace("\n", "")
        assert "redacted" in _text(inspector.detail.value)
        assert _text(inspector.hexdump.value).count("··") == 48
        inspector.reveal.value = True
        assert inspector.field_list.value == secret  # the selection survives the toggle
        assert secret_hex in _text(inspector.detail.value)
        assert "··" not in inspector.hexdump.value
        assert value.hex().upper() in inspector.report.value
        inspector.reveal.value = False
        assert secret_hex not in _text(inspector.detail.value)


def test_inspector_accepts_bytes_decoded_and_the_dummy(tls13):
    from gnutls_lab.analysis._decode import decode

    conn, _ = tls13
    by_bytes = blob_inspector(bytes(conn.session_data))
    by_decoded = blob_inspector(decode(conn.session_data, annotate=False))
    assert by_bytes.field_list.options == by_decoded.field_list.options
    dummy = blob_inspector(b"\x00\x00\x00\x00")
    assert "Dummy session data" in dummy.summary.value
    assert [value for _, value in dummy.field_list.options] == ["dummy"]


def test_sequence_diagram_draws_one_arrow_per_message(tls13, tls12):
    for conn in (tls13[0], tls12):
        figure = sequence_diagram(conn)
        ax = figure.axes[0]
        arrows = [t for t in ax.texts if isinstance(t, matplotlib.text.Annotation) and t.arrow_patch is not None]
        labels = [t.get_text() for t in ax.texts]
        assert len(arrows) == len(conn.transcript)
        for message in conn.transcript:
            assert f"{message.name} ({len(message.body)} B)" in labels
        assert "in clear" in ax.get_title()
    title = sequence_diagram(tls13[0]).axes[0].get_title()
    assert title.startswith("TLS1.3 full handshake: 2 of")


def test_stepper_refuses_a_connection_recorded_without_observation():
    with Lab("1.3", observe=False).connect() as conn:
        with pytest.raises(UsageError, match="observe=True"):
            handshake_stepper(conn)


WIDGET_MODULES = ("_stepper", "_blob_inspector", "_explorer", "_tamper_lab", "_tamper_policy", "_sequence_diagram",
                  "_widget_parts")


def test_widget_modules_are_one_per_widget_and_imported_by_no_layer_below():
    import pathlib

    faces = pathlib.Path(__file__).resolve().parent.parent / "gnutls_lab" / "faces"
    assert not (faces / "_widgets.py").exists()
    for name in WIDGET_MODULES:
        assert (faces / f"{name}.py").exists(), name
    ours = re.compile(r"\b(" + "|".join(WIDGET_MODULES) + r")\b|\bipywidgets\b")
    assert ours.search("from ..faces._stepper import handshake_stepper") and ours.search("import ipywidgets")
    for module in faces.parent.rglob("*.py"):
        if module.parent != faces:  # the faces layer itself (its face imports them on first use)
            assert not ours.search(module.read_text()), f"{module} imports a widget module"
    # each widget module holds one widget: at most a few hundred lines
    for name in WIDGET_MODULES:
        assert len((faces / f"{name}.py").read_text().splitlines()) <= 300, name


def test_explorer_reruns_the_experiment_when_a_control_changes():
    from gnutls_lab.analysis._experiments import ExperimentConfig
    from gnutls_lab.faces import experiment_explorer

    explorer = experiment_explorer(ExperimentConfig(visits=12, gap=60.0))
    first = explorer.result
    assert first.config.visits == 12 and first.config.max_reuse == 1
    assert first.summary()["ticket_linkable_pair_fraction"] == 0  # single-use tickets link nothing
    assert "TLS 1.3" in explorer.figure.axes[0].get_title()
    explorer.max_reuse.value = "unlimited"
    reused = explorer.result
    assert reused is not first and reused.config.max_reuse is None
    assert reused.summary()["ticket_linkable_pair_fraction"] > 0.5  # one ticket reused links the visits
    explorer.visits.value = 6
    assert len(explorer.result.records()) == 6
    s = explorer.result.summary()
    # the summary states the run it shows, each value read from that run
    assert re.match(r"<p[^>]*>(.*?)</p>", explorer.summary.value).group(1) == (
        f"6 visits, {s['mechanism']}, compat mode {'on' if s['compat_mode'] else 'off'}, lifetime {s['lifetime']} s")
    assert f"<td>{s['resumed']}/{s['attempts']} ({s['success_rate']:.0%})</td>" in explorer.summary.value
    assert s["visits"] == 6 and s["attempts"] == 5


def test_explorer_sweep_views_and_mechanism():
    from gnutls_lab.analysis._experiments import ExperimentConfig
    from gnutls_lab.faces import experiment_explorer

    explorer = experiment_explorer(ExperimentConfig(visits=8), reuse_values=(1, None))
    explorer.view.value = "sweep"
    assert explorer.result.values == [1, None]
    # the sweep figure's title is the one plot_sweep writes for this very result
    import matplotlib.pyplot as plt

    from gnutls_lab.faces import plot_sweep

    again = plot_sweep(explorer.result)
    expected = [t.get_text() for t in again.texts]
    plt.close(again)
    assert [t.get_text() for t in explorer.figure.texts] == expected != []
    explorer.mechanism.value = "tls12-session-id"
    assert {r.config.mechanism for r in explorer.result.results} == {"tls12-session-id"}
    explorer.view.value = "tracking"
    assert "follows" in explorer.figure.axes[0].get_title()
    explorer.view.value = "run"
    explorer.rotate_every.value = 600.0
    assert explorer.config().rotate_every == 600.0 and explorer.result.config.rotate_every == 600.0


def test_explorer_image_is_the_figure_savefig_would_write():
    """The explorer's one-draw PNG (render_png) has the pixels, size and dpi savefig writes for the same plot of
    the same result, in each view. (A figure saved a second time is laid out a second time, and constrained
    layout may move an axes by a fraction of a pixel: the comparison is with a new figure, as the explorer's.)"""
    import io

    import numpy as np
    from PIL import Image

    from gnutls_lab.analysis._experiments import ExperimentConfig
    from gnutls_lab.faces import experiment_explorer, plot_sweep, plot_timeline, plot_tracking

    explorer = experiment_explorer(ExperimentConfig(visits=6), reuse_values=(1, None))
    for view, plot in (("sweep", plot_sweep), ("tracking", plot_tracking), ("run", plot_timeline)):
        explorer.view.value = view
        shown = Image.open(io.BytesIO(explorer.image.value))
        figure, saved = plot(explorer.result), io.BytesIO()
        figure.savefig(saved, format="png")
        expected = Image.open(saved)
        assert shown.format == "PNG" and shown.size == expected.size, view
        assert shown.size == tuple(round(inches * figure.dpi) for inches in figure.get_size_inches()), view
        assert np.array_equal(np.asarray(shown), np.asarray(expected)), view


def test_explorer_keeps_a_config_value_that_is_not_a_preset():
    from gnutls_lab.analysis._experiments import ExperimentConfig
    from gnutls_lab.faces import experiment_explorer

    explorer = experiment_explorer(ExperimentConfig(visits=4, lifetime=1234, gap=90.0, rotate_every=777.0))
    assert explorer.config().lifetime == 1234 and explorer.config().gap == 90.0
    assert explorer.result.config.rotate_every == 777.0


def test_hex_dump_window_shows_only_the_rows_of_a_range():
    data = bytes(range(256))
    rows = _text(hex_dump_html(data, window=(40, 50))).splitlines()
    assert [r.split()[0] for r in rows] == ["000020", "000030"]
    long = _text(hex_dump_html(data, window=(0, 256))).splitlines()
    assert len(long) == 6 and long[4].strip() == "…" and long[-1].startswith("0000f0")
    assert "max-height:100px" in hex_dump_html(data, max_height="100px")


def test_inspector_detail_shows_the_selected_fields_own_rows(tls13):
    conn, _ = tls13
    inspector = blob_inspector(conn.session_data)
    inspector.select("tls13.nonce")
    start, end = inspector.session.ranges["tls13.nonce"]
    marked = re.findall(r"font-weight:bold'[^>]*>([0-9a-f]{2})<", inspector.detail.value)
    assert marked == [f"{b:02x}" for b in conn.session_data.data[start:end]]
    assert len(_text(inspector.detail.value).splitlines()) <= 8  # the field's rows, not the whole blob


def test_explorer_switches_compat_mode_and_keeps_its_summary_compact():
    from gnutls_lab.analysis._experiments import ExperimentConfig
    from gnutls_lab.faces import experiment_explorer

    explorer = experiment_explorer(ExperimentConfig(visits=6, max_reuse=1, gap=60.0))
    assert explorer.result.summary()["linkable_pair_fraction"] == 1.0  # the legacy_session_id links all
    assert "into 1 group" in explorer.figure.axes[0].get_title()
    explorer.compat_mode.value = False
    assert explorer.result.config.compat_mode is False
    assert explorer.result.summary()["linkable_pair_fraction"] == 0.0
    assert "links none" in explorer.figure.axes[0].get_title()
    assert explorer.summary.value.count("<tr>") == 2  # a header and one row, no pages of tables
    explorer.view.value = "sweep"
    assert explorer.summary.value.count("<tr>") == 1 + len(explorer.reuse_values)
    assert all(control.style.description_width == "7em" for control in (explorer.mechanism, explorer.rotate_every))


def test_tamper_lab_says_who_refused_each_change():
    from gnutls_lab import Lab
    from gnutls_lab.faces import tamper_lab

    lab = Lab("1.3")
    tamper = tamper_lab(lab)
    tamper.field.value = "lifetime"
    assert tamper.value.value == "21600"  # the field's current value, ready to edit
    tamper.value.value = "1"
    tamper.rebuild.click()  # what a participant does
    assert tamper.outcome == "resumed"  # the client's copy: the server does not read it
    tamper.field.value = "tls13.ticket.mac"
    tamper.value.value = "0"
    assert tamper.try_it() == "full handshake"  # the server cannot authenticate the ticket
    tamper.field.value = "tls13.resumption_master_secret"
    assert tamper.try_it() == "handshake failed"  # the binder is wrong: the server aborts
    tamper.field.value = "gnutls_version"
    tamper.value.value = "3.6.16"
    assert tamper.try_it() == "refused by libgnutls" and "GNUTLS_E_DB_ERROR" in tamper.detail
    tamper.field.value = "truncate"
    tamper.value.value = "100"
    assert tamper.try_it() == "refused by gnutls-lab" and len(tamper.blob) == 100
    tamper.field.value = "expire_time"
    tamper.value.value = "soon"
    assert tamper.try_it() == "cannot build" and tamper.blob is None
    assert [outcome for _, _, outcome in tamper.history] == [
        "resumed", "full handshake", "handshake failed", "refused by libgnutls", "refused by gnutls-lab",
        "cannot build"]
    assert "refused by gnutls-lab" in _text(tamper.attempts.value)
    tamper.field.value = "security_parameters.pversion"
    assert tamper.value.value == "5"  # GNUTLS_TLS1_3, the number itself
    tamper.value.value = "4"  # TLS 1.2 over a blob laid out for TLS 1.3
    assert tamper.try_it() == "refused by gnutls-lab"
    changed = [i for i, (a, b) in enumerate(zip(tamper.blob, tamper.original.data)) if a != b]
    assert changed == [tamper.original.ranges["security_parameters.pversion"][1] - 1]  # its low byte only
    tamper.value.value = str(2**32)
    assert tamper.try_it() == "cannot build" and "does not fit in its 4 bytes" in tamper.detail
    tls12 = tamper_lab(Lab("1.2"))
    assert "lifetime" not in [key for _, key in tls12.field.options]  # a TLS 1.3 field only
    tls12.field.value = "security_parameters.pversion"
    assert tls12.value.value == "4"


def test_stepper_legend_matches_the_dump_and_says_why_each_hello_field_is_there(tls13):
    from gnutls_lab.faces._stepper import FIELD_PURPOSES, field_purpose, handshake_stepper, message_fields

    first, again = tls13
    stepper = handshake_stepper(again)  # a resumption: its ClientHello has pre_shared_key too
    stepper.position.value = 0  # the ClientHello
    detail = stepper.detail.value
    names = [name for name, _, _ in message_fields(again.transcript[0], again.protocol)]
    assert "extension pre_shared_key (41)" in names
    assert all(field_purpose(name) for name in names), [n for n in names if not field_purpose(n)]
    assert "why it is there" in detail and html_lib.escape(FIELD_PURPOSES["tls.handshake.random"]) in detail
    swatches = re.findall(r"<td style='background:(#[0-9a-f]{6});width:1em'>", detail)
    in_dump = re.findall(r"class='gl-byte' style='background:(#[0-9a-f]{6})'", detail)
    assert len(swatches) == len(names) and set(in_dump) <= set(swatches)
    assert field_purpose("extension key_share (51)") == FIELD_PURPOSES["extension key_share"]


def test_tamper_verdicts_say_who_did_what_from_the_wire():
    """The client's copy of the lifetime, set to 1 s: resumed at once; two seconds later the client itself
    drops the ticket (no pre_shared_key in its ClientHello), which is not the server refusing it. A flipped
    MAC bit: the client offers the ticket and the server does not take it."""
    import time

    from gnutls_lab import Lab
    from gnutls_lab.faces import tamper_lab

    tamper = tamper_lab(Lab("1.3"))
    tamper.field.value = "lifetime"
    tamper.value.value = "1"
    assert tamper.try_it() == "resumed"
    assert "the client offered the ticket (pre_shared_key in its ClientHello)" in tamper.detail
    assert "the server took it" in tamper.detail
    time.sleep(2.1)  # the client's copy says the ticket expired
    assert tamper.try_it() == "not offered by the client"
    assert "the client did not offer the ticket (no pre_shared_key in its ClientHello)" in tamper.detail
    assert "its copy of the lifetime is 1 s" in tamper.detail and "server" not in tamper.detail
    assert "not offered by the client" in _text(tamper.verdict.value)
    tamper.field.value = "tls13.ticket.mac"
    tamper.value.value = "0"
    assert tamper.try_it() == "full handshake"
    assert "the client offered the ticket" in tamper.detail and "the server did not take it" in tamper.detail
    tamper.field.value = "tls13.resumption_master_secret"
    assert tamper.try_it() == "handshake failed" and tamper.detail.startswith("the server ended the handshake")


def test_tamper_outcome_reads_tls12_offers_from_the_wire():
    from gnutls_lab import Lab
    from gnutls_lab.faces import tamper_outcome

    lab = Lab("1.2")
    data = bytes(lab.connect().session_data)
    outcome, detail = tamper_outcome(lab, data)
    assert outcome == "resumed" and "the client offered its ticket or session ID" in detail
    assert "the server resumed" in detail
    outcome, detail = tamper_outcome(Lab("1.2", observe=False), data)  # another server: cannot read the ticket
    assert outcome == "full handshake"
    assert "the client offered its ticket or session ID" in detail and "the server did not resume" in detail


def test_tamper_lab_shows_a_known_crash_refusal_and_its_reason():
    """GnuTLS 3.8.11 (CVE-2026-1584) is not a version the suite runs on: the function that decides is given
    the version; the widget on the loaded library (3.7.9, 3.8.9, 3.8.13) shows no refusal and tries it."""
    from gnutls_lab import Lab, library_info
    from gnutls_lab.faces import tamper_lab
    from gnutls_lab.faces._tamper_lab import refusal_html
    from gnutls_lab.faces._tamper_policy import refusal

    field = "tls13.resumption_master_secret"
    reason = refusal(field, (3, 8, 11))
    assert reason.startswith("not tried on GnuTLS 3.8.11: ") and "CVE-2026-1584" in reason
    note = _text(refusal_html(reason))
    assert note.startswith("refused by gnutls-lab: not tried on GnuTLS 3.8.11") and "fixed in 3.8.12" in note
    assert refusal(field, (3, 8, 11), psk_credentials=True) is None
    assert refusal(field, (3, 8, 12)) is None and refusal("lifetime", (3, 8, 11)) is None and refusal_html(None) == ""

    tamper = tamper_lab(Lab("1.3"))
    tamper.field.value = field
    assert refusal(field, library_info().version_tuple) is None
    assert tamper.refused() is None and "gl-refusal" not in tamper.about.value
    assert tamper.try_it() == "handshake failed"  # tried, on this library: the server refuses the binder


def test_one_byte_range_notation_in_stepper_inspector_and_html_view(tls13):
    """``[start:end]``, Python's half-open slice (faces._views.byte_range), in every place a range is shown."""
    from gnutls_lab.faces import html_view
    from gnutls_lab.faces._views import byte_range

    conn, _ = tls13
    digits_range = re.compile(r"\b\d+\s*(?:–|&ndash;|-)\s*\d+\b")
    stepper = handshake_stepper(conn)
    step = _text(stepper.detail.value)
    spans = message_fields(conn.transcript[0], conn.protocol)
    assert all(byte_range(start, end) in step for _, start, end in spans)
    stepper.source.value = "wire"
    assert "[0:1]" in _text(stepper.detail.value) and "[3:5]" in _text(stepper.detail.value)
    inspector = blob_inspector(conn.session_data)
    inspector.select("tls13.nonce")
    start, end = inspector.session.ranges["tls13.nonce"]
    assert f"bytes [{start}:{end}] (" in _text(inspector.detail.value)
    assert [label for label, path in inspector.field_list.options if path == "tls13.nonce"][0].startswith(
        f"[{start}:{end}] tls13.nonce")
    page = html_view(inspector.session)
    assert f"<td>[{start}:{end}]</td>" in page
    for shown in (step, _text(inspector.detail.value), str(inspector.field_list.options), page):
        assert not digits_range.search(re.sub(r"\b(?:19|20)\d\d-\d\d-\d\d", "", shown)), digits_range.search(shown)


def test_explorer_labels_fit_and_compat_mode_is_for_tls13_only():
    from gnutls_lab.analysis import ExperimentConfig
    from gnutls_lab.faces import experiment_explorer

    explorer = experiment_explorer(ExperimentConfig(visits=4, gap=60.0))
    assert explorer.view.style.button_width == "auto"  # "this run: who is linked" was cut at 12em
    assert explorer.result.config.mechanism == "tls13-psk" and not explorer.compat_mode.disabled
    png = bytes(explorer.image.value)
    assert png.startswith(b"\x89PNG") and explorer.image.format == "png"
    explorer.mechanism.value = "tls12-ticket"
    assert explorer.compat_mode.disabled and "compat mode n/a" in explorer.summary.value
    assert bytes(explorer.image.value) != png  # redrawn for the new run
    explorer.mechanism.value = "tls13-psk"
    assert not explorer.compat_mode.disabled and "compat mode on" in explorer.summary.value


def test_inspector_dump_starts_at_the_selected_bytes(tls13):
    conn, _ = tls13
    inspector = blob_inspector(conn.session_data)
    inspector.select("tls13.ticket.mac")
    start, end = inspector.session.ranges["tls13.ticket.mac"]
    page = inspector.hexdump.value
    above, shown = page.split("</details>", 1)
    first_row = (start // 16 - 1) * 16  # one row of context above the selection
    assert _text(shown).startswith(f"{first_row:06x}")
    assert f"bytes [0:{first_row}]" in _text(above) and f"{first_row - 16:06x}" in _text(above)  # folded, not lost
    assert len(re.findall(r"font-weight:bold'[^>]*>", shown)) == end - start  # the selection is in view
    inspector.select(inspector.leaves[0].path)  # the first field: nothing to fold
    assert "<details" not in inspector.hexdump.value
