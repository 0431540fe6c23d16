"""Engine fidelity rules that need no heavy environment: precision choice, F5 default voices, checkpoint pruning."""

from __future__ import annotations


def test_half_precision_only_from_compute_capability_7():
    from voxhost.plugins.f5.runtime import half_allowed

    assert half_allowed("cuda", 8) and half_allowed("cuda:1", 7)
    assert not half_allowed("cuda", 6)  # Pascal (e.g. a GTX 1080, Jetson TX2) stays float32
    assert not half_allowed("cpu", None) and not half_allowed("mps", None) and not half_allowed("cuda", None)
