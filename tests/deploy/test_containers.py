"""The Dockerfile and deploy/compose.yaml, checked statically (no container engine runs
here): every referenced file exists, and ports, volumes, environment, the health check and
Prometheus's scrape target agree with each other and with what ``tradecrew serve`` accepts."""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"


@dataclass
class Instruction:
    stage: int
    op: str
    args: str

    def exec_form(self) -> list[str]:
        """JSON (exec) form arguments, or the shell form split like a shell would."""
        text = self.args.strip()
        return json.loads(text) if text.startswith("[") else shlex.split(text)


def _dockerfile() -> list[Instruction]:
    lines, joined = (REPO / "Dockerfile").read_text().splitlines(), []
    buffer = ""
    for line in lines:
        if not buffer and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if line.lstrip().startswith("#"):
            continue  # a comment inside a continued instruction
        if line.rstrip().endswith("\\"):
            buffer += line.rstrip()[:-1] + " "
            continue
        joined.append(buffer + line)
        buffer = ""
    out, stage = [], -1
    for text in joined:
        op, _, args = text.strip().partition(" ")
        if op.upper() == "FROM":
            stage += 1
        out.append(Instruction(stage, op.upper(), args.strip()))
    return out


def _final(ins: list[Instruction], op: str) -> list[Instruction]:
    last = max(i.stage for i in ins)
    return [i for i in ins if i.stage == last and i.op == op]


def _compose() -> dict[str, Any]:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())


def _serve_port(command: list[str]) -> int:
    """The port of ``serve --http HOST:PORT`` in an entrypoint + command."""
    assert "serve" in command, command
    bind = command[command.index("--http") + 1]
    host, _, port = bind.rpartition(":")
    assert host == "0.0.0.0", "inside a container the desk must listen on every interface"
    return int(port)


def _healthz_port(test: list[str]) -> int:
    found = re.search(r"http://127\.0\.0\.1:(\d+)/healthz", " ".join(test))
    assert found, test
    return int(found.group(1))


def test_the_dockerfile_is_multi_stage_with_uv_and_a_locked_sync() -> None:
    ins = _dockerfile()
    froms = [i for i in ins if i.op == "FROM"]
    assert len(froms) >= 2 and all(" AS " in i.args.upper() for i in froms)
    runs = " ".join(i.args for i in ins if i.op == "RUN")
    assert "uv sync --frozen" in runs and "--no-dev" in runs
    assert any(i.op == "COPY" and "astral-sh/uv" in i.args for i in ins)
    # The runtime stage takes the environment from the build stage, not the build tools.
    final_copies = _final(ins, "COPY")
    assert final_copies and all(c.args.startswith("--from=build") for c in final_copies)


