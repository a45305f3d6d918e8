"""What can be checked of the deployment here (no Docker engine runs on these machines): the compose
file's services, pins, health checks and wiring; the image's install steps; one source of versions."""

from __future__ import annotations

import re
import shutil
import subprocess
import tomllib

import pytest
import yaml

from catalog.settings import Settings
from tests.conftest import ROOT

COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
DOCKERFILE = (ROOT / "Dockerfile").read_text()


def test_services_pinned_with_health_checks() -> None:
    services = COMPOSE["services"]
    assert set(services) == {"proxy", "api", "worker", "postgres", "meilisearch", "z3950", "minio"}
    for name, service in services.items():
        assert "healthcheck" in service, name
        image = service.get("image", "")
        if name in ("api", "worker"):
            assert image == services["api"]["image"]  # the image built from this repository
            continue
        # a version, or MinIO's dated release
        assert re.search(r":(v?\d+\.\d+|RELEASE\.\d{4}-\d\d-\d\dT)", image), (
            f"{name} image is not pinned: {image}"
        )
        assert "latest" not in image
    assert services["api"]["depends_on"] == {
        "postgres": {"condition": "service_healthy"},
        "meilisearch": {"condition": "service_healthy"},
        "minio": {"condition": "service_healthy"},
    }
    meili = services["meilisearch"]["environment"]
    assert meili["MEILI_NO_ANALYTICS"] == "true" and "MEILI_MASTER_KEY" in meili
    assert all(service.get("volumes") for service in services.values())


def test_no_secret_in_the_compose_file_or_image() -> None:
    text = (ROOT / "docker-compose.yml").read_text()
    assert "change-me" not in text
    for variable in ("POSTGRES_PASSWORD", "MEILI_MASTER_KEY", "MINIO_ROOT_USER", "MINIO_ROOT_PASSWORD"):
        assert "${" + variable + ":?" in text  # required from the environment, never defaulted
    assert "ENV UNIONCAT_ADMIN_TOKEN" not in DOCKERFILE and "MEILI_MASTER_KEY" not in DOCKERFILE


def test_api_service_is_configured_for_postgresql_and_meilisearch() -> None:
    env = COMPOSE["services"]["api"]["environment"]
    assert env["UNIONCAT_DATABASE_URL"].startswith("postgresql://")
    assert env["UNIONCAT_MEILI_URL"] == "http://meilisearch:7700"


def test_api_replicas_behind_one_port_and_workers_apart_sharing_the_uploads() -> None:
    services = COMPOSE["services"]
    api, worker, proxy = services["api"], services["worker"], services["proxy"]
    assert api["deploy"]["replicas"] >= 2 and "ports" not in api  # reached through the proxy only
    # HTTP through the proxy only; Z39.50 (a protocol of its own) on its gateway's port
    assert [s for s in services if services[s].get("ports")] == ["proxy", "z3950"]
    assert services["z3950"]["ports"] == ["210:2100"]
    assert proxy["ports"] == ["8000:8000"] and "api:8000" in proxy["command"]
    assert worker["command"] == ["unioncat", "worker"] and worker["deploy"]["replicas"] >= 1
    assert "ports" not in worker
    for service in (api, worker):  # the same catalogue, search engine and uploads folder
        assert service["environment"] == api["environment"]
        assert "uploads:/var/lib/unioncat" in service["volumes"]
    assert api["environment"]["UNIONCAT_SERVE_WORKER"] == "false"  # jobs never run in an api replica
    assert api["environment"]["UNIONCAT_DATA_DIR"] == "/var/lib/unioncat"
    assert worker["depends_on"] == {"api": {"condition": "service_healthy"}}


def test_env_example_lists_every_setting() -> None:
    text = (ROOT / ".env.example").read_text()
    for name in Settings.model_fields:
        assert f"UNIONCAT_{name.upper()}=" in text, name


def test_image_installs_what_make_and_ci_install() -> None:
    assert re.search(r"^FROM python:3\.11\.\d+-slim", DOCKERFILE, re.MULTILINE)
    assert "pip install -c constraints.txt ." in DOCKERFILE
    assert re.search(r"^USER unioncat$", DOCKERFILE, re.MULTILINE)
    assert "-c constraints.txt" in (ROOT / "Makefile").read_text()
    pins = {
        line.split("==")[0].lower().replace("_", "-")
        for line in (ROOT / "constraints.txt").read_text().splitlines()
        if "==" in line
    }
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = project["dependencies"] + project["optional-dependencies"]["test"]
    for requirement in wanted:
        name = re.split(r"[<>=\[ ]", requirement, maxsplit=1)[0].lower().replace("_", "-")
        assert name in pins, f"{name} is not pinned in constraints.txt"


@pytest.mark.skipif(shutil.which("docker") is None, reason="no docker client")
def test_compose_config_validates_when_the_plugin_is_present() -> None:
    probe = subprocess.run(["docker", "compose", "version"], capture_output=True, text=True)
    if probe.returncode != 0:
        pytest.skip("the docker compose plugin is not installed here")
    result = subprocess.run(
        ["docker", "compose", "-f", str(ROOT / "docker-compose.yml"), "config", "--quiet"],
        capture_output=True,
        text=True,
        env={
            "POSTGRES_PASSWORD": "x",
            "MEILI_MASTER_KEY": "y" * 16,
            "MINIO_ROOT_USER": "u",
            "MINIO_ROOT_PASSWORD": "p" * 8,
            "PATH": "/usr/bin:/bin:/usr/local/bin",
        },
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
