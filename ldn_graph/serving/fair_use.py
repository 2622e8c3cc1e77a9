"""Fair use: limits per client on requests in flight and on serving time, shared by every worker.

A public endpoint is shared: one client with a loop of heavy queries must not take the time of the
others. Like the Wikidata Query Service (a per-client budget of query time, refused with 429 and
``Retry-After``) and DBpedia's Virtuoso (limits per address), each client may have at most
``concurrency`` requests in flight and spend at most ``query_time`` seconds of serving time in any
``window`` seconds; over either it is refused with 429 and the seconds to wait. Time is a token
bucket: it refills at ``query_time / window`` per second up to ``query_time``, and each request pays
its own duration when it ends, so a runaway query may overdraw the bucket and its client then waits
until the bucket is positive again. A refused request costs nothing.

A client is its address, or the last value of a header set by a trusted proxy (``client_header``).
Addresses in ``exempt`` (loopback by default: the operator, or a proxy on the same machine that has
not been configured to pass the client's address) are not limited.

The table lives in shared memory (:mod:`ldn_graph.serving.shared_memory`) with a fixed number of slots found
by hashing the client; a slot is reused once its client is idle with a full bucket. Each admitted
request also holds a lease naming its process, so that a worker killed mid-request leaves no count
behind: leases of dead processes are reclaimed when a client would otherwise be refused.
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
import os
import time
from dataclasses import dataclass

from ldn_graph.errors import LdnGraphError
from ldn_graph.serving.shared_memory import Layout

LOOPBACK = ("127.0.0.0/8", "::1")
SLOTS = 4096  # clients tracked at once; more share slots (and limits) in pairs
LEASES = 1024  # requests in flight at once across all workers
_PROBES = 32


class FairUseConfigError(LdnGraphError):
    """A fair-use setting that cannot be used (a network that does not parse)."""


@dataclass(frozen=True)
class FairUsePolicy:
    # 0: no limit; 2 is a third of the 6 requests a default server (2 workers of 3 threads) has in flight.
    concurrency: int = 2  # requests in flight per client
    query_time: float = 60.0  # seconds of serving time per client per window; 0: no limit
    window: float = 60.0
    client_header: str | None = None  # e.g. X-Forwarded-For, set by a trusted proxy
    exempt: tuple[str, ...] = LOOPBACK  # networks never limited

    @property
    def active(self) -> bool:
        return self.concurrency > 0 or self.query_time > 0

    def describe(self) -> str:
        """The limits in one English sentence, for the service description and the docs."""
        parts = []
        if self.concurrency > 0:
            parts.append(f"at most {self.concurrency} request(s) in flight per client")
        if self.query_time > 0:
            parts.append(f"{self.query_time:g} s of query time per client in any {self.window:g} s")
        if not parts:
            return "No per-client limits."
        return "Fair use: " + " and ".join(parts) + "; over a limit the answer is 429 with Retry-After."


@dataclass(frozen=True)
class Refusal:
    reason: str  # "concurrency" or "query_time"
    message: str
    retry_after: int  # whole seconds


@dataclass(frozen=True)
class Admission:
    slot: int
    lease: int


class FairUse:
    """The shared table of clients; make it before the workers fork."""

    def __init__(self, policy: FairUsePolicy, slots: int = SLOTS, leases: int = LEASES):
        self.policy = policy
        try:
            self._exempt = tuple(
                ipaddress.ip_network(net, strict=False) for net in policy.exempt if net.lower() != "none"
            )
        except ValueError as error:
            raise FairUseConfigError(f"fair-use exemption: {error}") from None
        self._slots, self._leases = slots, leases
        self._rate = policy.query_time / policy.window if policy.window > 0 else 0.0
        layout = Layout()
        layout.add("key", slots, "q")
        layout.add("in_flight", slots, "q")
        layout.add("tokens", slots, "d")
        layout.add("stamp", slots, "d")
        layout.add("lease_pid", leases, "q")
        layout.add("lease_slot", leases, "q")
        self._memory, arrays = layout.make()
        self._key, self._in_flight = arrays["key"], arrays["in_flight"]
        self._tokens, self._stamp = arrays["tokens"], arrays["stamp"]
        self._lease_pid, self._lease_slot = arrays["lease_pid"], arrays["lease_slot"]

    def client(self, peer: str | None, header_value: str | None = None) -> str | None:
        """The client a request counts against, or None for an exempt one."""
        client = peer or "unknown"
        if self.policy.client_header and header_value:
            # A proxy appends the address it saw: the last value is the only one it vouches for.
            client = header_value.rsplit(",", 1)[-1].strip() or client
        try:
            address = ipaddress.ip_address(client)
        except ValueError:
            return client
        return None if any(address in network for network in self._exempt) else client

    def admit(self, client: str) -> Admission | Refusal:
        """Take a place for one request of ``client``, or say why not and how long to wait."""
        key = _key(client)
        now = time.monotonic()
        with self._memory.locked():
            slot = self._slot(key, now)
            tokens = self._refill(slot, now)
            concurrency = self.policy.concurrency
            if concurrency > 0 and self._in_flight[slot] >= concurrency:
                self._reclaim(slot)
            if concurrency > 0 and self._in_flight[slot] >= concurrency:
                return Refusal(
                    "concurrency",
                    f"too many requests at once from this client: at most {concurrency} may be in flight; "
                    "wait for an answer before sending more",
                    1,
                )
            if self.policy.query_time > 0 and tokens <= 0:
                wait = max(1, math.ceil(-tokens / self._rate)) if self._rate > 0 else int(self.policy.window)
                return Refusal(
                    "query_time",
                    f"this client has used its query time: {self.policy.query_time:g} s in any "
                    f"{self.policy.window:g} s; retry in {wait} s",
                    wait,
                )
            lease = self._take_lease(slot)
            self._in_flight[slot] += 1
        return Admission(slot, lease)

    def release(self, admission: Admission, seconds: float) -> None:
        """End a request admitted with ``admission`` that took ``seconds``."""
        now = time.monotonic()
        with self._memory.locked():
            if admission.lease >= 0 and self._lease_pid[admission.lease] == os.getpid():
                self._lease_pid[admission.lease] = 0
            if self._in_flight[admission.slot] > 0:
                self._in_flight[admission.slot] -= 1
            self._refill(admission.slot, now)
            if self.policy.query_time > 0:
                self._tokens[admission.slot] -= seconds

    def in_flight(self, client: str) -> int:
        with self._memory.locked():
            slot = self._find(_key(client))
            return self._in_flight[slot] if slot is not None else 0

    # -- the table, with the lock held ---------------------------------------------------------------

    def _find(self, key: int) -> int | None:
        for probe in range(_PROBES):
            slot = (key + probe) % self._slots
            if self._key[slot] == key:
                return slot
        return None

    def _slot(self, key: int, now: float) -> int:
        free = None
        for probe in range(_PROBES):
            slot = (key + probe) % self._slots
            if self._key[slot] == key:
                return slot
            if free is None and (self._key[slot] == 0 or self._idle(slot, now)):
                free = slot
        if free is None:
            return key % self._slots  # the table is full of busy clients: share with one of them
        self._key[free], self._in_flight[free] = key, 0
        self._tokens[free], self._stamp[free] = self.policy.query_time, now
        return free

    def _idle(self, slot: int, now: float) -> bool:
        return self._in_flight[slot] == 0 and self._refill(slot, now) >= self.policy.query_time

    def _refill(self, slot: int, now: float) -> float:
        tokens = min(self.policy.query_time, self._tokens[slot] + (now - self._stamp[slot]) * self._rate)
        self._tokens[slot], self._stamp[slot] = tokens, now
        return tokens

    def _take_lease(self, slot: int) -> int:
        pid = os.getpid()
        start = slot % self._leases
        for step in range(self._leases):
            lease = (start + step) % self._leases
            if self._lease_pid[lease] == 0:
                self._lease_pid[lease], self._lease_slot[lease] = pid, slot
                return lease
        return -1  # every lease taken: the request counts, without protection against its worker dying

    def _reclaim(self, slot: int) -> None:
        """Drop the leases of ``slot`` held by processes that no longer exist."""
        for lease in range(self._leases):
            pid = self._lease_pid[lease]
            if pid and self._lease_slot[lease] == slot and not _alive(pid):
                self._lease_pid[lease] = 0
                self._in_flight[slot] = max(0, self._in_flight[slot] - 1)


def _key(client: str) -> int:
    key = int.from_bytes(hashlib.blake2b(client.encode(), digest_size=8).digest(), "big", signed=True)
    return key or 1  # 0 marks a free slot


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A worker that died but is not yet reaped is a zombie: still "there" for kill().
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            return stat.read().rpartition(b")")[2].split()[0] != b"Z"
    except OSError:
        return False
