from components.framework.cache import TTLCache


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def test_entry_is_returned_until_it_expires():
    clock = Clock()
    cache = TTLCache(ttl=30, clock=clock)
    cache.put("k", "v")
    clock.now += 29.9
    assert cache.get("k") == "v"
    clock.now += 0.2
    assert cache.get("k") is None
    assert len(cache) == 0


def test_shorter_ttl_on_put_wins_but_never_longer_than_the_cache_ttl():
    clock = Clock()
    cache = TTLCache(ttl=30, clock=clock)
    cache.put("short", 1, ttl=5)
    cache.put("long", 2, ttl=3600)
    clock.now += 6
    assert cache.get("short") is None
    assert cache.get("long") == 2
    clock.now += 25
    assert cache.get("long") is None


def test_non_positive_ttl_is_not_cached():
    cache = TTLCache(ttl=30)
    cache.put("expired", 1, ttl=-1)
    assert cache.get("expired") is None


def test_least_recently_used_entry_goes_first_when_full():
    cache = TTLCache(ttl=30, maxsize=2)
    cache.put("a", 1)
    cache.put("b", 2)
    cache.get("a")
    cache.put("c", 3)
    assert cache.get("b") is None
    assert cache.get("a") == 1
    assert cache.get("c") == 3
