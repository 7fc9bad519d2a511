"""``voiceguide service`` writes a systemd user unit into a temporary XDG_CONFIG_HOME (never the real systemd),
and ``voiceguide doctor`` reports each check with a fix."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from voiceguide.cli import main as cli
from voiceguide.daemon import doctor, service
from voiceguide.daemon.doctor import Finding, diagnose, exit_code


@pytest.fixture(autouse=True)
def no_real_systemctl(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """Any attempt to run systemctl fails the test."""
    calls: list[list[str]] = []

    def refuse(args: list[str]) -> tuple[int, str]:
        calls.append(args)
        raise AssertionError(f"a test ran systemctl {args}")

    monkeypatch.setattr(service, "run_systemctl", refuse)
    return calls


def test_install_writes_a_user_unit_and_says_what_next(isolated_user_dirs: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["service", "install"]) == 0
    out = capsys.readouterr().out
    path = isolated_user_dirs / "config" / "systemd" / "user" / "voiceguide.service"
    assert path.is_file() and str(path) in out
    text = path.read_text(encoding="utf-8")
    assert "Restart=on-failure" in text
    assert "Environment=XDG_RUNTIME_DIR=%t" in text, "the user's runtime dir, where the sound server's socket is"
    assert "WantedBy=default.target" in text
    exec_line = next(line for line in text.splitlines() if line.startswith("ExecStart="))
    assert exec_line.endswith(" -I -u -m voiceguide daemon") and os.path.isabs(exec_line.split("=", 1)[1].split()[0])
    assert "loginctl enable-linger" in out and "systemctl --user enable --now voiceguide" in out


def test_install_with_a_config_and_uninstall(isolated_user_dirs: Path, tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "my config.toml"
    assert cli.main(["service", "install", "--config", str(config)]) == 0
    text = service.unit_path().read_text(encoding="utf-8")
    assert f'--config "{config}"' in text, "a path with a space is quoted for systemd"
    assert cli.main(["service", "uninstall"]) == 0
    assert not service.unit_path().exists()
    assert cli.main(["service", "uninstall"]) == 0
    assert "no service installed" in capsys.readouterr().out


def test_unit_text_escapes_systemd_specials() -> None:
    text = service.unit_text("/opt/100%/py", Path("/a/$HOME/c.toml"))
    assert 'ExecStart="/opt/100%%/py" -I -u -m voiceguide daemon --config "/a/$$HOME/c.toml"' in text


def test_service_state_reads_but_never_changes(isolated_user_dirs: Path, tmp_path: Path) -> None:
    asked: list[list[str]] = []

    def fake(args: list[str]) -> tuple[int, str]:
        asked.append(args)
        return 3, "inactive"

    assert service.state(fake, tmp_path) == service.ServiceState(False, None, False)
    service.install()
    (tmp_path / service.user_name()).touch()
    assert service.state(fake, tmp_path) == service.ServiceState(True, "inactive", True)
    assert asked == [["is-active", "voiceguide.service"]]


# --- doctor -----------------------------------------------------------------------------------------

def _by_name(findings: list[Finding]) -> dict[str, Finding]:
    return {f.name: f for f in findings}


def _no_systemd(args: list[str]) -> tuple[int, str]:
    return 127, "systemctl is not installed"


def test_doctor_reports_an_invalid_config_with_its_problems(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[audio]\nspeaker = "x"\n', encoding="utf-8")
    found = _by_name(diagnose(config, _no_systemd, open_output=False))
    assert found["config"].level == "fail" and "unknown key 'speaker'" in found["config"].detail
    assert found["config"].fix


def test_doctor_checks_voices_for_each_language_in_use(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[speech]\ntts = "fake"\n[[schedule]]\nsession = "nl-box"\nat = "7:00"\n'
                      '[button]\npin = 17\nsession = "box"\n', encoding="utf-8")
    found = _by_name(diagnose(config, _no_systemd, open_output=False))
    assert found["config"].level == "ok"
    assert found["voice for 'nl'"].detail == "fake-nl" and found["voice for 'en'"].detail == "fake-en"
    assert found["button"].name == "button", "gpiozero is installed with the dev extra"
    assert found["button"].level == "ok" or "no GPIO pin library" in found["button"].detail


def test_doctor_fails_when_the_wake_phrase_cannot_work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(doctor.wake, "unavailable", lambda spotter: "keyword spotting is not part of this version")
    config = tmp_path / "config.toml"
    config.write_text('[speech]\ntts = "fake"\n[wake]\nphrase = "hello guide"\n', encoding="utf-8")
    findings = diagnose(config, _no_systemd, open_output=False)
    found = _by_name(findings)
    assert found["wake phrase"].level == "fail" and "enabled = false" in found["wake phrase"].fix
    assert exit_code(findings) == 1


def test_doctor_checks_the_configured_recognizer_and_its_model(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    missing = tmp_path / "no-such-model"
    config.write_text(f'[speech]\ntts = "fake"\nrecognizer = "vosk"\nmodel = "{missing}"\n', encoding="utf-8")
    found = _by_name(diagnose(config, _no_systemd, open_output=False))["answers in 'en'"]
    assert found.level == "warn" and str(missing) in found.detail and "voiceguide[vosk]" in found.fix
    config.write_text('[speech]\ntts = "fake"\nrecognizer = "sphinx"\n', encoding="utf-8")
    found = _by_name(diagnose(config, _no_systemd, open_output=False))["answers in 'en'"]
    assert found.level == "ok" and found.detail.startswith("sphinx: ") and "en-US" in found.detail


def test_doctor_says_which_whisper_model_each_language_uses(tmp_path: Path) -> None:
    from voiceguide.backends import whisper_models

    if not (whisper_models.installed(whisper_models.TINY_EN) and whisper_models.installed(whisper_models.BASE)):
        pytest.skip("the Whisper models are not installed (pip install 'voiceguide[listen,multilingual]')")
    config = tmp_path / "config.toml"
    config.write_text('[speech]\ntts = "fake"\n[[schedule]]\nsession = "reflection"\nat = "21:00"\n'
                      '[[schedule]]\nsession = "nl-bedtime"\nat = "22:00"\n',
                      encoding="utf-8")
    found = _by_name(diagnose(config, _no_systemd, open_output=False))
    assert found["answers in 'en'"].detail == "faster-whisper, model tiny.en (packaged), language en"
    assert found["answers in 'nl'"].detail == "faster-whisper, model base (packaged), language nl"


def test_doctor_journal_folder_must_be_private(tmp_path: Path) -> None:
    folder = tmp_path / "journal"
    assert doctor._journal(folder).level == "ok"
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    (folder / "answers.db").write_bytes(b"")
    (folder / "answers.db").chmod(0o644)
    bad = doctor._journal(folder)
    assert bad.level == "fail" and "answers.db" in bad.detail and "chmod 600" in bad.fix
    (folder / "answers.db").chmod(0o600)
    folder.chmod(0o755)
    assert doctor._journal(folder).level == "fail"


def test_doctor_service_findings(isolated_user_dirs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(service, "LINGER_DIR", tmp_path)
    assert [(f.name, f.level) for f in doctor._service(_no_systemd)] == [("service", "warn")]
    service.install()
    found = doctor._service(lambda args: (0, "active"))
    assert [(f.name, f.level) for f in found] == [("service", "ok"), ("linger", "warn")]
    assert found[1].fix == f"sudo loginctl enable-linger {service.user_name()}"
    (tmp_path / service.user_name()).touch()
    found = doctor._service(lambda args: (3, "failed"))
    assert [(f.name, f.level) for f in found] == [("service", "warn"), ("linger", "ok")]
    assert "journalctl --user -u voiceguide" in found[0].fix


def test_exit_code_counts_only_failures() -> None:
    assert exit_code([Finding("a", "ok", ""), Finding("b", "warn", "", "x")]) == 0
    assert exit_code([Finding("a", "ok", ""), Finding("b", "fail", "", "x")]) == 1


def test_doctor_command_prints_fixes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[speech]\ntts = "fake"\n[audio]\noutput = "no such speaker"\n', encoding="utf-8")
    monkeypatch.setattr(service, "run_systemctl", _no_systemd)
    code = cli.main(["doctor", "--config", str(config)])
    out = capsys.readouterr().out
    assert code == 1, out
    assert "[FAIL] output device" in out and "fix: list the outputs with 'voiceguide devices'" in out
    assert "[ ok ] config" in out and "[warn] service: not installed" in out
