"""Z39.50 through Index Data's Simple2ZOOM gateway (z3950/simple2zoom.xml): the configuration's form
(its schema when the package is installed, and every Bib-1 mapping on an index the SRU server
has), and the compose service that runs it."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from lxml import etree

from api.sru.schemas import SCHEMAS
from api.sru.translate import index_of
from tests.conftest import ROOT

CONFIG = ROOT / "z3950" / "simple2zoom.xml"
SCHEMA = Path("/usr/share/doc/libnet-z3950-simple2zoom-perl/examples/simple2zoom.rng")
# The Bib-1 use attributes Koha's Z39.50 search sends (C4::Breeding), and ours for them.
KOHA_USES = {"4": "dc.title", "1003": "dc.creator", "21": "dc.subject", "7": "bath.isbn", "8": "bath.issn"}


def test_the_gateway_config_maps_bib1_onto_the_sru_indexes() -> None:
    config = etree.parse(str(CONFIG))
    [database] = config.findall("database")
    assert database.get("name") == "unioncat"
    assert database.findtext("zurl") == "http://api:8000/sru"
    assert database.findtext("option[@name='sru']") == "get"  # not SRW (SOAP): /sru speaks GET and POST
    assert database.findtext("search/querytype") == "cql"
    maps = {m.get("use"): m.findtext("index") for m in database.iterfind("search/map")}
    for use, index in maps.items():
        assert index_of(index, ()).name == index, use  # an index the SRU server has, by its own name
    assert KOHA_USES.items() <= maps.items()
    [schema] = database.findall("schema")
    assert schema.get("oid") == "1.2.840.10003.5.10"  # MARC 21 (USMARC) to Z39.50 clients
    assert schema.get("sru") in {s.identifier for s in SCHEMAS}


@pytest.mark.skipif(not SCHEMA.exists(), reason="Debian's libnet-z3950-simple2zoom-perl is not installed")
def test_the_gateway_config_is_valid_for_simple2zoom() -> None:
    relaxng = etree.RelaxNG(etree.parse(str(SCHEMA)))
    assert relaxng.validate(etree.parse(str(CONFIG))), relaxng.error_log


def test_the_compose_service_runs_the_gateway_on_the_config() -> None:
    service = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]["z3950"]
    assert service["build"] == "z3950" and service["ports"] == ["210:2100"]
    assert "./z3950/simple2zoom.xml:/etc/simple2zoom/simple2zoom.xml:ro" in service["volumes"]
    assert service["depends_on"] == {"api": {"condition": "service_healthy"}}
    dockerfile = (ROOT / "z3950" / "Dockerfile").read_text()
    assert "libnet-z3950-simple2zoom-perl" in dockerfile and "@:2100" in dockerfile
    assert "/etc/simple2zoom/simple2zoom.xml" in dockerfile
