"""Writing the tooling's files: whole or not at all, through links, never over devices."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from somacontracts.cli import EXIT_INTERRUPTED, main
from somacontracts.errors import FileWriteError
from somacontracts.files import replace_text


def test_a_link_is_written_through_and_stays_a_link(tmp_path: Path) -> None:
    target = tmp_path / "real.yml"
    target.write_text("old")
    target.chmod(0o640)
    link = tmp_path / "link.yml"
    link.symlink_to(target)
    replace_text(link, "new\n")
    assert link.is_symlink()
    assert target.read_text() == "new\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640


def test_a_device_is_written_to_not_replaced() -> None:
    devnull = Path(os.devnull)
    replace_text(devnull, "discarded\n")
    assert stat.S_ISCHR(devnull.stat().st_mode)  # still the device, also when run as root


@pytest.mark.parametrize("name", ["", ".", "folder"])
def test_a_path_that_names_no_file_is_one_error(tmp_path: Path, name: str) -> None:
    (tmp_path / "folder").mkdir()
    target = tmp_path / name if name else Path(name)
    with pytest.raises(FileWriteError, match=r"names no file|is a folder"):
        replace_text(target, "x")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["folder"]


def test_ctrl_c_is_one_line_and_exit_130(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def interrupted(*_: object) -> str:
        raise KeyboardInterrupt

    monkeypatch.setattr("somacontracts.cli.alerts.render_rules", interrupted)
    assert main(["alerts"]) == EXIT_INTERRUPTED
    assert capsys.readouterr().err == "somacontracts alerts: interrupted\n"
