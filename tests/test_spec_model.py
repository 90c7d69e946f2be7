"""The spec model's readers (src/apicontract/specs/): security schemes, fixture credentials, webhooks,
operation inputs and error answers, each on small hand-made documents and on the four real bundles."""

from __future__ import annotations

import base64

import pytest

from apicontract.specs.fixtures import (
    Credentials,
    account_name,
    credentials,
    delivery_credentials,
    delivery_endpoint,
    first_credentials,
)
from apicontract.specs.inputs import (
    DEFAULT_BODY_BYTES,
    api_body_limit,
    body_fields,
    body_limits,
    operation_parameters,
    parameter_code,
    path_pattern,
    property_code,
    request_body,
)
from apicontract.specs.security import (
    API_KEY,
    BASIC,
    UNSUPPORTED,
    Scheme,
    basic_header,
    credential_kind,
    credential_option,
    decode_basic,
    operation_schemes,
    request_schemes,
    security_schemes,
)
from apicontract.specs.walk import error_code, error_examples, inline, iter_operations, response_codes
from apicontract.specs.webhooks import auth_headers, auth_kind, webhook_operations, webhooks
from apicontract.specs.yamlfile import load

from projectkit import APIS

BASIC_NODE = {"type": "http", "scheme": "basic", "description": "Key and secret."}
HEADER_NODE = {"type": "apiKey", "in": "header", "name": "X-Authorization", "x-value-prefix": "AccessKey "}
QUERY_NODE = {"type": "apiKey", "in": "query", "name": "X-Authorization", "x-value-prefix": "AccessKey "}
RAW_NODE = {"type": "apiKey", "in": "header", "name": "Authorization"}


def _asgi(headers: dict[str, str]) -> dict[bytes, bytes]:
    return {name.lower().encode(): value.encode("latin-1") for name, value in headers.items()}


# --- security schemes -------------------------------------------------------------------------------------


def test_a_scheme_reads_its_kind_carrier_and_prefix():
    basic = Scheme.of("basicAuth", BASIC_NODE)
    assert (basic.kind, basic.location, basic.carrier, basic.prefix) == (BASIC, "header", "Authorization", "")
    assert basic.description == "Key and secret." and basic.carried_as == "basic"
    header = Scheme.of("accessKeyHeader", HEADER_NODE)
    assert (header.kind, header.location, header.carrier, header.prefix) == (
        API_KEY,
        "header",
        "X-Authorization",
        "AccessKey ",
    )
    assert Scheme.of("q", QUERY_NODE).carried_as == "query"
    assert Scheme.of("BASIC", {"type": "http", "scheme": "Basic"}).kind == BASIC  # the scheme name is case-free


@pytest.mark.parametrize(
    "node",
    [{"type": "http", "scheme": "bearer"}, {"type": "apiKey", "in": "cookie", "name": "k"}, {"type": "oauth2"}, None],
)
def test_schemes_no_reader_handles_are_marked_unsupported(node):
    scheme = Scheme.of("other", node)
    assert scheme.kind == UNSUPPORTED and not scheme.supported
    assert scheme.encode(Credentials(("u", "p"), "k")) is None
    assert scheme.decode({b"authorization": b"Bearer x"}, [("k", "v")]) is None


def test_a_scheme_still_answers_as_the_spec_object():
    assert Scheme.of("q", QUERY_NODE).get("in") == "query"
    assert Scheme.of("q", QUERY_NODE).get("missing", "default") == "default"


def test_encode_puts_credentials_where_the_scheme_says():
    pair = Credentials(basic=("user", "sécret"))
    assert Scheme.of("b", BASIC_NODE).encode(pair).headers == {"Authorization": basic_header("user", "sécret")}
    key = Credentials(key="d8ac")
    assert Scheme.of("h", HEADER_NODE).encode(key).headers == {"X-Authorization": "AccessKey d8ac"}
    carried = Scheme.of("q", QUERY_NODE).encode(key)
    assert carried.query == {"X-Authorization": "AccessKey d8ac"} and carried.headers == {}
    assert Scheme.of("r", RAW_NODE).encode(key).headers == {"Authorization": "d8ac"}


def test_encode_refuses_credentials_of_another_kind():
    assert Scheme.of("b", BASIC_NODE).encode(Credentials(key="k")) is None
    assert Scheme.of("h", HEADER_NODE).encode(Credentials(basic=("u", "p"))) is None
    assert Scheme.of("h", HEADER_NODE).encode(Credentials()) is None


def test_basic_header_is_utf8_base64_of_user_colon_password():
    assert basic_header("user", "sécret") == "Basic " + base64.b64encode("user:sécret".encode()).decode()
    assert decode_basic(basic_header("user", "pa:ss")) == ("user", "pa:ss")  # the first colon splits
    assert decode_basic("  basic   " + basic_header("u", "p").split(" ")[1] + "  ") == ("u", "p")


