"""R18's Connector rules, one copy for the sim-v2 and sim-v3 machines.

The two APIs differ only in where a Connector's `id` travels (sim-v2 in the path, sim-v3 in the JSON body),
so a machine says that in `connector_call` and `connector_sent`, and inherits the rest: the `connectors`
concern, and the state that restoring and re-syncing need.
"""

from __future__ import annotations

import json
import random
from typing import Any, ClassVar

from hypothesis import strategies as st

from apicontract.contracts.behaviour import BehaviourMachine, Exchange, rule, same

UPDATED = "updated"  # a Connector changed by PUT: its content is the implementation's choice (R18)
DELETED = "deleted"  # a Connector deleted: GET must not answer 200 (R18)


def connector_fields(data: Any) -> dict[str, Any]:
    """A free-form Connector body (R18: its fields are the implementation's to keep); `label` is drawn from
    a wide range so that two Connectors the suite creates are told apart when read back."""
    return data.draw(
        st.fixed_dictionaries(
            {"type": st.sampled_from(["webhook", "mqtt"]), "label": st.integers(1, 2**31).map(lambda n: f"c{n}")},
            optional={
                "url": st.just("https://example.com/hooks"),
                "n": st.integers(-5, 10**6),
                "on": st.booleans(),
                "tags": st.lists(st.sampled_from(["a", "ä", "b"]), max_size=2),
                "nested": st.fixed_dictionaries({"k": st.text(alphabet="xyz", max_size=3)}),
            },
        ),
        label="connector",
    )


def fresh_connector_ids(rng: Any, count: int, status: Any) -> list[str]:
    """`count` short random ids any implementation takes, preferring ids with no Connector now (`status(id)` is
    what GET answers). R18 leaves the answer for an unknown Connector to the implementation: one that answers
    200 for every id still gets ids to create, random enough that no real Connector is touched."""
    tried = [f"c{rng.randrange(10**7, 10**8)}" for _ in range(count * 3)]
    free = [cid for cid in dict.fromkeys(tried) if status(cid) != 200][:count]
    return free + [cid for cid in tried if cid not in free][: count - len(free)]


class ConnectorMachine(BehaviourMachine):
    """A behaviour machine whose API has Connectors (R18 as amended)."""

    connector_ids: ClassVar[list[str]]
    created: ClassVar[set[str]]  # Connectors the suite created and has not seen deleted
    connectors: dict[str, Any]  # id -> the fields given, UPDATED, DELETED, or None (not created by the suite)

    @classmethod
    def connector_call(cls, op_id: str, cid: str, fields: dict[str, Any] | None = None) -> Exchange:
        raise NotImplementedError

    @classmethod
    def connector_sent(cls, cid: str, fields: dict[str, Any]) -> dict[str, Any]:
        """The body fields a create with `fields` sent (what must read back): the fields alone by default."""
        return fields

    @classmethod
    def prepare_connectors(cls, rng: random.Random) -> None:
        cls.connector_ids = fresh_connector_ids(rng, 3, lambda cid: cls.connector_call("retrieveConnector", cid).status)
        cls.created = set()

    @classmethod
    def delete_created_connectors(cls, rule: str) -> None:
        for cid in sorted(cls.created):
            ex = cls.connector_call("deleteConnector", cid)
            if cls.connector_call("retrieveConnector", cid).status == 200:
                cls.fail(ex, "deleteConnector", f"{rule}: after DELETE, GET is not 200 (R18)", "the Connector gone")
            cls.created.discard(cid)

    def start_connectors(self) -> None:
        self.connectors = dict.fromkeys(self.connector_ids)

    def resync_connectors(self) -> None:
        for cid in self.connector_ids:
            if self.connectors[cid] is not None:
                found = self.connector_call("retrieveConnector", cid).status == 200
                self.connectors[cid] = UPDATED if found else DELETED
                if found:
                    self.created.add(cid)

    def json_object(self, ex: Exchange, op_id: str) -> None:
        if not isinstance(ex.json, dict):
            self.fail(ex, op_id, "a Connector answer is a JSON object (R1, R2, R18)", "a JSON object body")

    def check_connector(self, cid: str) -> None:
        """R18: a Connector the suite created reads back with every field it was given (more are allowed);
        one it deleted does not read back (not 200)."""
        want = self.connectors[cid]
        ex = self.connector_call("retrieveConnector", cid)
        self.json_object(ex, "retrieveConnector")
        if want == DELETED and ex.status == 200:
            self.fail(ex, "retrieveConnector", "after DELETE, GET is not 200 (R18)", "any answer but 200")
        if isinstance(want, dict):
            given = self.connector_sent(cid, want)
            ok = ex.status == 200 and all(k in ex.json and same(ex.json[k], v) for k, v in given.items())
            if not ok:
                shown = f"200 with at least {json.dumps(given, ensure_ascii=False)}"
                self.fail(ex, "retrieveConnector", "a created Connector reads back with every field given (R18)", shown)

    @rule("connectors", data=st.data())
    def create_connector(self, data: st.DataObject) -> None:
        """R18: POST creates a Connector under `id` (its answer is the implementation's: a refusal is only
        noted); one created reads back by GET with every field it was given."""
        absent = [c for c in self.connector_ids if self.connectors[c] in (None, DELETED)]
        if not absent:
            return
        cid = data.draw(st.sampled_from(absent), label="id")
        given = connector_fields(data)
        ex = self.connector_call("createConnector", cid, given)
        self.json_object(ex, "createConnector")
        if 200 <= ex.status < 300:
            self.created.add(cid)
            self.connectors[cid] = given
            self.check_connector(cid)
        elif self.connector_call("retrieveConnector", cid).status == 200:  # refused, yet stored: cleaned up
            self.created.add(cid)
            self.connectors[cid] = UPDATED

    @rule("connectors", data=st.data())
    def read_connector(self, data: st.DataObject) -> None:
        known = [c for c in self.connector_ids if self.connectors[c] is not None]
        if known:
            self.check_connector(data.draw(st.sampled_from(known), label="id"))

    @rule("connectors", data=st.data())
    def update_connector(self, data: st.DataObject) -> None:
        """R18: PUT is documented; what it does to the stored fields is the implementation's choice, so only
        the shape of its answers is checked afterwards."""
        existing = sorted(self.created)
        if not existing:
            return
        cid = data.draw(st.sampled_from(existing), label="id")
        ex = self.connector_call("updateConnector", cid, connector_fields(data))
        self.json_object(ex, "updateConnector")
        if 200 <= ex.status < 300:
            self.connectors[cid] = UPDATED
        self.check_connector(cid)

    @rule("connectors", data=st.data())
    def delete_connector(self, data: st.DataObject) -> None:
        """R18: after DELETE of a Connector, GET is not 200."""
        existing = sorted(self.created)
        if not existing:
            return
        cid = data.draw(st.sampled_from(existing), label="id")
        ex = self.connector_call("deleteConnector", cid)
        self.json_object(ex, "deleteConnector")
        self.connectors[cid] = DELETED
        self.check_connector(cid)
        self.created.discard(cid)
