"""docs/deploy.md, followed command by command on this machine.

The guide's ``sh`` blocks are read from the file and run in order. Each block names the
machine it runs on in its first line (``# host A``, ``# host A, host B``, ``# workstation``,
``# old machine``). The two hosts are two directory trees and two sets of ports here:
paths the guide names (/etc/tiaojie, /var/lib/tiaojie, /opt/tiaojie, …) are mapped into a
temporary tree per host, 10.0.0.x becomes 127.0.0.1, the guide's ports become free ports,
the domain becomes localhost served by Caddy with its own certificate authority, and the
database role and databases get names of their own on this machine's PostgreSQL.

What cannot run as written on a shared test machine is interpreted, each in one place
below and nowhere silently: ``apt-get install`` checks that the packages are installed
(or exist in Debian); ``useradd`` and ``chown`` are checked, not run (everything runs as
the test's user); ``systemctl`` runs what the unit files say (``ExecStart`` with their
``EnvironmentFile``), ``daemon-reload`` verifies the units with ``systemd-analyze``, and
``restart postgresql redis-server`` checks that both answer. A command this file does not
know fails the test, so the guide cannot drift from what is tested.

The edits the guide asks for in prose (the environment file, the Caddyfile's marked
lines) are made by ``Walkthrough.configure_*``.
"""

from __future__ import annotations

import json
import os
import random
import re
import shlex
import shutil
import socket
import subprocess
import sys
import tarfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tests.notifications.helpers import SmsGatewayServer, SmtpSink
from tests.ops.procs import ROOT, SECRET, PgDatabase, Service, json_lines, require_pg_server

GUIDE = ROOT / "docs" / "deploy.md"
ROLE_PASSWORD = "the-database-password"


@dataclass
class Block:
    machines: list[str]
    commands: list[str]
    line: int


def guide_blocks(text: str) -> list[Block]:
    blocks: list[Block] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        if lines[i].strip() == "```sh":
            start = i + 1
            body = []
            i += 1
            while lines[i].strip() != "```":
                body.append(lines[i])
                i += 1
            header = body[0].strip()
            assert header.startswith("# "), f"docs/deploy.md:{start}: a sh block starts with '# <machine>'"
            machines = [m.strip() for m in header[2:].split(",")]
            commands: list[str] = []
            pending = ""
            for raw in body[1:]:
                line = raw.rstrip()
                if not line.strip() or line.lstrip().startswith("#"):
                    continue
                if line.endswith("\\"):
                    pending += line[:-1] + " "
                    continue
                commands.append(pending + line)
                pending = ""
            blocks.append(Block(machines, commands, start))
        i += 1
    return blocks


def _free_port(low: int = 20000, high: int = 60000) -> int:
    for _ in range(500):
        port = random.randint(low, high)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port")


def _web_port() -> int:
    """A web server's port p such that 1p (its metrics port, see the unit) is a port too."""
    while True:
        port = _free_port(3000, 5535)
        if _port_free(int(f"1{port}")):
            return port


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def _env_file(path: Path) -> dict[str, str]:
    values = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    return values


def _unit(path: Path) -> dict[str, list[str]]:
    values: dict[str, list[str]] = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith(("#", "[")) and "=" in line:
            key, _, value = line.partition("=")
            values.setdefault(key.strip(), []).append(value.strip())
    return values


@dataclass
class Host:
    name: str
    root: Path
    web_port: int
    worker_metrics: int
    services: dict[str, Service] = field(default_factory=dict)

    @property
    def cwd(self) -> Path:
        return self.root / "root"


