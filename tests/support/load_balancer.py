"""nginx (the Debian package) in front of app instances, with the project's own
deploy/nginx.conf: only the instances' addresses and the port it listens on are filled in."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.support.app_server import ROOT, serving_process

SITE = ROOT / "deploy" / "nginx.conf"
_UPSTREAM_SERVER = re.compile(r"^\s*server app\d+:3000 .*;$", re.MULTILINE)


def nginx_path() -> str:
    found = shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if Path(p).exists()), None
    )
    if found is None:
        raise RuntimeError("nginx is not installed: `make install-dev` installs the Debian package.")
    return found


def site_for(port: int, upstream_ports: list[int]) -> str:
    """deploy/nginx.conf listening on `port`, balancing over these local instances."""
    site = SITE.read_text()
    servers = "\n".join(f"    server 127.0.0.1:{p} max_fails=2 fail_timeout=10s;" for p in upstream_ports)
    site, count = _UPSTREAM_SERVER.subn("", site)
    assert count >= 1, "deploy/nginx.conf no longer lists its instances as `server appN:3000 …;`"
    site = site.replace("upstream chat_app {", "upstream chat_app {\n" + servers, 1)
    return site.replace("listen 8080;", f"listen 127.0.0.1:{port};", 1)


@contextmanager
def running_nginx(port: int, upstream_ports: list[int], workdir: Path) -> Iterator[Path]:
    """Serve on `port` until the block ends; yields the access log, one `uri upstream` line each."""
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "site.conf").write_text(site_for(port, upstream_ports))
    access_log = workdir / "access.log"
    (workdir / "nginx.conf").write_text(
        f"""daemon off;
{"user root;" if os.geteuid() == 0 else ""}
worker_processes 1;
pid {workdir}/nginx.pid;
error_log {workdir}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    log_format upstreams '$request_uri $upstream_addr $status';
    access_log {access_log} upstreams;
    client_body_temp_path {workdir}/body;
    proxy_temp_path {workdir}/proxy;
    fastcgi_temp_path {workdir}/fastcgi;
    uwsgi_temp_path {workdir}/uwsgi;
    scgi_temp_path {workdir}/scgi;
    include {workdir}/site.conf;
}}
"""
    )
    argv = [nginx_path(), "-p", str(workdir), "-c", str(workdir / "nginx.conf")]
    with serving_process(argv, f"http://127.0.0.1:{port}/healthz", log_path=workdir / "nginx.out"):
        yield access_log
