"""Who is calling: fixture accounts and the spec's security schemes.

The schemes (HTTP Basic, a raw key in a header, a prefixed key in a header or the query) and how each
carries credentials come from the spec model (`specs.security`); the accounts' credentials from
`spec/<api>/fixtures.yaml`, read by `specs.fixtures`. When several schemes are allowed, the first one
whose carrier is present decides (cpaas: the header over the query parameter, R23).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from apicontract.specs.fixtures import Credentials, credentials
from apicontract.specs.security import Scheme

CACHE_SIZE = 1024  # distinct credentials remembered
CACHED_CREDENTIAL_BYTES = 256  # longer credentials are decoded each time, never remembered


@dataclass(frozen=True)
class Account:
    api: str
    index: int
    name: str
    data: dict  # the account's fixture entry

    @property
    def key(self) -> str:
        return self.name

    @property
    def credentials(self) -> Credentials:
        """What the account calls the API with."""
        return credentials(self.data)


def token(credentials: dict) -> str | None:
    """The key of a fixture `credentials` mapping (None: it holds HTTP Basic credentials)."""
    return Credentials.read(credentials).key


class Authenticator:
    """Maps a request's credentials to an account, or to None (401)."""

    def __init__(self, security: Sequence[Scheme], accounts: list[Account]):
        self.security = list(security)
        self._known: dict[tuple, Account | None] = {}
        self._header_carriers = [s.header_key for s in self.security if s.supported and s.location == "header"]
        self._query_carriers = {s.carrier for s in self.security if s.supported and s.location == "query"}
        self.accounts: dict[Credentials, Account] = {}
        for account in accounts:
            known = account.credentials
            if known.basic:
                self.accounts[Credentials(basic=known.basic)] = account
            if known.key:
                self.accounts[Credentials(key=known.key)] = account

    def authenticate(
        self, headers: dict[bytes, bytes], query: list[tuple[str, str]], repeated: frozenset[bytes] = frozenset()
    ) -> Account | None:
        """The account the request's credentials name, or None (401).

        A credential header sent twice (`repeated`), or a credential query parameter given twice without a
        header to decide, names no account: the server never picks one of two by their order. Decoding is
        pure, so answers are memoised, but only for short credentials: a cache keyed by whole header values
        would grow with every large value a client invents.
        """
        if repeated and any(name in repeated for name in self._header_carriers):
            return None
        values = tuple(headers.get(name) for name in self._header_carriers)
        carried = tuple(v for k, v in query if k in self._query_carriers) if query else ()
        if sum(len(v) for v in values if v is not None) + sum(len(v) for v in carried) > CACHED_CREDENTIAL_BYTES:
            return self._authenticate(headers, query)
        key = (values, carried)
        if key in self._known:
            return self._known[key]
        account = self._authenticate(headers, query)
        if len(self._known) < CACHE_SIZE:
            self._known[key] = account
        return account

    def _authenticate(self, headers: dict[bytes, bytes], query: list[tuple[str, str]]) -> Account | None:
        """The first scheme whose carrier the request holds decides: its credentials, or none (malformed)."""
        for scheme in self.security:
            if scheme.supported and scheme.present(headers, query):
                presented = scheme.decode(headers, query)
                return self.accounts.get(presented) if presented else None
        return None