@pytest.mark.parametrize(
    "value",
    [
        "Bearer " + base64.b64encode(b"u:p").decode(),  # another scheme
        "Basic !!!",  # not base64
        "Basic " + base64.b64encode(b"no-colon").decode(),
        "Basic " + base64.b64encode(b"\xff:\xfe").decode(),  # not UTF-8
        base64.b64encode(b"u:p").decode(),  # no scheme word
    ],
)
def test_decode_basic_refuses_what_is_not_a_basic_pair(value):
    assert decode_basic(value) is None


def test_encode_and_decode_round_trip():
    for node, sent in ((BASIC_NODE, Credentials(basic=("u", "p"))), (HEADER_NODE, Credentials(key="tok"))):
        scheme = Scheme.of("s", node)
        headers = _asgi(scheme.encode(sent).headers)
        assert scheme.present(headers, []) and scheme.decode(headers, []) == sent
    query = Scheme.of("q", QUERY_NODE)
    carried = list(query.encode(Credentials(key="tok")).query.items())
    assert query.present({}, carried) and query.decode({}, carried) == Credentials(key="tok")


def test_decode_gives_none_for_an_absent_or_malformed_value():
    header, query = Scheme.of("h", HEADER_NODE), Scheme.of("q", QUERY_NODE)
    assert not header.present({}, []) and header.decode({}, []) is None
    assert header.decode({b"x-authorization": b"tok"}, []) is None  # the prefix is missing
    assert header.decode({b"x-authorization": b"AccessKey "}, []) == Credentials(key="")
    twice = [("X-Authorization", "AccessKey a"), ("X-Authorization", "AccessKey a")]
    assert query.present({}, twice) and query.decode({}, twice) is None  # never one of two by their order
    assert not query.present({}, [("other", "AccessKey a")])


def test_request_and_operation_schemes_follow_security_in_order():
    doc = {
        "security": [{"head": []}, {"query": []}],
        "components": {"securitySchemes": {"query": QUERY_NODE, "head": HEADER_NODE, "hook": BASIC_NODE}},
    }
    assert list(security_schemes(doc)) == ["query", "head", "hook"]
    assert [s.name for s in request_schemes(doc)] == ["head", "query"]
    assert [s.name for s in operation_schemes(doc, {"security": [{"hook": []}, {}]})] == ["hook"]
    assert [s.name for s in operation_schemes(doc, {})] == ["head", "query"]  # an operation inherits the API's
    assert operation_schemes(doc, {}, inherit=False) == []
    assert operation_schemes(doc, {"security": [{"unknown": []}]}) == []


@pytest.mark.parametrize("api", APIS)
def test_every_request_scheme_of_the_bundles_is_supported(api, bundles):
    schemes = request_schemes(bundles[api])
    assert schemes and all(s.supported for s in schemes)


# --- fixture credentials ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "node, expected",
    [
        ({"basic": {"key": "k", "secret": "s"}}, Credentials(basic=("k", "s"))),
        ({"basic": {"username": "u", "password": "p"}}, Credentials(basic=("u", "p"))),
        ({"api_key": "YOUR-API-KEY"}, Credentials(key="YOUR-API-KEY")),
        ({"access_key": "d8ac"}, Credentials(key="d8ac")),
        ({"url": "http://x", "basic": {"username": "u", "password": "p"}}, Credentials(basic=("u", "p"))),
        ({"basic": {"key": "k"}}, Credentials()),  # half a pair is none
        ({}, Credentials()),
        (None, Credentials()),
    ],
)
def test_credentials_read_every_shape_the_fixtures_use(node, expected):
    assert Credentials.read(node) == expected
    assert bool(Credentials.read(node)) == (expected != Credentials())


def test_an_account_has_a_name_credentials_and_a_delivery_configuration():
    entry = {
        "id": "demo",
        "credentials": {"api_key": "K"},
        "webhook": {"url": "http://hooks", "api_key": "W"},
    }
    assert account_name(entry, 3) == "demo"
    assert account_name({"name": "one", "id": "x"}, 0) == "one" and account_name({}, 2) == "account-2"
    assert credentials(entry) == Credentials(key="K")
    assert delivery_credentials(entry) == Credentials(key="W")
    assert delivery_endpoint(entry) == "http://hooks"
    callback = {"callback": {"url": None, "basic": {"username": "u", "password": "p"}}}
    assert delivery_credentials(callback) == Credentials(basic=("u", "p")) and delivery_endpoint(callback) is None
    assert delivery_credentials({"webhook": {}, "callback": {"api_key": "C"}}) == Credentials(key="C")
    assert first_credentials({"accounts": [entry, {}]}) == Credentials(key="K")
    assert first_credentials({}) == Credentials()


