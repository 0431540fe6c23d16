"""The resident-model set: load on first use, LRU eviction at the limit, idle unload."""

from __future__ import annotations

import time

from voxhost.resident import ResidentModels


class Shelf:
    """Loads and unloads named objects, recording what happened."""

    def __init__(self) -> None:
        self.events: list[tuple[str, str]] = []

    def load(self, name: str) -> dict[str, str]:
        self.events.append(("load", name))
        return {"name": name}

    def unload(self, name: str, value: dict[str, str]) -> None:
        assert value["name"] == name
        self.events.append(("unload", name))


def test_loads_once_and_evicts_least_recently_used():
    shelf = Shelf()
    resident = ResidentModels(shelf.load, shelf.unload, max_resident=2)
    for name in ("en", "fr", "en", "de"):
        with resident.use(name) as model:
            assert model["name"] == name
    assert resident.names() == ["en", "de"]
    assert shelf.events == [("load", "en"), ("load", "fr"), ("unload", "fr"), ("load", "de")]
    assert (resident.loads, resident.evictions) == (3, 1)


def test_a_model_in_use_is_not_evicted():
    shelf = Shelf()
    resident = ResidentModels(shelf.load, shelf.unload, max_resident=1)
    with resident.use("en"), resident.use("fr"):
        assert resident.names() == ["en", "fr"]
    with resident.use("de"):
        pass
    assert resident.names() == ["de"]


def test_idle_models_are_unloaded_by_the_sweeper():
    shelf = Shelf()
    changes: list[list[str]] = []
    resident = ResidentModels(shelf.load, shelf.unload, idle_s=0.2, on_change=lambda: changes.append(resident.names()))
    resident.start_sweeper()
    try:
        resident.preload("en")
        assert resident.names() == ["en"]
        deadline = time.monotonic() + 5
        while resident.names() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert resident.names() == []
        assert changes[-1] == [] and ("unload", "en") in shelf.events
    finally:
        resident.clear()


def test_sweep_keeps_recently_used_models():
    shelf = Shelf()
    resident = ResidentModels(shelf.load, shelf.unload, idle_s=60)
    resident.preload("en")
    assert resident.sweep() == []
    assert resident.sweep(now=time.monotonic() + 61) == ["en"]
