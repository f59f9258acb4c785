"""The OpenAPI contract lists what the server really answers (issue 10, item 14); the
fuzz test (tests/integration/test_fuzz.py) holds the server to it."""

from __future__ import annotations

from fastapi.testclient import TestClient

ERROR = {"$ref": "#/components/schemas/ErrorBody"}


def test_every_operation_documents_its_errors_with_the_error_body(client: TestClient) -> None:
    schema = client.get("/v1/openapi.json").json()
    assert set(schema["components"]["securitySchemes"]) == {"bearer", "keystone"}
    operations = [
        (path, method, op) for path, ops in schema["paths"].items() for method, op in ops.items()
    ]
    assert len(operations) > 60
    for path, method, op in operations:
        responses = op["responses"]
        if path == "/healthz":
            continue
        for status in ("401", "413", "422"):
            assert responses[status]["content"]["application/json"]["schema"] == ERROR, (
                path,
                method,
                status,
            )
        if path != "/v1/auth/login":
            assert op["security"] == [{"bearer": []}, {"keystone": []}]
            assert "503" in responses
        names = {p["name"].lower() for p in op.get("parameters", [])}
        assert "authorization" not in names and "x-auth-token" not in names
        if method in ("patch", "delete") and "if-match" in names:
            assert "412" in responses
        if method in ("post", "put", "patch", "delete"):
            assert "409" in responses
    events = schema["paths"]["/v1/events"]["get"]["responses"]
    assert set(events["200"]["content"]) == {"application/json", "text/event-stream"}
    assert "429" in events
    rib = schema["paths"]["/v1/routers/{router_key}/rib"]["get"]["responses"]
    assert {"429", "502", "504"} <= set(rib)


def test_the_schema_carries_the_validation_rules(client: TestClient) -> None:
    schemas = client.get("/v1/openapi.json").json()["components"]["schemas"]
    router = schemas["RouterCreate"]["properties"]
    assert (router["asn"]["minimum"], router["asn"]["maximum"]) == (1, 4294967295)
    assert router["name"]["pattern"].startswith("^[A-Za-z0-9]")
    assert router["router_id"]["format"] == "ipv4"
    assert router["api_address"]["maxLength"] == 270
    neighbor = schemas["NeighborCreate"]["properties"]
    assert {s["format"] for s in neighbor["address"]["anyOf"]} == {"ipv4", "ipv6"}
    assert neighbor["hold_time"]["maximum"] == 65535
    assert schemas["FleetFile"]["properties"]["routers"]["maxItems"] == 1000


def test_resources_with_conditions_share_one_condition_schema(client: TestClient) -> None:
    schemas = client.get("/v1/openapi.json").json()["components"]["schemas"]
    kinds = (
        "RouterPublic",
        "NeighborPublic",
        "DefinedSetPublic",
        "PolicyPublic",
        "AttachmentPublic",
        "AnnouncementPublic",
    )
    for kind in kinds:
        conditions = schemas[kind]["properties"]["conditions"]
        assert conditions["items"] == {"$ref": "#/components/schemas/ConditionPublic"}, kind
        assert "conditions" not in schemas[kind].get("required", []), kind
