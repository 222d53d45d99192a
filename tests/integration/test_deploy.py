"""The deployment files of deploy/ as a secretariat would install them: the systemd units start
commands that exist with the options they take, the example environment names only settings the
code reads, and the reverse proxy (Debian's nginx, ``make test`` installs it when missing) serves
the dashboard and the API over TLS and the operator UI only after a login, with the operator UI's
own guard still refusing another site's request behind it."""

from __future__ import annotations

import base64
import http.client
import os
import re
import shlex
import shutil
import ssl
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from tests.served import REPO_ROOT, free_port, serving

pytestmark = pytest.mark.integration

DEPLOY = REPO_ROOT / "deploy"
UNITS = sorted((DEPLOY / "systemd").glob("*.service"))


def unit_settings(path: Path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in path.read_text().splitlines()
                if "=" in line and not line.startswith("#"))


@pytest.mark.parametrize("unit", UNITS, ids=[u.name for u in UNITS])
def test_each_unit_starts_a_command_that_exists_and_takes_its_options(unit):
    settings = unit_settings(unit)
    command = shlex.split(settings["ExecStart"].replace("/opt/observatory", str(REPO_ROOT))
                          .replace("${DAGSTER_HOME}", "/var/lib/observatory/dagster"))
    assert Path(command[0]).is_file(), command[0]
    assert settings["EnvironmentFile"] == "/etc/observatory/observatory.env"
    assert settings["User"] == "observatory" and settings["UMask"] == "0077"
    if unit.name != "observatory-migrate.service":
        assert "observatory-migrate.service" in settings["Requires"].split()
    if "--workspace" in command or "-w" in command or "pipelines.operator_ui" in command:
        # the code server's clients start after it answers (its ExecStartPost waits for that)
        assert "observatory-code-server.service" in settings["After"].split()
    # The command's own parser accepts the options (--help after them: nothing is served).
    name = Path(command[0]).name
    if name == "streamlit":
        assert (REPO_ROOT / command[2]).is_file()
        return
    probe = [*command, "--help"] if name != "dagster-daemon" else [
        command[0], "run", "--help"]
    result = subprocess.run(probe, cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-1000:]
    target = (DEPLOY / "systemd" / "observatory.target").read_text()
    assert unit.name in target


def test_the_example_environment_names_only_settings_the_code_reads():
    names = re.findall(r"^([A-Z_]+)=", (DEPLOY / "observatory.env.example").read_text(), re.M)
    code = "\n".join(p.read_text() for folder in ("pipelines", "api", "dashboards")
                     for p in (REPO_ROOT / folder).rglob("*.py"))
    unread = [n for n in names if n != "DAGSTER_HOME" and f'"{n}"' not in code]
    assert names and not unread, unread


def _request(port: int, host: str, path: str, tls: bool = True, **headers) -> tuple[int, bytes]:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    con = (http.client.HTTPSConnection("127.0.0.1", port, context=context, timeout=30) if tls
           else http.client.HTTPConnection("127.0.0.1", port, timeout=30))
    method = headers.pop("method", "GET")
    body = headers.pop("body", None)
    con.request(method, path, body=body, headers={"Host": f"{host}:{port}", **headers})
    response = con.getresponse()
    return response.status, response.read()


def _started(command: list[str], env: dict, log: Path, port: int, path: str) -> subprocess.Popen:
    process = subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=log.open("w"),
                               stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text()[-2000:]
        try:
            con = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            con.request("GET", path)
            if con.getresponse().status < 500:
                return process
        except OSError:
            pass
        time.sleep(0.3)
    process.kill()
    raise AssertionError(f"{command} did not answer:\n{log.read_text()[-2000:]}")


