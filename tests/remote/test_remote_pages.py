"""The phone remote's pages over HTTP with a fake daemon: Now, Schedule written back with its comments,
My sessions with located problems, the journal (search, entry, delete, export) and the mood chart."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

pytest.importorskip("starlette")

from tests.remote_helpers import CONFIG, make_remote, seed_journal
from voiceguide.daemon.config_read import load_config
from voiceguide.remote import chart
from voiceguide.remote.catalog import check_and_save
from voiceguide.remote.routes_journal import by_day
from voiceguide.script import library


@pytest.fixture
def remote(tmp_path: Path):  # type: ignore[no-untyped-def]
    r = make_remote(tmp_path)
    r.pair()
    yield r
    r.ctx.close()


def test_now_shows_what_plays_and_sends_ctl_requests(remote) -> None:  # type: ignore[no-untyped-def]
    assert "Nothing is playing" in remote.client.get("/").text
    reply = remote.post("/now/start", {"session": "box", "minutes": "5"})
    assert reply.status_code == 303
    assert remote.daemon.sent[-1] == {"command": "start", "session": "box", "minutes": 5.0}
    page = remote.client.get("/").text
    assert "step 2 of 5" in page and "0.8 min left" in page
    for action in ("pause", "skip", "slower", "stop"):
        remote.post(f"/now/{action}")
        assert remote.daemon.sent[-1] == {"command": action}
    remote.post("/now/reboot")
    assert remote.daemon.sent[-1]["command"] != "reboot", "only the known controls reach the daemon"


def test_now_names_the_playing_session_by_its_title(remote) -> None:  # type: ignore[no-untyped-def]
    remote.post("/now/start", {"session": "demo"})
    page = remote.client.get("/").text
    assert '<p class="session" id="np-session">A one-minute pause</p>' in page, page
    status = remote.client.get("/api/status").json()
    assert status["session"] == "demo" and status["title"] == "A one-minute pause"


def test_now_lists_sessions_by_language_and_kind(remote) -> None:  # type: ignore[no-untyped-def]
    page = remote.client.get("/").text
    assert 'label="en · breathing"' in page and 'label="nl · breathing"' in page
    assert 'value="box"' in page and 'value="nl-box"' in page


def test_add_a_schedule_entry_keeps_the_comments(remote) -> None:  # type: ignore[no-untyped-def]
    reply = remote.post("/schedule/add", {"session": "box", "at": "07:15", "days": "weekdays", "minutes": "",
                                          "ramp": "on"})
    assert reply.status_code == 303, reply.text
    text = remote.config.read_text()
    assert text.startswith(CONFIG), "everything that was there stays as it was, comments too"
    assert "# the speaker on the USB card" in text and "# sleep, every night" in text
    entries = load_config(remote.config).schedule
    assert [(e.session, e.at.isoformat(timespec="minutes")) for e in entries] == [("bedtime", "22:30"),
                                                                                 ("box", "07:15")]
    assert entries[1].days == frozenset(range(5))
    assert remote.daemon.sent[-1] == {"command": "reload"}
    assert "The daemon uses it now" in remote.client.get(reply.headers["location"]).text


def test_change_and_remove_a_schedule_entry_and_quiet_hours(remote) -> None:  # type: ignore[no-untyped-def]
    remote.post("/schedule/1", {"session": "bedtime", "at": "23:00", "days": "daily", "minutes": "20"})
    entry = load_config(remote.config).schedule[0]
    assert entry.at.hour == 23 and entry.minutes == 20 and entry.ramp is False
    remote.post("/schedule/quiet", {"start": "23:30", "end": "06:30"})
    quiet = load_config(remote.config).quiet_hours
    assert quiet is not None and (quiet.start.hour, quiet.end.hour) == (23, 6)
    remote.post("/schedule/1/remove")
    remote.post("/schedule/quiet", {"off": "1"})
    config = load_config(remote.config)
    assert config.schedule == () and config.quiet_hours is None
    assert "# my bedside speaker" in remote.config.read_text()


def test_a_change_the_daemon_would_refuse_is_not_written(remote) -> None:  # type: ignore[no-untyped-def]
    before = remote.config.read_text()
    reply = remote.post("/schedule/add", {"session": "no-such-session", "at": "07:15", "days": "daily"})
    assert reply.status_code == 400 and "no session called" in reply.text
    reply = remote.post("/schedule/add", {"session": "box", "at": "7 o'clock", "days": "daily"})
    assert reply.status_code == 400 and "22:30" in reply.text
    assert remote.config.read_text() == before
    assert {"command": "reload"} not in remote.daemon.sent


def test_a_broken_script_shows_located_problems_and_is_not_saved(remote) -> None:  # type: ignore[no-untyped-def]
    broken = b'[session]\ntitle = "Mine"\n[[step]]\nsay = "Hello."\n[[step]]\nbreathe = "boxx"\n'
    reply = remote.post("/sessions", {"name": "mine"}, files={"file": ("mine.toml", broken, "text/plain")})
    assert reply.status_code == 400
    problems = re.findall(r"<li><b>(.*?)</b>: (.*?)</li>", reply.text)
    assert problems and problems[0][0].startswith("step 2"), problems
    assert not (library.user_scripts_dir() / "mine.toml").exists()


def test_a_valid_script_is_saved_and_listed(remote) -> None:  # type: ignore[no-untyped-def]
    script = '[session]\ntitle = "My evening"\n[[step]]\nsay = "Hello."\n'
    reply = remote.post("/sessions", {"name": "my-evening", "text": script})
    assert reply.status_code == 303
    assert (library.user_scripts_dir() / "my-evening.toml").read_text() == script
    assert "My evening" in remote.client.get("/sessions").text
    assert 'value="my-evening"' in remote.client.get("/").text
    again = remote.post("/sessions", {"name": "my-evening", "text": script})
    assert again.status_code == 400 and "already exists" in again.text


@pytest.mark.parametrize("name", ["../evil", "a/b", "", "UPPER/x", "x" * 41])
def test_a_session_name_cannot_leave_the_scripts_folder(tmp_path: Path, name: str) -> None:
    checked = check_and_save(b'[session]\ntitle = "x"\n[[step]]\nsay = "Hi."\n', name, tmp_path / "scripts")
    assert checked.saved is None and checked.problems
    assert not list(tmp_path.rglob("*.toml"))


def test_journal_by_day_search_entry_and_recording(remote) -> None:  # type: ignore[no-untyped-def]
    page = remote.client.get("/journal").text
    assert page.index("2026-11-30") < page.index("2026-11-20"), "newest day first"
    assert "The walk by the river." in page
    found = remote.client.get("/journal?q=river").text
    assert "1 found" in found and "2026-11-21" not in found
    entry = remote.client.get("/journal/1").text
    assert "What helped today?" in entry and 'src="/journal/1/audio"' in entry
    audio = remote.client.get("/journal/1/audio")
    assert audio.status_code == 200 and audio.content[:4] == b"fLaC"
    assert remote.client.get("/journal/999").status_code == 404


def test_delete_asks_first_then_removes_the_entry_and_its_audio(remote) -> None:  # type: ignore[no-untyped-def]
    journal = remote.ctx.journal()
    audio = journal.audio_file(journal.require(1))
    assert audio is not None and audio.exists()
    confirm = remote.client.get("/journal/1/delete")
    assert "cannot be undone" in confirm.text and journal.get(1) is not None
    assert remote.post("/journal/1/delete").status_code == 303
    assert journal.get(1) is None and not audio.exists()


@pytest.mark.parametrize("fmt", ["md", "csv", "json"])
def test_export(remote, fmt: str) -> None:  # type: ignore[no-untyped-def]
    reply = remote.client.get(f"/journal/export/{fmt}")
    assert reply.status_code == 200 and "attachment" in reply.headers["content-disposition"]
    assert "river" in reply.text
    if fmt == "json":
        assert len(json.loads(reply.text)) == 5


def test_mood_chart_draws_the_seeded_ratings(remote) -> None:  # type: ignore[no-untyped-def]
    page = remote.client.get("/mood?by=day").text
    assert page.count('class="point"') == 4 and "<polyline" in page
    weeks = remote.client.get("/mood?by=week").text
    assert weeks.count('class="point"') == 3  # weeks of 16, 23 and 30 Nov
    assert "5.0" in weeks  # 4 and 6 in the week of 16 Nov
    assert remote.client.get("/mood?by=month").text.count('class="point"') == 1
    for word in ("streak", "in a row", "missed", "goal"):
        assert word not in page.lower()
    api = remote.client.get("/api/mood?by=day").json()
    assert [p["mean"] for p in api["points"]] == [4.0, 6.0, 7.0, 8.0]


def test_chart_places_higher_ratings_higher_and_skips_odd_rows(tmp_path: Path) -> None:
    journal = seed_journal(tmp_path)
    entries = journal.all()
    journal.close()
    built = chart.build(entries, "day")
    ys = [p.y for p in built.points]
    assert ys == sorted(ys, reverse=True), "ratings rose, so the points climb"
    odd = [*entries, entries[-1].__class__(**{**entries[-1].to_dict(), "time": "not a time", "rating": 9})]
    assert len(chart.build(odd, "day").points) == 4


def test_days_group_newest_first(tmp_path: Path) -> None:
    journal = seed_journal(tmp_path)
    days = by_day(journal.all())
    journal.close()
    assert [d for d, _ in days] == ["2026-11-30", "2026-11-23", "2026-11-21", "2026-11-20"]


def test_api_status_sessions_start_and_control(remote) -> None:  # type: ignore[no-untyped-def]
    assert remote.client.get("/api/status").json() == {"ok": True, "state": "idle", "volume": 0.8}
    assert any(s["id"] == "box" for s in remote.client.get("/api/sessions").json())
    headers = {"Origin": "http://testserver", "X-CSRF-Token": remote.csrf()}
    assert remote.client.post("/api/start", json={"session": "box"}, headers=headers).json()["ok"] is True
    assert remote.client.post("/api/control", json={"action": "stop"}, headers=headers).json()["ok"] is True
    assert remote.daemon.sent[-2:] == [{"command": "start", "session": "box"}, {"command": "stop"}]


def test_health_in_plain_words(tmp_path: Path) -> None:
    from voiceguide.daemon.doctor import Finding

    remote = make_remote(tmp_path)
    remote.ctx.doctor = lambda: [Finding("speech", "fail", "no voice for nl", "sudo apt install espeak-ng"),
                                 Finding("journal", "ok", "private")]
    remote.pair()
    page = remote.client.get("/health").text
    assert "Needs fixing" in page and "What to do: sudo apt install espeak-ng" in page and "Fine" in page


def test_volume_quieter_and_louder(remote) -> None:  # type: ignore[no-untyped-def]
    page = remote.client.get("/").text
    assert "80 %" in page and 'name="level" value="0.7"' in page and 'name="level" value="0.9"' in page
    remote.post("/now/volume", {"level": "0.7"})
    assert remote.daemon.sent[-1] == {"command": "volume", "level": 0.7}
    remote.post("/now/volume", {"level": "7"})
    assert remote.daemon.sent[-1] == {"command": "volume", "level": 1.0}, "clamped before it is sent"
    headers = {"Origin": "http://testserver", "X-CSRF-Token": remote.csrf()}
    assert remote.client.post("/api/volume", json={"level": 0.25}, headers=headers).json()["volume"] == 0.25
    assert remote.client.post("/api/volume", json={"level": "loud"}, headers=headers).status_code == 400


def test_every_page_says_what_this_is_not_and_where_help_is(tmp_path: Path) -> None:
    """The pairing page (before pairing) and a paired page both carry "About and help" in both languages."""
    r = make_remote(tmp_path)
    try:
        pages = [r.client.get("/pair").text]
        r.pair()
        pages.append(r.client.get("/").text)
        for page in pages:
            assert "It is not therapy" in page and "Het is geen therapie" in page
            assert "call 112" in page and "bel dan 112" in page
            assert "huisarts" in page
    finally:
        r.ctx.close()
