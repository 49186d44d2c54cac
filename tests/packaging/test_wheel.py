"""The built wheel is complete: installed into a fresh virtualenv, it migrates a database,
takes a feed in, renders an issue and serves desk pages, with no source tree in sight.

The wheel is built offline with the project's own build backend (``--no-build-isolation``).
The fresh virtualenv gets the wheel alone; its dependencies come from the project's
virtualenv through a ``.pth`` line placed after its own site-packages, so the installed
``distributor`` is the one imported, and nothing is downloaded.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from tests.support.paths import REPO_ROOT

pytestmark = [pytest.mark.packaging, pytest.mark.slow, pytest.mark.timeout(600)]

BUILD_INPUTS = ("pyproject.toml", "setup.py", "MANIFEST.in", "README.md")
SOURCE_DIRS = ("distributor", "workers", "templates")
FEED = REPO_ROOT / "tests" / "fixtures" / "ingest" / "seed-story-en.rss"


def _run(command: list[str], cwd: Path, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, f"{command} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def _build_wheel(workdir: Path) -> Path:
    """Build the wheel from a copy of the source tree (the checkout stays clean)."""
    source = workdir / "source"
    source.mkdir()
    for name in BUILD_INPUTS:
        shutil.copy2(REPO_ROOT / name, source / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    for name in SOURCE_DIRS:
        shutil.copytree(REPO_ROOT / name, source / name, ignore=ignore)
    dist = workdir / "dist"
    _run(
        [
            *(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps"),
            *("--no-build-isolation", "--wheel-dir", str(dist), str(source)),
        ],
        cwd=workdir,
    )
    (wheel,) = dist.glob("distributor-*.whl")
    return wheel


def _fresh_virtualenv(workdir: Path, wheel: Path) -> Path:
    """A virtualenv with the wheel installed; dependencies are read from this one's."""
    venv = workdir / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], cwd=workdir)
    python = venv / "bin" / "python"
    _run(
        [
            *(sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet"),
            *("--no-deps", "--no-index", str(wheel)),
        ],
        cwd=workdir,
    )
    site_packages = Path(
        _run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            workdir,
        ).strip()
    )
    ours = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (site_packages / "project-dependencies.pth").write_text("\n".join(sorted(ours)) + "\n")
    return venv


def test_an_installed_wheel_renders_an_issue_and_serves_the_desk(tmp_path: Path) -> None:
    wheel = _build_wheel(tmp_path)
    venv = _fresh_virtualenv(tmp_path, wheel)
    python, command = str(venv / "bin" / "python"), str(venv / "bin" / "distributor")
    run_dir = tmp_path / "run"  # not the checkout: nothing may be found through the cwd
    run_dir.mkdir()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "DATA_DIR": str(run_dir / "var"),
        "DATABASE_URL": f"sqlite:///{run_dir / 'distributor.db'}",
        "SECRET_KEY": "packaging-test-secret-0123456789",
        "PUBLIC_BASE_URL": "https://news.example.org",
        "LOG_FORMAT": "text",
        "CHROMIUM_PATH": str(run_dir / "no-chromium"),
    }

    located = json.loads(
        _run(
            [
                python,
                "-c",
                "import json, distributor, distributor.resources as r;"
                " print(json.dumps([distributor.__file__, str(r.TEMPLATES_DIR)]))",
            ],
            run_dir,
            env,
        )
    )
    installed = venv.resolve()
    assert Path(located[0]).resolve().is_relative_to(installed)
    assert Path(located[1]).resolve().is_relative_to(installed)
    assert (Path(located[1]) / "email" / "issue.mjml.j2").is_file()
    # The catalogues and the ingest forms ship inside the package: it speaks every language.
    spoken = json.loads(
        _run(
            [
                python,
                "-c",
                "import json; from distributor import i18n;"
                " print(json.dumps([str(i18n.LOCALE_DIR), [i18n.gettext_in(tag, 'Unsubscribe',"
                " 'email') for tag in ('fr', 'zh-Hant', 'fa')]]))",
            ],
            run_dir,
            env,
        )
    )
    assert Path(spoken[0]).resolve().is_relative_to(installed)
    assert spoken[1] == ["Se désabonner", "取消訂閱", "لغو اشتراک"]
    assert (Path(spoken[0]) / "zh_Hant" / "ingest.toml").is_file()

    _run([command, "db", "upgrade"], run_dir, env)
    _run([command, "ingest", str(FEED)], run_dir, env)
    _run([command, "lists", "create", "weekly", "--title", "The Weekly"], run_dir, env)
    articles = json.loads(_run([command, "articles", "list", "--json"], run_dir, env))
    first = articles[0] if isinstance(articles, list) else articles["articles"][0]
    issue = json.loads(
        _run(
            [
                *(command, "issues", "create", "--list", "weekly", "--subject", "From the wheel"),
                *("--article", str(first["id"]), "--json"),
            ],
            run_dir,
            env,
        )
    )
    out = run_dir / "out"
    _run([command, "render", str(issue["id"]), "--out", str(out), "--json"], run_dir, env)
    html = (out / "issue.html").read_text("utf-8")
    text = (out / "issue.txt").read_text("utf-8")
    assert first["title"] in html
    assert "-unsubscribe_url-" in html
    assert first["title"] in text

    page = _run(
        [
            python,
            "-c",
            "from fastapi.testclient import TestClient;"
            " from distributor.web.app import create_app;"
            " client = TestClient(create_app());"
            " login = client.get('/login'); css = client.get('/static/desk.css');"
            " print(login.status_code, css.status_code, 'csrf_token' in login.text)",
        ],
        run_dir,
        env,
    )
    assert page.split() == ["200", "200", "True"]
