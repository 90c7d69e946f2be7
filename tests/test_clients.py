"""The generated clients (`apicontract.clients.<api>`) call every operation of every API against the
reference server on a real socket: bodies and answers as the generated models, each API's own
authentication, sim-v3's GET/DELETE bodies, errors raised with their status and code, cpaas downloads as
bytes and folder listings as the listing model."""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterator

import pytest

from apicontract.client_runtime import ApiError, BaseClient
from apicontract.paths import module_name
from apicontract.specs.clients import snake
from apicontract.specs.walk import iter_operations

from projectkit import APIS, ROOT
from serverkit import bundle, fixtures, start

FORM = "application/x-www-form-urlencoded"


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator:
    running = start(APIS, tmp_path_factory.mktemp("clients"))
    yield running
    running.stop()


@pytest.fixture
def called(monkeypatch) -> list[str]:
    """The operationId of every request any generated client sends during the test."""
    seen: list[str] = []
    send = BaseClient._send

    def recording(self, op, *args, **kwargs):
        seen.append(op.operation_id)
        return send(self, op, *args, **kwargs)

    monkeypatch.setattr(BaseClient, "_send", recording)
    return seen


def client_module(api: str):
    return importlib.import_module(f"apicontract.clients.{module_name(api)}")


def models(api: str):
    return importlib.import_module(f"apicontract.models.{module_name(api)}")


def every_operation(api: str) -> set[str]:
    return {op.node["operationId"] for op in iter_operations(bundle(api)) if not op.is_webhook}


def example(api: str, operation_id: str, content_type: str = "application/json") -> dict:
    """The first named request example of an operation, as the spec has it."""
    doc = bundle(api)
    for op in iter_operations(doc):
        if op.node.get("operationId") == operation_id and not op.is_webhook:
            media = op.node["requestBody"]["content"][content_type]
            return dict(next(iter(media["examples"].values()))["value"])
    raise KeyError(operation_id)


def account(api: str, index: int = 0) -> dict:
    return fixtures(api)["accounts"][index]


def sims(api: str, provisioned: bool) -> list[dict]:
    return [sim for sim in account(api)["sims"] if bool(sim.get("provisioned")) == provisioned]


def raises(call, status: int, code: str) -> ApiError:
    with pytest.raises(ApiError) as caught:
        call()
    error = caught.value
    assert (error.status, error.code) == (status, code), error
    assert error.documented, f"{code} is not documented for {error.operation.operation_id} {status}"
    return error


def test_sim_v1_every_operation(server, called):
    api = "sim-v1"
    c, m = client_module(api), models(api)
    basic = account(api)["credentials"]["basic"]
    fresh, ready = sims(api, False)[0]["uuid"], sims(api, True)[0]["uuid"]
    with c.Client(auth=(basic["key"], basic["secret"]), base_url=server.url(api)) as client:
        assert client.get_root() == m.OkMessage(message="OK")
        assert isinstance(client.retrieve_sim(ready), m.Sim)
        raises(lambda: client.retrieve_sim(fresh), 404, "sim_not_found")
        assert client.create_sim(fresh, m.SimSettingsForm(voice="true", sms="false")).message == "OK"
        assert (client.retrieve_sim(fresh).sms, client.retrieve_sim(fresh).data) == (False, True)
        assert client.update_sim(fresh, m.SimSettings(sms=True, data=False)).message == "OK"
        assert (client.retrieve_sim(fresh).sms, client.retrieve_sim(fresh).data) == (True, False)
        # `from` is a Python keyword: the model's field is `from_`, the client sends it by its alias
        sms = m.SendSms.model_validate({"from": "Mitto", "text": "Hello, World!"})
        assert sms.from_ == "Mitto"
        assert client.send_sms(fresh, sms).message == "OK"
        assert client.send_sms(fresh, m.SendSmsForm.model_validate(example(api, "sendSms", FORM))).message == "OK"
        raises(lambda: client.update_sim(fresh, {"voice": "yes"}), 400, "voice_invalid")
        assert client.delete_sim(fresh).message == "OK"
        raises(lambda: client.delete_sim("12345"), 400, "uuid_invalid")
    with c.Client(auth=(basic["key"], "wrong"), base_url=server.url(api)) as stranger:
        error = raises(stranger.get_root, 401, "unauthorized")
        assert isinstance(error, c.Unauthorized)
    assert set(called) == every_operation(api)


def test_sim_v2_every_operation(server, called):
    api = "sim-v2"
    c, m = client_module(api), models(api)
    key = account(api)["credentials"]["api_key"]
    fresh, ready = sims(api, False)[-1]["imsi"], sims(api, True)[0]["imsi"]
    with c.Client(key=key, base_url=server.url(api)) as client:
        assert client.get_root().message
        assert client.retrieve_sim(ready).imsi == ready
        created = m.CreateSimRequest.model_validate({**example(api, "createSim"), "imsi": fresh})
        assert client.create_sim(fresh, created).message == "OK"
        raises(lambda: client.create_sim(fresh, created), 409, "imsi_conflict")
        update = {**example(api, "updateSim", FORM), "imsi": fresh, "voice": "false"}
        assert client.update_sim(fresh, m.UpdateSimForm.model_validate(update)).message == "OK"
        assert client.retrieve_sim(fresh).voice is False
        sms = m.SendSmsRequest.model_validate({"from": "Onomondo", "text": "Hello"})
        assert client.send_sms(ready, sms).message == "OK"
        assert client.delete_sim(fresh).message == "OK"
        raises(lambda: client.retrieve_sim(fresh), 404, "sim_not_found")
        connector = {"type": "webhook", "url": "https://example.com/hook"}
        client.create_connector("client-test", connector)
        assert client.retrieve_connector("client-test").model_dump()["url"] == "https://example.com/hook"
        client.update_connector("client-test", {**connector, "url": "https://example.com/other"})
        assert client.retrieve_connector("client-test").model_dump()["url"] == "https://example.com/other"
        client.delete_connector("client-test")
        with pytest.raises(c.NotFound):
            client.retrieve_connector("client-test")
    assert set(called) == every_operation(api)


