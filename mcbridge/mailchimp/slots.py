"""At most N requests in flight per API key, across every worker on every machine.

Mailchimp allows 10 simultaneous connections per key and answers the 11th with 429. Lists
that share an account may sync on different workers at once, so a per-process limit is not
enough: the slots live in Redis, as a sorted set of leases that expire (a crashed worker's
slots free themselves).
"""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from redis import Redis

# KEYS[1] = the key's lease set; ARGV = now, lease expiry, capacity, token
_ACQUIRE = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[3]) then
  redis.call('ZADD', KEYS[1], ARGV[2], ARGV[4])
  redis.call('EXPIRE', KEYS[1], 3600)
  return 1
end
return 0
"""


class ConnectionSlots:
    """A distributed counting semaphore keyed by (a hash of) the API key."""

    def __init__(self, redis: Redis, api_key: str, capacity: int, lease_seconds: float) -> None:
        digest = hashlib.sha256(api_key.encode()).hexdigest()[:24]
        self.redis = redis
        self.key = f"mcbridge:mailchimp-slots:{digest}"
        self.capacity = capacity
        self.lease_seconds = lease_seconds
        self._acquire = redis.register_script(_ACQUIRE)

    def try_acquire(self, token: str) -> bool:
        now = time.time()
        args = [now, now + self.lease_seconds, self.capacity, token]
        return bool(self._acquire(keys=[self.key], args=args))

    @contextmanager
    def slot(self, wait_step: float = 0.01) -> Iterator[None]:
        """Hold one slot for the duration of a request; waits (briefly polling) when all are
        taken, which is what spreads the load instead of provoking 429s."""
        token = uuid.uuid4().hex
        delay = wait_step
        while not self.try_acquire(token):
            time.sleep(delay)
            delay = min(delay * 2, 0.2)
        try:
            yield
        finally:
            self.redis.zrem(self.key, token)

    def in_use(self) -> int:
        self.redis.zremrangebyscore(self.key, "-inf", time.time())
        return int(self.redis.zcard(self.key))
