"""The API's contract: what every JSON route answers is exactly its declared model, every request
body refuses wrong types with a 422 problem document, and the OpenAPI document names a model for
every answer and every error a route can give."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from catalog import db
from catalog.settings import Settings
from harvest.ingest import ingest_file
from tests.conftest import KOHA, VIETNAMESE, fixture

ADMIN = {"Authorization": "Bearer admin-secret-for-contract-tests"}
PROBLEM = "#/components/schemas/ProblemDetails"


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    from api.app import create_app

    tmp = tmp_path_factory.mktemp("contract")
    settings = Settings(
        data_dir=tmp / "data",
        database_url=f"sqlite:///{tmp / 'data' / 'unioncat.db'}",
        admin_token=ADMIN["Authorization"].removeprefix("Bearer "),
    )
    engine = db.make_engine(settings.resolved_database_url)
    db.upgrade(engine)
    app = create_app(engine, settings, start_worker=False)
    with TestClient(app) as test_client:
        for code, extra in (("VNU-LIC", {}), ("TNU-LRC", {"holdings_profile": "koha"})):
            body = {"code": code, "name_vi": f"Thư viện {code}", **extra}
            assert test_client.post("/api/v1/libraries", json=body, headers=ADMIN).status_code == 201
        ingest_file(engine, "VNU-LIC", VIETNAMESE)
        ingest_file(engine, "TNU-LRC", KOHA)
        ingest_file(engine, "VNU-LIC", fixture("bad_records.mrc"))  # a job that rejects records
        yield test_client
    engine.dispose()


def _exactly(model: Any, data: Any) -> None:
    """``data`` is valid for ``model`` and has no key the model does not declare (so the answer's
    model neither adds nor drops anything)."""
    if isinstance(data, list):
        for item in data:
            _exactly(model, item)
        return
    parsed = model.model_validate(data)
    assert parsed.model_dump(mode="json") == data


def _json(client: TestClient, url: str, **kwargs: Any) -> Any:
    response = client.get(url, **kwargs)
    assert response.status_code == 200, response.text
    return response.json()


def test_every_json_answer_is_exactly_its_model(client: TestClient) -> None:
    from api.schemas import holdings, jobs, libraries, records, search, service

    found = _json(client, "/api/v1/search", params={"q": "viet nam", "lang": "en"})
    assert found["hits"] and all(found["facets"].values())
    _exactly(search.SearchAnswer, found)
    hit = found["hits"][0]
    union = _json(client, hit["url"])
    assert union["members"] and union["holdings"]
    _exactly(records.UnionRecordAnswer, union)
    _exactly(records.Explanation, _json(client, f"{hit['url']}/explain"))
    member = union["members"][0]
    source = _json(client, member["url"])
    _exactly(records.SourceRecordAnswer, source)
    koha = _json(client, "/api/v1/search", params={"library": "TNU-LRC", "per_page": 1})["hits"][0]
    held = _json(client, "/api/v1/holdings", params={"id": koha["id"], "all_editions": True})
    assert held["records"][0]["libraries"][0]["items"]
    _exactly(holdings.HoldingsAnswer, held)
    isbn = next(h["isbns"][0] for h in found["hits"] if h["isbns"])
    _exactly(holdings.HoldingsAnswer, _json(client, "/api/v1/holdings", params={"isbn": isbn}))
    _exactly(libraries.LibraryInfo, _json(client, "/api/v1/libraries"))
    _exactly(libraries.LibraryInfo, _json(client, "/api/v1/libraries/TNU-LRC"))
    _exactly(libraries.Token, _json(client, "/api/v1/tokens", headers=ADMIN))
    history = _json(client, "/api/v1/libraries/VNU-LIC/jobs", headers=ADMIN)
    _exactly(jobs.Job, history)
    rejecting = next(j for j in history if j["rejected"])
    _exactly(jobs.JobStatus, _json(client, f"/api/v1/jobs/{rejecting['job_id']}", headers=ADMIN))
    rejected = _json(client, f"/api/v1/jobs/{rejecting['job_id']}/rejections", headers=ADMIN)
    assert rejected["rejections"]
    _exactly(jobs.Rejections, rejected)
    _exactly(service.Health, _json(client, "/health"))


def test_admin_answers_are_exactly_their_models(client: TestClient) -> None:
    from api.schemas import jobs, libraries

    created = client.post("/api/v1/libraries", json={"code": "HUST-LIB", "name": "Bách khoa"}, headers=ADMIN)
    assert created.status_code == 201 and created.json()["name_vi"] == "Bách khoa"
    _exactly(libraries.LibrarySettings, created.json())
    changed = client.patch(
        "/api/v1/libraries/HUST-LIB", json={"city": "Hà Nội", "harvest_interval_hours": 24}, headers=ADMIN
    )
    assert changed.status_code == 200 and changed.json()["city"] == "Hà Nội"
    assert changed.json()["name_vi"] == "Bách khoa"  # what the change left out stays
    _exactly(libraries.LibrarySettings, changed.json())
    token = client.post("/api/v1/libraries/HUST-LIB/tokens", headers=ADMIN)
    assert token.status_code == 201
    _exactly(libraries.NewToken, token.json())
    revoked = client.delete(f"/api/v1/tokens/{token.json()['id']}", headers=ADMIN)
    _exactly(libraries.Token, revoked.json())
    reindex = client.post("/api/v1/admin/reindex", headers=ADMIN)
    assert reindex.status_code == 202
    _exactly(jobs.JobQueued, reindex.json())


def _problem(response: Any, status: int = 422) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status and body["title"] and body["detail"]
    assert "Traceback" not in response.text
    return body


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ({"code": 5, "name_vi": "Thư viện"}, "body.code"),
        ({"code": "NEW-LIB", "name_vi": ["Thư viện"]}, "body.name_vi"),
        ({"code": "NEW-LIB", "name_vi": "x", "active": "yes"}, "body.active"),
        ({"code": "NEW-LIB", "name_vi": "x", "harvest_interval_hours": "12"}, "body.harvest_interval_hours"),
        ({"code": "NEW-LIB", "name_vi": "x", "harvest_interval_hours": 0}, "body.harvest_interval_hours"),
        ({"code": "NEW-LIB", "name_vi": "x", "holdings_config": "koha"}, "body.holdings_config"),
        ({"code": "NEW-LIB", "name_vi": "x", "colour": "blue"}, "body.colour"),
        ({"code": "NEW-LIB"}, "body"),
        (["NEW-LIB", "x"], "body"),
        ("NEW-LIB", "body"),
    ],
)
def test_a_new_library_of_wrong_types_is_refused(client: TestClient, body: Any, where: str) -> None:
    problem = _problem(client.post("/api/v1/libraries", json=body, headers=ADMIN))
    assert any(e["location"] == where for e in problem["errors"]), problem
    assert client.get("/api/v1/libraries/NEW-LIB").status_code == 404


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ({"active": "no"}, "body.active"),
        ({"city": 12}, "body.city"),
        ({"website": None, "region": {"name": "north"}}, "body.region"),
        ({"oai_set": ["a", "b"]}, "body.oai_set"),
        ({"harvest_interval_hours": 1.5}, "body.harvest_interval_hours"),
        ({"code": "OTHER"}, "body.code"),  # a library's code never changes
        ([{"city": "Huế"}], "body"),
    ],
)
def test_a_library_change_of_wrong_types_is_refused(client: TestClient, body: Any, where: str) -> None:
    before = _json(client, "/api/v1/libraries/VNU-LIC")
    problem = _problem(client.patch("/api/v1/libraries/VNU-LIC", json=body, headers=ADMIN))
    assert any(e["location"] == where for e in problem["errors"]), problem
    assert _json(client, "/api/v1/libraries/VNU-LIC") == before


def test_a_body_that_is_not_json_is_refused(client: TestClient) -> None:
    headers = {**ADMIN, "content-type": "application/json"}
    _problem(client.post("/api/v1/libraries", content=b"{not json", headers=headers))
    _problem(client.patch("/api/v1/libraries/VNU-LIC", content=b"\xff\xfe", headers=headers))


@pytest.mark.parametrize(
    "params",
    [
        {"decade": "nineties"},
        {"decade": "99999"},
        {"has_digital": "perhaps"},
        {"year_from": "soon"},
        {"page": "first"},
        {"facets": "some"},
        {"library": [f"L{i}" for i in range(21)]},
        {"sort": "sideways"},
        {"lang": "fr"},
    ],
)
def test_search_parameters_of_wrong_types_are_refused(client: TestClient, params: dict[str, Any]) -> None:
    problem = _problem(client.get("/api/v1/search", params=params))
    assert any(e["location"].startswith("query.") for e in problem["errors"]), problem


# ---------------------------------------------------------------------------------- OpenAPI
def _operations(spec: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            yield path, method, operation


def test_the_openapi_document_names_a_model_for_every_answer_and_error(client: TestClient) -> None:
    spec = client.get("/api/v1/openapi.json").json()
    schemas = spec["components"]["schemas"]
    assert "HTTPValidationError" not in schemas and "ProblemDetails" in schemas
    json_routes = 0
    for path, method, operation in _operations(spec):
        responses = operation["responses"]
        success = [status for status in responses if status.startswith("2")]
        assert len(success) == 1, (method, path)
        content = responses[success[0]].get("content", {})
        if "application/json" in content and len(content) == 1:  # a JSON answer: its model
            json_routes += 1
            schema = content["application/json"].get("schema", {})
            ref = schema.get("$ref") or schema.get("items", {}).get("$ref")
            assert ref and ref.split("/")[-1] in schemas, (method, path, schema)
        for status, response in responses.items():
            if status[0] in "45" and path != "/health":  # health answers 503 with its own body
                problem = response["content"]["application/problem+json"]["schema"]
                assert problem == {"$ref": PROBLEM}, (method, path, status)
        if operation.get("parameters") or "requestBody" in operation:
            assert "422" in responses, (method, path)
        secured = operation.get("tags", [None])[0] in ("admin", "jobs", "uploads")
        if secured:
            assert {"401", "403"} <= set(responses), (method, path)
    assert json_routes >= 19
    # the request bodies are documented by their models
    create = spec["paths"]["/api/v1/libraries"]["post"]["requestBody"]["content"]["application/json"]
    assert create["schema"] == {"$ref": "#/components/schemas/LibraryCreate"}
    assert schemas["LibraryCreate"]["additionalProperties"] is False
    change = spec["paths"]["/api/v1/libraries/{code}"]["patch"]["requestBody"]["content"]["application/json"]
    assert change["schema"] == {"$ref": "#/components/schemas/LibraryChange"}
    search = {p["name"] for p in spec["paths"]["/api/v1/search"]["get"]["parameters"]}
    from catalog.search.facets import FILTERS

    assert {f.name for f in FILTERS} <= search


def test_the_library_models_know_every_setting_a_library_has() -> None:
    from api.schemas.libraries import LibraryChange, LibraryCreate
    from catalog.libraries import _EDITABLE

    assert set(LibraryChange.model_fields) == set(_EDITABLE)
    assert set(LibraryCreate.model_fields) == {*_EDITABLE, "code", "name"}


def test_app_py_only_composes() -> None:
    source = Path(__file__).resolve().parents[2] / "api" / "app.py"
    assert len(source.read_text().splitlines()) <= 200


def test_the_search_page_asks_what_the_api_asks(client: TestClient) -> None:
    """One builder: the page's search, its filters included, is the API's (a lower-case library
    code and a decade that is not a number, typed into the address, are forgiven on the page)."""
    from api.labels import number

    asked = {"q": "viet nam", "library": "VNU-LIC", "decade": "1990"}
    total = _json(client, "/api/v1/search", params=asked)["total"]
    assert total
    page = client.get(
        "/", params={**asked, "library": "vnu-lic", "decade": ["1990", "nineties"], "lang": "en"}
    )
    assert page.status_code == 200
    assert f"<strong>{number(total, 'en')}</strong>" in page.text
    too_many = client.get("/", params={"q": "viet", "subject": [f"s{i}" for i in range(21)], "lang": "en"})
    assert too_many.status_code == 200 and '<p class="error">' in too_many.text