@pytest.mark.parametrize("api", APIS)
def test_every_fixture_account_can_call_its_api(api, where, bundles):
    """Each account's credentials fit one of the API's schemes, and decode back to themselves."""
    fixtures = load(where.spec / api / "fixtures.yaml")
    for entry in fixtures["accounts"]:
        held = credentials(entry)
        fitting = [s for s in request_schemes(bundles[api]) if s.encode(held)]
        assert fitting, account_name(entry, 0)
        carried = fitting[0].encode(held)
        assert fitting[0].decode(_asgi(carried.headers), list(carried.query.items())) == held


# --- webhooks ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("api", APIS)
def test_webhook_operations_read_delivery_auth_and_payload(api, where, bundles):
    declared = webhook_operations(bundles[api])
    full = webhooks(where, api, bundles[api])
    assert list(declared) == list(full) == list(bundles[api].get("webhooks") or {})
    for name, hook in declared.items():
        delivery = bundles[api]["webhooks"][name][hook.method.lower()]["x-delivery"]
        assert (hook.path, hook.timeout) == (delivery["path"], float(delivery["timeout_seconds"]))
        assert hook.delivery is not None and hook.delivery.parts[-1] == "x-delivery"
        assert hook.schemes and all(s.supported for s in hook.schemes)
        assert hook.payload in bundles[api]["components"]["schemas"]
        assert full[name].schema_file is not None and full[name].schema_file.name.startswith(name)
        assert full[name].examples, f"{name}: the spec has samples of every payload"
        assert all(full[name].problems(value) == [] for value in full[name].examples)


def test_webhook_auth_follows_the_first_scheme_the_credentials_fit(where, bundles):
    location = webhook_operations(bundles["sim-v1"])["location_update"]
    assert auth_kind(location) == "basic"
    assert auth_headers(location, ("u", "p")) == {"Authorization": basic_header("u", "p")}
    assert auth_headers(location, None, "key") == {}  # a key does not fit HTTP Basic
    usage = webhook_operations(bundles["sim-v3"])["usage"]
    assert auth_kind(usage) == "key" and auth_headers(usage, None, "K") == {"Authorization": "K"}
    assert usage.headers_for(Credentials(key="K")) == {"Authorization": "K"}
    callback = webhook_operations(bundles["cpaas"])["endCallback"]
    assert callback.auth_optional and callback.in_query and callback.content_type is None
    assert callback.url("http://cb/x?a=1") == "http://cb/x?a=1"  # an empty path: the callback URL itself
    assert usage.url("http://hooks/base/?t=1") == "http://hooks/base/usage?t=1"


# --- operations: parameters, body fields, limits, error answers --------------------------------------------

DOC = {
    "info": {"x-max-body-bytes": 100, "x-error-code-field": "message"},
    "paths": {
        "/sim/{uuid}": {
            "parameters": [{"$ref": "#/components/parameters/Uuid"}],
            "post": {
                "parameters": [{"name": "q", "in": "query", "schema": {"$ref": "#/components/schemas/Q"}}],
                "requestBody": {
                    "x-max-body-bytes": 300,
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Body"}},
                        "multipart/form-data": {"x-max-body-bytes": 1000, "schema": {"type": "object"}},
                    },
                },
                "responses": {
                    "400": {
                        "content": {
                            "application/json": {
                                "schema": {"properties": {"message": {"enum": ["uuid_invalid", "body_invalid"]}}},
                                "examples": {
                                    "uuid_invalid": {"summary": "bad uuid", "value": {"message": "uuid_invalid"}},
                                    "body_invalid": {"$ref": "#/components/examples/BodyInvalid"},
                                },
                            }
                        }
                    }
                },
            },
            "get": {},
        }
    },
    "components": {
        "parameters": {
            "Uuid": {"name": "uuid", "in": "path", "required": True, "x-error-code": "uuid_invalid", "schema": {}}
        },
        "schemas": {
            "Q": {"type": "integer", "x-error-code": "q_invalid"},
            "Body": {
                "type": "object",
                "x-error-code": "body_invalid",
                "required": ["voice"],
                "properties": {
                    "voice": {"$ref": "#/components/schemas/Flag", "x-error-code": "voice_invalid"},
                    "note": {"type": "string"},
                },
            },
            "Flag": {"type": "boolean", "default": True},
        },
        "examples": {"BodyInvalid": {"summary": "bad body", "value": {"message": "body_invalid"}}},
    },
}


def _op(method: str):
    return next(op for op in iter_operations(DOC) if op.method == method)


