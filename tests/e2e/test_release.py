"""The image's build step (Dockerfile): `reflex export --frontend-only --no-zip` compiles every
page, offline, from a copy of the project, with the app's own scripts."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.support.app_server import app_environment, free_port, isolated_copy


def test_the_pages_export_for_an_image(tmp_path, app_url):  # app_url: the project has compiled once
    project = isolated_copy(tmp_path / "project")
    env = app_environment(free_port(), f"sqlite:///{tmp_path / 'unused.db'}", {"SECRET_KEY": "build-only"})
    reflex = str(Path(sys.executable).with_name("reflex"))
    done = subprocess.run(
        [reflex, "export", "--frontend-only", "--no-zip"],
        cwd=project,
        env=env,
        capture_output=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout.decode()[-2000:] + done.stderr.decode()[-2000:]
    client = project / ".web" / "build" / "client"
    for page in ("index.html", "login.html", "register.html", "settings.html", "admin.html"):
        assert (client / page).is_file(), page
    # the scripts every page loads: served, and named in the root bundle
    (root,) = (client / "assets").glob("root-*.js")
    for script in ("live.js", "address.js", "follow.js", "keyboard.js", "paste.js"):
        assert (client / script).is_file() and f"/{script}" in root.read_text(), script
    assert not (project / "data" / "secret_key").exists()  # no secret baked into an image
