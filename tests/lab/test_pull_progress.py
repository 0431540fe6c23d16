"""Model pull progress: the tqdm class handed to ``snapshot_download`` turns its byte bars into byte counts."""

from __future__ import annotations

from voxhost.models import progress_bar_class


def test_byte_bars_become_monotonic_byte_counts():
    seen: list[tuple[int, int | None]] = []
    bar_class = progress_bar_class(lambda done, total: seen.append((done, total)), interval=0)
    # As the hub does it: a files bar, and two byte bars (received, written) whose totals grow as files start.
    files = bar_class(total=2, desc="Fetching 2 files")
    received = bar_class(total=0, unit="B", unit_scale=True)
    written = bar_class(total=0, unit="B", unit_scale=True)
    for size in (3000, 5000):
        received.total += size
        written.total += size
        for _ in range(size // 1000):
            received.update(1000)
            written.update(1000)
        files.update(1)
    for bar in (files, received, written):
        bar.close()
    assert seen, "nothing was reported"
    assert all(b[0] >= a[0] for a, b in zip(seen, seen[1:], strict=False)), "counts went backwards"
    assert seen[-1] == (8000, 8000)
    assert all(total is None or done <= total for done, total in seen)


def test_reports_are_spaced_out():
    seen: list[tuple[int, int | None]] = []
    bar = progress_bar_class(lambda done, total: seen.append((done, total)), interval=60)(total=100, unit="B")
    for _ in range(100):
        bar.update(1)
    bar.close()
    assert seen == [(1, 100), (100, 100)]  # the first update, then the close