def test_sim_v3_every_operation_with_bodies_on_get_and_delete(server, called):
    api = "sim-v3"
    c, m = client_module(api), models(api)
    key = account(api)["credentials"]["api_key"]
    fresh = sims(api, False)[-1]["id"]
    with c.Client(key=key, base_url=server.url(api)) as client:
        assert client.get_root()
        raises(lambda: client.retrieve_sim({"id": fresh}), 404, "sim_not_found")
        assert client.create_sim(m.CreateSimRequest.model_validate({**example(api, "createSim"), "id": fresh}))
        sim = client.retrieve_sim(m.SimIdRequest(id=fresh))  # GET with a JSON body
        assert (sim.id, sim.active) == (fresh, True)
        client.update_sim({**example(api, "updateSim"), "id": fresh})
        assert client.retrieve_sim({"id": fresh}).active is False
        usage = client.retrieve_usage(example(api, "retrieveUsage"))
        assert isinstance(usage, m.UsageList)
        assert client.delete_sim({"id": fresh})  # DELETE with a JSON body
        raises(lambda: client.retrieve_sim({"id": fresh}), 404, "sim_not_found")
        raises(lambda: client.retrieve_sim({"id": "12"}), 400, "id_invalid")
        connector = example(api, "createConnector")
        client.create_connector(connector)
        assert client.retrieve_connector({"id": connector["id"]})
        client.update_connector(example(api, "updateConnector"))
        client.delete_connector(example(api, "deleteConnector"))
        with pytest.raises(c.NotFound):
            client.retrieve_connector({"id": connector["id"]})
    assert set(called) == every_operation(api)


def test_cpaas_every_operation_downloads_bytes_and_lists_folders(server, called):
    api = "cpaas"
    c, m = client_module(api), models(api)
    token = account(api)["credentials"]["access_key"]
    with c.Client(key=token, base_url=server.url(api)) as client:
        assert client.get_root().status == "ok"
        assert client.get_balance().balance == str(account(api)["balance"])
        assert isinstance(client.list_media(per_page=1), m.MediaListResponse)
        folder = client.create_media(m.CreateFolderRequest.model_validate(example(api, "createMedia"))).media
        sound = bytes(range(256)) * 3
        uploaded = client.upload_media(folder.id, file=c.Upload(sound, "tune.mp3", "audio/mpeg")).media
        loose = client.create_media(file=c.Upload(b'{"not": "a listing"}', "data.json", "application/json")).media
        assert client.get_media(uploaded.id) == sound  # a file: its bytes
        assert client.get_media(loose.id) == b'{"not": "a listing"}'
        listing = client.get_media(folder.id)  # a folder: the listing model
        assert isinstance(listing, m.MediaListResponse)
        assert [item.id for item in listing.media] == [uploaded.id]
        assert client.rename_media(uploaded.id, {"name": "renamed.mp3"}).media.name.root == "renamed.mp3"
        activated = client.activate_app(m.ActivateRequest.model_validate(example(api, "activateApp")))
        assert activated.status == "ok"
        assert client.delete_media(folder.id).status == "ok"
        error = raises(lambda: client.get_media(uploaded.id), 404, "invalidDataError")
        assert isinstance(error, c.NotFound) and error.body == {"status": "invalidDataError"}
        raises(lambda: client.upload_media(loose.id, file=c.Upload(b"x", "x.bin")), 400, "invalidDataError")
    with c.Client(key=token, key_in="query", base_url=server.url(api)) as by_query:
        assert by_query.get_root().status == "ok"
    with c.Client(key="not-a-token", base_url=server.url(api)) as stranger:
        raises(stranger.get_balance, 401, "invalidAccessKeyError")
    assert set(called) == every_operation(api)


@pytest.mark.parametrize("api", APIS)
def test_a_client_has_one_method_per_operation_and_the_api_error_codes(api):
    c = client_module(api)
    doc = bundle(api)
    for op in iter_operations(doc):
        if not op.is_webhook:
            assert callable(getattr(c.Client, snake(op.node["operationId"])))
    assert doc["servers"][0]["url"] == c.BASE_URL
    assert doc["info"]["x-error-code-field"] == c.ERROR_CODE_FIELD


def test_the_readme_shows_a_client_that_runs(server, capsys):
    """The README's client example, as written, but for the server's address."""
    readme = (ROOT / "README.md").read_text()
    (code,) = [block for block in re.findall(r"```python\n(.*?)```", readme, re.S) if "apicontract.clients" in block]
    assert len(code.strip().splitlines()) == 3
    base = re.search(r'base_url="([^"]+)"', code).group(1)
    api = base.rstrip("/").rsplit("/", 1)[-1]
    exec(compile(code.replace(base, server.url(api)), "README.md", "exec"), {})
    assert "imsi=" in capsys.readouterr().out