def test_every_file_the_dockerfile_copies_exists_and_is_not_ignored() -> None:
    ignored = {
        line.strip()
        for line in (REPO / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    for ins in _dockerfile():
        if ins.op != "COPY" or ins.args.startswith("--from"):
            continue
        *sources, _dest = ins.args.split()
        for source in sources:
            assert (REPO / source).exists(), source
            assert source not in ignored and source.rstrip("/") not in ignored, source
    assert {".venv", ".git", "*.db", ".env"} <= ignored


def test_the_build_stage_has_every_file_the_wheel_needs() -> None:
    """The project's wheel is built in the image: its readme and force-included files must
    be copied in before ``uv sync`` builds it."""
    import tomllib

    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    wheel = project["tool"]["hatch"]["build"]["targets"]["wheel"]
    needed = {project["project"]["readme"], "pyproject.toml", "uv.lock", *wheel["packages"]}
    needed |= set(wheel.get("force-include", {}))
    copied = set()
    for ins in _dockerfile():
        if ins.op == "COPY" and ins.stage == 0 and not ins.args.startswith("--from"):
            copied |= {s.rstrip("/") for s in ins.args.split()[:-1]}
    assert needed <= copied, needed - copied


def test_the_image_runs_as_an_unprivileged_user() -> None:
    ins = _dockerfile()
    (user,) = _final(ins, "USER")
    name = user.args.split(":")[0]
    assert name not in ("root", "0", "")
    created = " ".join(i.args for i in _final(ins, "RUN"))
    assert "useradd" in created and name in created


def test_the_health_check_probes_healthz_on_the_served_and_exposed_port() -> None:
    ins = _dockerfile()
    (entry,) = _final(ins, "ENTRYPOINT")
    (cmd,) = _final(ins, "CMD")
    port = _serve_port(entry.exec_form() + cmd.exec_form())
    (expose,) = _final(ins, "EXPOSE")
    assert expose.args.split() == [str(port)]
    (health,) = _final(ins, "HEALTHCHECK")
    probe = health.args[health.args.index("CMD") + 3 :]
    assert _healthz_port(json.loads(probe)) == port
    env = " ".join(i.args for i in _final(ins, "ENV"))
    # Binding 0.0.0.0 needs serve's explicit opt-in, or the container would not start.
    assert "TRADECREW_SERVE__ALLOW_NETWORK=true" in env
    assert "TRADECREW_HOME=/data" in env
    (volume,) = _final(ins, "VOLUME")
    assert json.loads(volume.args) == ["/data"]


def test_serve_accepts_the_container_bind_and_the_compose_settings() -> None:
    from tradecrew.config import Settings
    from tradecrew.serve.http import allowed_hosts, parse_bind

    desk = _compose()["services"]["desk"]
    env = {k: v for k, v in desk["environment"].items() if v is not None}
    env["TRADECREW_DATABASE_URL"] = re.sub(r"\$\{[^}]*\}", "pw", env["TRADECREW_DATABASE_URL"])
    settings = Settings.model_validate(
        {
            "home": env["TRADECREW_HOME"],
            "database_url": env["TRADECREW_DATABASE_URL"],
            "serve": {
                "allow_network": env["TRADECREW_SERVE__ALLOW_NETWORK"] == "true",
                "allowed_hosts": json.loads(env["TRADECREW_SERVE__ALLOWED_HOSTS"]),
            },
        }
    )
    host, port = parse_bind("0.0.0.0:8000", settings.serve)
    hosts = allowed_hosts(host, port, settings.serve)
    assert "desk:8000" in hosts  # what Prometheus sends as Host
    assert "127.0.0.1:8000" in hosts  # what the health check sends


def test_compose_has_the_desk_postgres_prometheus_and_grafana() -> None:
    services = _compose()["services"]
    assert set(services) == {"desk", "postgres", "prometheus", "grafana"}
    build = services["desk"]["build"]
    assert (DEPLOY / build["context"] / build["dockerfile"]).resolve() == REPO / "Dockerfile"


def test_every_bind_mount_exists_and_every_named_volume_is_declared() -> None:
    compose = _compose()
    declared = set(compose.get("volumes") or {})
    used = set()
    for name, service in compose["services"].items():
        for spec in service.get("volumes", []):
            source, target, *_mode = spec.split(":")
            assert target.startswith("/"), (name, spec)
            if source.startswith((".", "/")):
                assert (DEPLOY / source).exists(), (name, source)
            else:
                assert source in declared, (name, source)
                used.add(source)
    assert used == declared


def test_ports_are_published_on_loopback_and_match_the_services() -> None:
    services = _compose()["services"]
    for name, service in services.items():
        for spec in service.get("ports", []):
            assert spec.startswith("127.0.0.1:"), (name, spec)
    desk = services["desk"]
    port = _serve_port(["tradecrew", *desk["command"]])
    assert desk["ports"] == [f"127.0.0.1:{port}:{port}"]
    assert _healthz_port(desk["healthcheck"]["test"]) == port
    assert services["prometheus"]["ports"] == ["127.0.0.1:9090:9090"]
    assert services["grafana"]["ports"] == ["127.0.0.1:3000:3000"]


def test_the_desk_health_check_matches_the_images() -> None:
    (health,) = _final(_dockerfile(), "HEALTHCHECK")
    image_probe = json.loads(health.args[health.args.index("CMD") + 3 :])
    assert _compose()["services"]["desk"]["healthcheck"]["test"] == ["CMD", *image_probe]


def test_the_desk_reaches_postgres_by_its_service_name_and_credentials() -> None:
    services = _compose()["services"]
    raw = services["desk"]["environment"]["TRADECREW_DATABASE_URL"]
    url = urlsplit(re.sub(r"\$\{[^}]*\}", "password", raw))
    pg = services["postgres"]["environment"]
    assert url.scheme == "postgresql+psycopg"
    assert url.hostname == "postgres" and url.port == 5432
    assert url.username == pg["POSTGRES_USER"] and url.path == f"/{pg['POSTGRES_DB']}"
    assert services["desk"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert "healthcheck" in services["postgres"]


def test_no_secret_is_written_in_the_compose_file() -> None:
    compose = _compose()
    for name, service in compose["services"].items():
        for key, value in (service.get("environment") or {}).items():
            secretish = any(w in key for w in ("PASSWORD", "TOKEN", "KEY", "WEBHOOK", "CHAT_ID"))
            if secretish:
                assert value is None or re.fullmatch(r"\$\{\w+:\?[^}]*\}", value), (name, key)
    url = compose["services"]["desk"]["environment"]["TRADECREW_DATABASE_URL"]
    assert "${POSTGRES_PASSWORD:?" in url


def test_prometheus_scrapes_the_desk_service_on_its_port() -> None:
    services = _compose()["services"]
    port = _serve_port(["tradecrew", *services["desk"]["command"]])
    mount = next(v for v in services["prometheus"]["volumes"] if "prometheus.yml" in v)
    source, target, _ = mount.split(":")
    assert f"--config.file={target}" in services["prometheus"]["command"]
    config = yaml.safe_load((DEPLOY / source).read_text())
    (job,) = config["scrape_configs"]
    assert job.get("metrics_path", "/metrics") == "/metrics"
    (static,) = job["static_configs"]
    assert static["targets"] == [f"desk:{port}"]


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool is not installed")
def test_promtool_accepts_the_prometheus_config() -> None:
    run = subprocess.run(
        ["promtool", "check", "config", str(DEPLOY / "prometheus" / "prometheus.yml")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stdout + run.stderr


def test_grafana_is_provisioned_with_prometheus_and_the_dashboard() -> None:
    grafana = _compose()["services"]["grafana"]
    mounts = dict(v.split(":")[:2] for v in grafana["volumes"])
    provisioning = DEPLOY / next(s for s, t in mounts.items() if t == "/etc/grafana/provisioning")
    (source,) = yaml.safe_load((provisioning / "datasources" / "prometheus.yml").read_text())[
        "datasources"
    ]
    assert source["type"] == "prometheus" and source["url"] == "http://prometheus:9090"
    assert source["isDefault"] is True
    (provider,) = yaml.safe_load((provisioning / "dashboards" / "tradecrew.yml").read_text())[
        "providers"
    ]
    folder = provider["options"]["path"]
    dashboard_mount = next(t for s, t in mounts.items() if s.endswith("tradecrew.json"))
    assert Path(dashboard_mount).parent == Path(folder)
    dashboard = json.loads((DEPLOY / "grafana" / "tradecrew.json").read_text())
    assert dashboard["panels"]
    uids = {
        (p.get("datasource") or {}).get("uid")
        for p in dashboard["panels"]
        if isinstance(p.get("datasource"), dict)
    }
    variables = {f"${{{v['name']}}}" for v in dashboard.get("templating", {}).get("list", [])}
    assert uids <= {source["uid"], *variables}, uids
    home = grafana["environment"]["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
    assert home == dashboard_mount