def test_parameters_carry_their_own_code_else_their_schemas():
    found = {p.name: p for p in operation_parameters(DOC, _op("post"))}
    assert (found["uuid"].location, found["uuid"].required, found["uuid"].code) == ("path", True, "uuid_invalid")
    assert found["uuid"].parts == ("components", "parameters", "Uuid")
    assert (found["q"].location, found["q"].required, found["q"].code) == ("query", False, "q_invalid")
    assert error_code({"x-error-code": "x"}) == "x" and error_code({}) is None and error_code(None) is None


def test_codes_of_a_parameter_and_a_body_property_fall_back_as_the_rulings_say():
    assert parameter_code(DOC, {"name": "a", "x-error-code": "own", "schema": {"x-error-code": "s"}}) == "own"
    assert parameter_code(DOC, {"name": "a", "schema": {"x-error-code": "s"}}) == "s"
    assert parameter_code(DOC, {"name": "a"}) is None and parameter_code(DOC, None) is None
    body = {"x-error-code": "body_invalid", "properties": {"voice": {"x-error-code": "voice_invalid"}, "n": {}}}
    assert property_code(body, "voice") == "voice_invalid"
    assert property_code(body, "n") == property_code(body, "unknown") == "body_invalid"
    assert property_code(None, "voice") is None


@pytest.mark.parametrize(
    ("api", "kind", "option"),
    [
        ("sim-v1", "basic", "--basic"),
        ("sim-v2", "api_key", "--api-key"),
        ("sim-v3", "api_key", "--api-key"),
        ("cpaas", "access_key", "--access-key"),
    ],
)
def test_the_credential_kind_follows_the_security_scheme(api, kind, option, bundles):
    assert (credential_kind(bundles[api]), credential_option(bundles[api])) == (kind, option)


def test_body_fields_are_the_inlined_top_level_properties_with_their_codes():
    fields = body_fields(DOC, {"$ref": "#/components/schemas/Body"})
    assert [(f.name, f.code, f.required) for f in fields] == [("voice", "voice_invalid", True), ("note", None, False)]
    assert fields[0].schema == {"type": "boolean", "default": True, "x-error-code": "voice_invalid"}
    assert body_fields(DOC, None) == []


def test_inline_replaces_every_ref_and_refuses_recursion():
    assert inline(DOC, {"items": {"$ref": "#/components/schemas/Q"}}) == {"items": DOC["components"]["schemas"]["Q"]}
    loop = {"components": {"schemas": {"A": {"properties": {"a": {"$ref": "#/components/schemas/A"}}}}}}
    with pytest.raises(ValueError, match="recursive"):
        inline(loop, {"$ref": "#/components/schemas/A"})


def test_body_limits_cascade_from_the_api_to_the_body_to_a_media_type():
    limits = body_limits(DOC, request_body(DOC, _op("post")))
    assert (limits.default, limits.own, limits.by_type) == (300, True, {"multipart/form-data": 1000})
    assert limits.of("application/json") == 300 and limits.of("multipart/form-data") == 1000
    assert limits.largest == 1000
    assert request_body(DOC, _op("get")) == {}
    assert body_limits(DOC, {}).default == api_body_limit(DOC) == 100
    assert api_body_limit({}) == DEFAULT_BODY_BYTES


@pytest.mark.parametrize(
    "template, path, values",
    [
        ("/sim/{uuid}", "/sim/238991234567890", ["238991234567890"]),
        ("/media/{id}", "/media/5", ["5"]),
        ("/a.b/{x}/c/{y}", "/a.b/1/c/2", ["1", "2"]),
        ("/sim/{uuid}", "/sim/1/2", None),  # one segment per parameter
        ("/sim/{uuid}", "/sim/", None),
        ("/a.b/{x}", "/axb/1", None),  # literal parts are literal
    ],
)
def test_path_patterns_match_one_segment_per_parameter(template, path, values):
    pattern, names = path_pattern(template)
    match = pattern.match(path)
    assert (list(match.groups()) if match else None) == values
    assert len(names) == template.count("{")


def test_error_examples_are_found_by_the_code_they_are_named_after():
    response = DOC["paths"]["/sim/{uuid}"]["post"]["responses"]["400"]
    examples = error_examples(DOC, response)
    assert list(examples) == ["uuid_invalid", "body_invalid"]
    assert examples["body_invalid"]["value"] == {"message": "body_invalid"}  # a $ref is followed
    assert error_examples(DOC, {"description": "no body"}) == {}


@pytest.mark.parametrize("api", APIS)
def test_every_documented_code_has_its_error_example(api, bundles):
    doc = bundles[api]
    for op in iter_operations(doc):
        for status, codes in response_codes(doc, op).items():
            examples = error_examples(doc, op.node["responses"][status])
            assert all(code in examples for code in codes), f"{op.label} {status}"