class Walkthrough:
    def __init__(self, tmp: Path, pg: str, redis_url: str, smtp: SmtpSink, sms: SmsGatewayServer) -> None:
        self.tmp = tmp
        self.pg = pg
        self.redis_url = redis_url
        self.smtp = smtp
        self.sms = sms
        self.opt = tmp / "opt" / "tiaojie"
        self.old = tmp / "old-machine" / "tiaojie"
        self.workstation = tmp / "workstation"
        self.role = "tiaojie_guide_" + "".join(random.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(8))
        self.hosts = {
            "host A": Host("host A", tmp / "hostA", _web_port(), _free_port()),
            "host B": Host("host B", tmp / "hostB", _web_port(), _free_port()),
        }
        self.caddy_port = _free_port()
        self.caddy_http_port = _free_port()
        self.caddy: subprocess.Popen | None = None
        self.caddy_log = tmp / "caddy.log"
        self.outputs: list[tuple[str, str, str]] = []  # (machine, command, stdout)
        self.interpreted: list[str] = []
        self.timings: list[tuple[float, str]] = []
        for path in (self.workstation, self.old.parent, *[h.cwd for h in self.hosts.values()]):
            path.mkdir(parents=True, exist_ok=True)
        for host in self.hosts.values():  # what a Debian host (with the packages of step 1) has
            for system_dir in ("usr/local/bin", "etc/systemd/system", "etc/caddy", "var/lib", "var/backups"):
                (host.root / system_dir).mkdir(parents=True, exist_ok=True)

    # --- mapping the guide's world onto this machine ----------------------------------

    def replacements(self, host: Host | None) -> list[tuple[str, str]]:
        a, b = self.hosts["host A"], self.hosts["host B"]
        root = (host or a).root
        pairs = [
            (f"postgresql://tiaojie:{ROLE_PASSWORD}@10.0.0.1:5432/tiaojie_drill",
             f"postgresql://{self.role}:{ROLE_PASSWORD}@127.0.0.1:5432/{self.role}_drill"),
            (f"postgresql://tiaojie:{ROLE_PASSWORD}@10.0.0.1:5432/",
             f"postgresql://{self.role}:{ROLE_PASSWORD}@127.0.0.1:5432/"),
            ("tiaojie.example.cn", f"localhost:{self.caddy_port}"),
            ("/home/county/tiaojie", str(self.old)),
            ("/opt/tiaojie", str(self.opt)),
            ("/usr/local/bin/tiaojie-admin", str(root / "usr/local/bin/tiaojie-admin")),
            ("/etc/tiaojie", str(root / "etc/tiaojie")),
            ("/etc/systemd/system", str(root / "etc/systemd/system")),
            ("/etc/caddy", str(root / "etc/caddy")),
            ("/var/lib/tiaojie", str(root / "var/lib/tiaojie")),
            ("/var/backups/tiaojie", str(root / "var/backups/tiaojie")),
            ("18001", f"1{a.web_port}"),
            ("18002", f"1{b.web_port}"),
            ("8001", str(a.web_port)),
            ("8002", str(b.web_port)),
            ("9101", str((host or a).worker_metrics)),
            ("10.0.0.1", "127.0.0.1"),
            ("10.0.0.2", "127.0.0.1"),
        ]
        return pairs

    def localize(self, text: str, host: Host | None) -> str:
        pairs = self.replacements(host)
        for i, (old, _new) in enumerate(pairs):  # two passes: a value never gets replaced again
            text = text.replace(old, f"\x00{i}\x00")
        for i, (_old, new) in enumerate(pairs):
            text = text.replace(f"\x00{i}\x00", new)
        return text

    def env(self, host: Host | None) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("TIAOJIE_", "DATABASE_URL", "REDIS_URL", "PROMETHEUS_", "SECRET_KEY", "BASE_URL"))}
        root = (host or self.hosts["host A"]).root
        env.update({
            "TIAOJIE_ENV_FILE": str(root / "etc/tiaojie/tiaojie.env"),
            "TIAOJIE_HOME": str(self.opt),
            "TIAOJIE_USER": subprocess.run(["id", "-un"], capture_output=True, text=True).stdout.strip(),
            "XDG_DATA_HOME": str(self.tmp / "caddy-data"),
            "XDG_CONFIG_HOME": str(self.tmp / "caddy-config"),
        })
        return env

    # --- the edits the guide asks for in prose -----------------------------------------------

    def configure_env_file(self, host: Host) -> None:
        path = host.root / "etc/tiaojie/tiaojie.env"
        text = self.localize(path.read_text(), host)
        values = {
            "SECRET_KEY": SECRET,
            "HOST": "127.0.0.1",
            "FORWARDED_ALLOW_IPS": "127.0.0.1",
            "DATABASE_URL": f"postgresql://{self.role}:{ROLE_PASSWORD}@127.0.0.1:5432/{self.role}",
            "REDIS_URL": self.redis_url,
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(self.smtp.port),
            "SMTP_SECURITY": "none",
            "SMTP_USERNAME": "",
            "SMTP_PASSWORD": "",
            "SMS_GATEWAY_URL": self.sms.url,
            "SMS_GATEWAY_KEY": self.sms.key,
            "WORKER_METRICS_ADDRESS": f"127.0.0.1:{host.worker_metrics}",
        }
        lines = []
        for line in text.splitlines():
            key = line.split("=", 1)[0]
            lines.append(f"{key}={values[key]}" if "=" in line and key in values else line)
        path.write_text("\n".join(lines) + "\n")

    def configure_caddyfile(self, host: Host) -> None:
        """The marked lines (domain, upstreams) are mapped like every path; this machine
        cannot get a public certificate, so Caddy uses its own authority on local ports."""
        path = host.root / "etc/caddy/Caddyfile"
        storage = self.tmp / "caddy-storage"
        options = (
            "{\n\tadmin off\n\tlocal_certs\n\tskip_install_trust\n"
            f"\thttp_port {self.caddy_http_port}\n\thttps_port {self.caddy_port}\n"
            f"\tstorage file_system {{\n\t\troot {storage}\n\t}}\n}}\n\n"
        )
        path.write_text(options + self.localize(path.read_text(), host))

    @property
    def caddy_root_cert(self) -> Path:
        return self.tmp / "caddy-storage" / "pki" / "authorities" / "local" / "root.crt"

    # --- running one command -----------------------------------------------------------------

    def run_block(self, block: Block) -> None:
        for machine in block.machines:
            for command in block.commands:
                self.run(machine, command)
            if machine == "workstation":
                for host in self.hosts.values():  # "Copy tiaojie.tar.gz to both hosts"
                    shutil.copy(self.workstation / "tiaojie.tar.gz", host.cwd / "tiaojie.tar.gz")
            if machine == "old machine":  # "copy it to host A"
                shutil.copy(self.old.parent / "tiaojie-var.tar.gz", self.hosts["host A"].cwd / "tiaojie-var.tar.gz")

    def run(self, machine: str, command: str) -> str:
        started = time.monotonic()
        try:
            return self._run(machine, command)
        finally:
            self.timings.append((time.monotonic() - started, f"{machine}: {command}"))

    def _run(self, machine: str, command: str) -> str:
        host = self.hosts.get(machine)
        words = shlex.split(command) if "$(" not in command else command.split()
        head = words[0]
        if head == "apt-get":
            return self.apt_get(words)
        if head == "useradd":
            assert words[-1] == "tiaojie" and "User=tiaojie" in (ROOT / "deploy/tiaojie-worker.service").read_text()
            self.interpreted.append(f"{machine}: {command}  (checked: the units' User=)")
            return ""
        if head == "chown":
            target = Path(self.localize(words[-1], host))
            assert target.exists(), target
            self.interpreted.append(f"{machine}: {command}  (checked: the path exists)")
            return ""
        if head == "systemctl":
            assert host is not None, command
            return self.systemctl(host, words[1:])
        if head == "journalctl":
            assert host is not None
            unit = words[words.index("-u") + 1]
            entries = json_lines(host.services[unit].log())
            assert entries, f"{unit} logged nothing"
            self.interpreted.append(f"{machine}: {command}  (read the service's output)")
            return ""
        if command.startswith("sudo -u postgres "):
            return self.as_postgres(command[len("sudo -u postgres "):])
        return self.shell(machine, host, command)

    def shell(self, machine: str, host: Host | None, command: str) -> str:
        local = re.sub(r"\s-[og] tiaojie\b", "", command)  # everything runs as the test's user
        local = re.sub(r"^tiaojie-admin\b", "/usr/local/bin/tiaojie-admin", local)
        local = self.localize(local, host)
        if "curl" in local and "https://" in local:
            local = local.replace("curl ", f"curl --cacert {self.caddy_root_cert} ", 1)
        cwd = {"workstation": ROOT, "old machine": self.old.parent}.get(machine) or host.cwd
        if machine == "workstation":
            local = local.replace("--output=tiaojie.tar.gz", f"--output={self.workstation / 'tiaojie.tar.gz'}")
        done = subprocess.run(["bash", "-euo", "pipefail", "-c", local], cwd=cwd, env=self.env(host),
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, f"{machine}: {command}\n→ {local}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        self.outputs.append((machine, command, done.stdout))
        if "tiaojie.env.example" in command and host is not None:
            self.configure_env_file(host)
        if "/etc/caddy/Caddyfile" in command and command.startswith("install") and host is not None:
            self.configure_caddyfile(host)
        return done.stdout

    def apt_get(self, words: list[str]) -> str:
        assert words[1:3] == ["install", "-y"], words
        for package in words[3:]:
            status = subprocess.run(["dpkg-query", "-W", "-f=${Status}", package], capture_output=True, text=True)
            if "ok installed" in status.stdout:
                continue
            known = subprocess.run(["apt-cache", "show", package], capture_output=True, text=True)
            assert known.returncode == 0 and known.stdout.strip(), f"Debian has no package {package!r}"
        assert shutil.which("caddy") or "caddy" not in words, "caddy is not installed (scripts/ensure-ops-tools.sh)"
        self.interpreted.append("apt-get install: packages checked (installed, or known to Debian)")
        return ""

    def as_postgres(self, command: str) -> str:
        local = re.sub(r"\btiaojie\b", self.role, command)
        local = local.replace("tiaojie_drill", f"{self.role}_drill")
        server = httpx.URL(self.pg)
        env = {**os.environ, "PGHOST": server.host or "127.0.0.1", "PGPORT": str(server.port or 5432),
               "PGUSER": server.username or "postgres", "PGDATABASE": "postgres"}
        done = subprocess.run(["bash", "-c", local], env=env, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, f"{command}\n→ {local}\n{done.stderr}"
        return done.stdout

    # --- systemctl -----------------------------------------------------------------------------

    def systemctl(self, host: Host, args: list[str]) -> str:
        verb, units = args[0], [a for a in args[1:] if not a.startswith("--")]
        if verb == "daemon-reload":
            return self.verify_units(host)
        if units == ["postgresql", "redis-server"] and verb == "restart":
            assert subprocess.run(["pg_isready", "-h", "127.0.0.1", "-q"]).returncode == 0
            import redis

            assert redis.Redis.from_url(self.redis_url).ping()
            self.interpreted.append(f"{host.name}: systemctl restart postgresql redis-server (checked: both answer)")
            return ""
        if units == ["caddy"] and verb in ("reload", "restart"):
            self.start_caddy(host)
            return ""
        for unit in units:
            if verb in ("enable", "start") or verb == "restart":
                if unit.endswith(".timer"):
                    self.check_timer(host, unit)
                    continue
                if verb == "restart":
                    host.services.pop(unit).stop()
                self.start_unit(host, unit)
            else:
                raise AssertionError(f"systemctl {verb} is not known to this walkthrough")
        return ""

    def unit_file(self, host: Host, unit: str) -> Path:
        name = re.sub(r"@[^.]+\.service$", "@.service", unit)
        path = host.root / "etc/systemd/system" / name
        assert path.exists(), f"{unit}: {path} was not installed"
        return path

    def start_unit(self, host: Host, unit: str) -> None:
        spec = _unit(self.unit_file(host, unit))
        instance = unit.split("@", 1)[1].rsplit(".", 1)[0] if "@" in unit else ""
        assert spec["User"] == ["tiaojie"] and spec["EnvironmentFile"] == ["/etc/tiaojie/tiaojie.env"]
        env = self.env(host)
        env.update(_env_file(Path(self.localize(spec["EnvironmentFile"][0], host))))
        command = spec["ExecStart"][0].replace("%i", instance)
        args = shlex.split(self.localize(command, host))
        cwd = Path(self.localize(spec["WorkingDirectory"][0], host))
        if spec.get("Type") == ["oneshot"]:
            done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
            assert done.returncode == 0, f"{unit}: {done.stderr}"
            self.outputs.append((host.name, unit, done.stdout))
            return
        service = Service(f"{host.name.replace(' ', '-')}-{unit}", args, env, self.tmp)
        service.proc.args = args
        host.services[unit] = service

    def check_timer(self, host: Host, unit: str) -> None:
        spec = _unit(self.unit_file(host, unit))
        for calendar in spec["OnCalendar"]:
            done = subprocess.run(["systemd-analyze", "calendar", calendar], capture_output=True, text=True)
            assert done.returncode == 0, done.stderr
        assert (host.root / "etc/systemd/system" / unit.replace(".timer", ".service")).exists()
        self.interpreted.append(f"{host.name}: {unit} (checked: its calendar; the service it starts is run below)")

    def verify_units(self, host: Host) -> str:
        check = self.tmp / f"units-{host.name.replace(' ', '-')}"
        check.mkdir(exist_ok=True)
        names = []
        for path in (host.root / "etc/systemd/system").iterdir():
            text = self.localize(path.read_text(), host)
            name = path.name.replace("@.service", f"@{host.web_port}.service")
            (check / name).write_text(text)
            names.append(f"./{name}")
        if not shutil.which("systemd-analyze"):
            pytest.fail("systemd-analyze is missing (apt-get install systemd)")
        done = subprocess.run(["systemd-analyze", "verify", "--man=no", *sorted(names)], cwd=check,
                              capture_output=True, text=True)
        assert done.returncode == 0 and not done.stderr.strip() and not done.stdout.strip(), done.stderr
        self.interpreted.append(f"{host.name}: systemctl daemon-reload (systemd-analyze verify {' '.join(sorted(names))})")
        return ""

    def start_caddy(self, host: Host) -> None:
        if self.caddy is not None:
            self.caddy.terminate()
            self.caddy.wait(timeout=10)
        if not shutil.which("caddy"):
            pytest.fail("caddy is not installed: run scripts/ensure-ops-tools.sh (make test-tools does)")
        self.caddy = subprocess.Popen(
            ["caddy", "run", "--config", str(host.root / "etc/caddy/Caddyfile"), "--adapter", "caddyfile"],
            env=self.env(host), stdout=open(self.caddy_log, "w"), stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.time() + 20
        while not self.caddy_root_cert.exists():
            assert self.caddy.poll() is None and time.time() < deadline, self.caddy_log.read_text()[-3000:]
            time.sleep(0.2)

    def stop(self) -> None:
        for host in self.hosts.values():
            for service in host.services.values():
                service.stop()
        if self.caddy is not None:
            self.caddy.terminate()
            try:
                self.caddy.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.caddy.kill()


class Visitors(threading.Thread):
    """Public visitors through the proxy for the rest of the walkthrough: none may fail."""

    def __init__(self, base: str, cert: Path) -> None:
        super().__init__(daemon=True)
        self.base = base
        self.cert = cert
        self.done = threading.Event()
        self.answers: list[int] = []
        self.failures: list[str] = []

    def run(self) -> None:
        import ssl

        context = ssl.create_default_context(cafile=str(self.cert))
        with httpx.Client(verify=context, timeout=30) as client:
            while not self.done.is_set():
                for path in ("/", "/o/chengdong/", "/hotlines"):
                    try:
                        resp = client.get(self.base + path)
                        self.answers.append(resp.status_code)
                        if resp.status_code != 200:
                            self.failures.append(f"{path}: {resp.status_code}")
                    except httpx.HTTPError as exc:
                        self.failures.append(f"{path}: {type(exc).__name__} {exc}")
                time.sleep(0.05)


def test_the_deployment_guide_runs_as_written(tmp_path):
    if not os.environ.get("TEST_DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
        # About two minutes of real processes: once per CI run, on its PostgreSQL pass.
        pytest.skip("the deployment guide walkthrough runs on the PostgreSQL pass: set TEST_DATABASE_URL "
                    "(.ci/run does) to run it")
    server = require_pg_server("the guide")
    from app.devserver import start_embedded_redis

    blocks = guide_blocks(GUIDE.read_text())
    assert len(blocks) >= 10
    redis_proc, redis_url = start_embedded_redis()
    smtp, sms = SmtpSink().start(), SmsGatewayServer().start()
    walk = Walkthrough(tmp_path, server, redis_url, smtp, sms)
    visitors: Visitors | None = None
    try:
        # The installation `make run` left on the county's old machine: demo city, an upload.
        old_env = {**os.environ, "TIAOJIE_VAR_DIR": str(walk.old / "var"),
                   "DATABASE_URL": f"sqlite:///{walk.old / 'var' / 'tiaojie.sqlite3'}", "TIAOJIE_ENV": "development"}
        for args in (["db", "migrate", "--quiet"], ["demo", "seed"]):
            done = subprocess.run([sys.executable, "-m", "app.cli", *args], env=old_env, cwd=ROOT,
                                  capture_output=True, text=True, timeout=120)
            assert done.returncode == 0, done.stderr
        (walk.old / "var" / "uploads" / "cards").mkdir(parents=True)
        (walk.old / "var" / "uploads" / "cards" / "logo.png").write_bytes(b"\x89PNG old upload")
        old_fingerprint = subprocess.run([sys.executable, "-m", "app.cli", "db", "fingerprint"], env=old_env,
                                         cwd=ROOT, capture_output=True, text=True, timeout=120).stdout

        for block in blocks:
            walk.run_block(block)
            if visitors is None and walk.caddy is not None:
                visitors = Visitors(f"https://localhost:{walk.caddy_port}", walk.caddy_root_cert)
                visitors.start()

        outputs = {command: out for _machine, command, out in walk.outputs}
        # Moved off the embedded default: every table as it was on the old machine.
        copied = outputs["tiaojie-admin db copy --from sqlite:////var/lib/tiaojie/embedded/var/tiaojie.sqlite3"]
        assert "every table's checksum matches" in copied
        assert "ready" in outputs["tiaojie-admin check"].splitlines()[-1]
        a = walk.hosts["host A"]
        assert (a.root / "var/lib/tiaojie/uploads/cards/logo.png").read_bytes() == b"\x89PNG old upload"
        # Served over the proxy, by both hosts' web servers.
        cert = walk.caddy_root_cert
        import ssl

        with httpx.Client(verify=ssl.create_default_context(cafile=str(cert)), timeout=10) as client:
            page = client.get(f"https://localhost:{walk.caddy_port}/o/chengdong/")
            assert page.status_code == 200 and "城东镇" in page.text
            assert client.get(f"https://localhost:{walk.caddy_port}/metrics").status_code == 404
            assert client.get(f"https://localhost:{walk.caddy_port}/readyz").status_code == 404
        # Metrics: request latency by route and the outbox depth.
        metrics = next(out for cmd, out in outputs.items() if "18001/metrics" in cmd)
        assert re.search(r'^tiaojie_http_request_duration_seconds_count\{method="GET",route="[^"]+"\} [1-9]', metrics, re.M)
        assert re.search(r"^tiaojie_outbox_depth \d", metrics, re.M)
        assert "tiaojie_worker_jobs_total" in next(out for cmd, out in outputs.items() if "9101/metrics" in cmd)
        # The backup restored into a new database with identical contents.
        restored = next(out for cmd, out in outputs.items() if cmd.startswith("tiaojie-admin restore"))
        assert "every table's row count and checksum match the backup" in restored
        archive = sorted((a.root / "var/backups/tiaojie").glob("tiaojie-backup-*.tar.gz"))[-1]
        with tarfile.open(archive) as tar:
            manifest = json.load(tar.extractfile("manifest.json"))
        drill = next(out for cmd, out in outputs.items() if cmd.startswith("tiaojie-admin db fingerprint --database"))
        assert {line.split("\t")[0]: (int(line.split("\t")[1]), line.split("\t")[2])
                for line in drill.strip().splitlines()} == {
                    name: (t["rows"], t["sha256"]) for name, t in manifest["tables"].items()}
        assert manifest["tables"]["tenant"]["rows"] == int(
            next(line for line in old_fingerprint.splitlines() if line.startswith("tenant\t")).split("\t")[1])
        # The upgrade restarted both web servers while visitors kept coming: none was turned away.
        assert visitors is not None
        visitors.done.set()
        visitors.join(timeout=30)
        assert len(visitors.answers) > 20 and not visitors.failures, visitors.failures[:10]
        print(f"{len(visitors.answers)} requests through the proxy during the walkthrough, none failed")
        # The proxy spreads visitors over both hosts, which measure them by route. Counters
        # start again with each restart, and Caddy sends a restarted server requests again
        # once its health check (every 2 s) has seen it ready: count visits until both did.
        pattern = re.compile(r'^tiaojie_http_request_duration_seconds_count\{method="GET",route="/o/\{slug\}"\} [1-9]',
                             re.M)
        ports = {"host A": a.web_port, "host B": walk.hosts["host B"].web_port}
        served: set[str] = set()
        deadline = time.time() + 20
        with httpx.Client(verify=ssl.create_default_context(cafile=str(cert)), timeout=10) as client:
            while served != set(ports) and time.time() < deadline:
                for _ in range(4):
                    assert client.get(f"https://localhost:{walk.caddy_port}/o/chengdong/").status_code == 200
                served = {name for name, port in ports.items()
                          if pattern.search(httpx.get(f"http://127.0.0.1:1{port}/metrics", timeout=10).text)}
                time.sleep(0.5)
        assert served == set(ports), f"only {served} served public pages through the proxy"
        print("interpreted:\n  " + "\n  ".join(walk.interpreted))
    finally:
        print("slowest steps:\n  " + "\n  ".join(f"{t:5.1f}s {c}" for t, c in sorted(walk.timings)[-8:]))
        if visitors is not None:
            visitors.done.set()
        walk.stop()
        smtp.stop()
        sms.stop()
        redis_proc.kill()
        for name in (walk.role, f"{walk.role}_drill"):
            db = PgDatabase(server)
            db.name = name
            db.drop()
        _drop_role(server, walk.role)


def _drop_role(server: str, role: str) -> None:
    from tests.ops.procs import run_async

    db = PgDatabase(server)
    run_async(db._admin(f'DROP ROLE IF EXISTS "{role}"'))


def test_every_guide_block_names_its_machine_and_every_command_is_known():
    """Fast check of the parser's view of the guide (the walkthrough above runs it)."""
    known = ("apt-get ", "useradd ", "install ", "tar ", "cd /opt/tiaojie && make setup", "sudo -u postgres ",
             "systemctl ", "tiaojie-admin ", "chown ", "if [ -d ", "curl ", "journalctl ", "git archive ")
    for block in guide_blocks(GUIDE.read_text()):
        assert set(block.machines) <= {"host A", "host B", "workstation", "old machine"}, block
        for command in block.commands:
            assert command.startswith(known), f"docs/deploy.md:{block.line}: {command}"