def test_the_proxy_serves_the_site_over_tls_and_the_operator_ui_only_after_a_login(tmp_path):
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(nginx).exists():
        pytest.skip("nginx is not installed (Debian's nginx package; make test installs it)")
    folder = Path(tempfile.mkdtemp(prefix="observatory-proxy-"))
    home = tmp_path / "home"
    https, http_port, api_port = free_port(), free_port(), free_port()
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=observatory.test", "-keyout", str(folder / "key.pem"),
                    "-out", str(folder / "cert.pem")], check=True, capture_output=True)
    hashed = subprocess.run(["openssl", "passwd", "-apr1", "operator-secret"], check=True,
                            capture_output=True, text=True).stdout.strip()
    (folder / "operators.htpasswd").write_text(f"ops:{hashed}\n")
    env = {"OBSERVATORY_OPERATOR_HOSTS": "operator.observatory.test"}
    api = None
    with serving(home, tmp_path / "dashboard.log", env=env, orchestrator=True) as dashboard:
        operator = os.environ["OBSERVATORY_OPERATOR_URL"]
        api = _started([str(Path(sys.executable).with_name("observatory")), "api", "--port",
                        str(api_port)], {**os.environ, "OBSERVATORY_HOME": str(home)},
                       tmp_path / "api.log", api_port, "/api/v1/openapi.json")
        site = (DEPLOY / "nginx" / "observatory.conf").read_text()
        for old, new in (("operator.observatory.example.org", "operator.observatory.test"),
                         ("observatory.example.org", "observatory.test"),
                         ("/etc/ssl/certs/observatory.pem", str(folder / "cert.pem")),
                         ("/etc/ssl/private/observatory.key", str(folder / "key.pem")),
                         ("/etc/nginx/observatory-operators.htpasswd",
                          str(folder / "operators.htpasswd")),
                         ("listen 443 ssl", f"listen 127.0.0.1:{https} ssl"),
                         ("listen 80", f"listen 127.0.0.1:{http_port}"),
                         ("127.0.0.1:8501", dashboard.removeprefix("http://")),
                         ("127.0.0.1:8000", f"127.0.0.1:{api_port}"),
                         ("127.0.0.1:3000", operator.removeprefix("http://"))):
            assert old in site, old
            site = site.replace(old, new)
        (folder / "observatory.conf").write_text(site)
        temp = "".join(f"{kind}_temp_path {folder}/{kind};\n"
                       for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        (folder / "nginx.conf").write_text(
            ("user root;\n" if os.geteuid() == 0 else "") +
            f"worker_processes 1;\npid {folder}/nginx.pid;\nerror_log {folder}/error.log;\n"
            f"events {{}}\nhttp {{\naccess_log {folder}/access.log;\n{temp}"
            f"include {folder}/observatory.conf;\n}}\n")
        proxy = subprocess.Popen([nginx, "-c", str(folder / "nginx.conf"), "-p", str(folder),
                                  "-g", "daemon off;"], stdout=subprocess.PIPE,
                                 stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 30
            while not (folder / "nginx.pid").exists():
                assert proxy.poll() is None and time.monotonic() < deadline, proxy.stdout.read()
                time.sleep(0.1)
            login = "Basic " + base64.b64encode(b"ops:operator-secret").decode()
            wrong = "Basic " + base64.b64encode(b"ops:guess").decode()

            status, _ = _request(http_port, "observatory.test", "/", tls=False)
            assert status == 301  # plain HTTP only redirects
            assert _request(https, "observatory.test", "/_stcore/health") == (200, b"ok")
            status, body = _request(https, "observatory.test", "/api/v1/openapi.json")
            assert status == 200 and b"/api/v1/values" in body
            assert _request(https, "operator.observatory.test", "/server_info")[0] == 401
            assert _request(https, "operator.observatory.test", "/server_info",
                            Authorization=wrong)[0] == 401
            status, body = _request(https, "operator.observatory.test", "/server_info",
                                    Authorization=login)
            assert status == 200 and b"dagster_webserver_version" in body
            # Signed in or not, another site's request is still the guard's to refuse.
            status, _ = _request(https, "operator.observatory.test", "/graphql",
                                 Authorization=login, method="POST",
                                 body=b'{"query": "{ version }"}',
                                 Origin="https://evil.example", **{
                                     "Content-Type": "application/json"})
            assert status == 403
        finally:
            proxy.terminate()
            proxy.wait(timeout=30)
            if api is not None:
                api.terminate()
                api.wait(timeout=30)
            shutil.rmtree(folder, ignore_errors=True)
