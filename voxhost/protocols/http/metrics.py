"""Prometheus metrics for every door and engine, fed by the core's events; served at ``/metrics``.

Job events carry their door, so jobs from Wyoming and MQTT are counted here too. Queue depth, jobs in progress and
engine state are read from the core when Prometheus scrapes.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from ...api import CoreAPI, OutputsStatus
from ...events import (
    EngineLoaded,
    Event,
    JobAccepted,
    JobAudio,
    JobCancelled,
    JobChecked,
    JobFailed,
    JobFinished,
    JobStarted,
    Transcribed,
)

LATENCY_BUCKETS = (0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0, 30.0)
RTF_BUCKETS = (0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.0, 5.0)
WER_BUCKETS = (0.0, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0)


class _CoreCollector(Collector):
    """Values read from the core at scrape time."""

    def __init__(self, core: CoreAPI) -> None:
        self.core = core

    def collect(self) -> Iterator[Metric]:
        depth = GaugeMetricFamily("voxhost_queue_depth", "Jobs waiting or running per engine", labels=["engine"])
        loaded = GaugeMetricFamily("voxhost_engine_loaded", "Whether the engine is loaded", labels=["engine"])
        for state in self.core.engine_states():
            depth.add_metric([state.id], state.queue)
            loaded.add_metric([state.id], 1.0 if state.loaded else 0.0)
        running = GaugeMetricFamily(
            "voxhost_jobs_in_progress", "Jobs not yet finished, by door and engine", labels=["door", "engine"]
        )
        counts: dict[tuple[str, str], int] = {}
        for job in self.core.jobs():
            key = (job.request.door, job.voice.engine)
            counts[key] = counts.get(key, 0) + 1
        for (door, engine), count in counts.items():
            running.add_metric([door, engine], count)
        voices = GaugeMetricFamily("voxhost_voices", "Voices in the catalog")
        voices.add_metric([], len(self.core.voices()))
        yield from (depth, loaded, running, voices)
        yield from _outputs(self.core.outputs_status())
        yield from _uploads(self.core.door_status())


def _uploads(doors: dict[str, dict[str, Any]]) -> Iterator[Metric]:
    """Each door's requests carrying a payload (uploads, MQTT audio) in progress, refused, and their bounds, as the
    doors show their budget (``AudioBudget.status``)."""
    labels = ["door"]
    requests = GaugeMetricFamily("voxhost_uploads_in_progress", "Uploads being served, by door", labels=labels)
    held = GaugeMetricFamily(
        "voxhost_upload_bytes_in_progress", "Payload bytes the uploads being served hold, by door", labels=labels
    )
    refused = CounterMetricFamily(
        "voxhost_uploads_refused", "Uploads refused busy for want of room in the budget, by door", labels=labels
    )
    limit = GaugeMetricFamily(
        "voxhost_upload_limit", "The upload budget's bounds (requests, bytes), by door", labels=["door", "limit"]
    )
    for door, status in doors.items():
        if not isinstance(budget := status.get("uploads"), dict):
            continue  # a door without a budget
        requests.add_metric([door], budget["requests"])
        held.add_metric([door], budget["bytes"])
        refused.add_metric([door], budget["refused"])
        limit.add_metric([door, "requests"], budget["max_requests"])
        limit.add_metric([door, "bytes"], budget["max_bytes"])
    yield from (requests, held, refused, limit)


def _outputs(status: OutputsStatus) -> Iterator[GaugeMetricFamily]:
    """The stored outputs against their limits: sizes, counts, and which limit they are near."""
    size = GaugeMetricFamily("voxhost_outputs_bytes", "Bytes of stored outputs")
    size.add_metric([], status.bytes)
    count = GaugeMetricFamily("voxhost_outputs", "Stored outputs")
    count.add_metric([], status.count)
    limit = GaugeMetricFamily("voxhost_outputs_limit", "The stored outputs' limits", labels=["limit"])
    limit.add_metric(["size"], status.max_bytes)
    limit.add_metric(["count"], status.max_count)
    near = GaugeMetricFamily(
        "voxhost_outputs_near_limit", "1 when the stored outputs are near a limit (oldest go first)", labels=["limit"]
    )
    for name in ("size", "count"):
        near.add_metric([name], 1.0 if name in status.near else 0.0)
    yield from (size, count, limit, near)


class Metrics:
    """The door's registry (its own, so several daemons in one process never collide)."""

    def __init__(self, core: CoreAPI) -> None:
        self.registry = CollectorRegistry()
        labels = ["door", "engine"]
        reg = self.registry
        self.accepted = Counter("voxhost_jobs_accepted", "Jobs accepted", labels, registry=reg)
        self.ended = Counter("voxhost_jobs", "Jobs ended, by outcome", [*labels, "outcome"], registry=reg)
        self.wait = Histogram(
            "voxhost_queue_wait_seconds",
            "Time a job waited for its engine",
            labels,
            buckets=LATENCY_BUCKETS,
            registry=reg,
        )
        self.ttfa = Histogram(
            "voxhost_time_to_first_audio_seconds",
            "Time from accepted to first audio",
            labels,
            buckets=LATENCY_BUCKETS,
            registry=reg,
        )
        self.rtf = Histogram(
            "voxhost_real_time_factor", "Compute seconds per second of audio", labels, buckets=RTF_BUCKETS, registry=reg
        )
        self.audio = Counter("voxhost_audio_seconds", "Seconds of audio made", labels, registry=reg)
        self.loads = Histogram(
            "voxhost_engine_load_seconds",
            "Time to load an engine",
            ["engine"],
            buckets=(0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300),
            registry=reg,
        )
        self.checked = Counter(
            "voxhost_checked_sentences",
            "Sentences checked with speech recognition, by outcome (passed: within the bound)",
            [*labels, "outcome"],
            registry=reg,
        )
        self.check_wer = Histogram(
            "voxhost_checked_wer", "Word error rate of the attempt kept", labels, buckets=WER_BUCKETS, registry=reg
        )
        self.retries = Counter("voxhost_check_retries", "Sentences made again after a check", labels, registry=reg)
        self.transcriptions = Counter(
            "voxhost_transcriptions", "Transcriptions, by door and outcome", [*labels, "outcome"], registry=reg
        )
        self.transcription_time = Histogram(
            "voxhost_transcription_seconds",
            "Time from a transcription request to its transcript",
            labels,
            buckets=LATENCY_BUCKETS,
            registry=reg,
        )
        self.heard = Counter("voxhost_transcribed_audio_seconds", "Seconds of audio transcribed", labels, registry=reg)
        self.requests = Counter(
            "voxhost_http_requests", "HTTP requests by route and status", ["method", "route", "status"], registry=reg
        )
        reg.register(_CoreCollector(core))
        self._jobs: dict[str, tuple[str, str, float]] = {}
        self._unsubscribe: Callable[[], None] | None = core.bus.subscribe(self.observe)

    def close(self) -> None:
        """Stop listening to the core."""
        if self._unsubscribe:
            self._unsubscribe()
            self._unsubscribe = None

    def observe(self, event: Event) -> None:
        """Update counters from one core event (on the loop; cheap)."""
        if isinstance(event, JobAccepted):
            self._jobs[event.job_id] = (event.door, event.engine, time.monotonic())
            self.accepted.labels(event.door, event.engine).inc()
            return
        if isinstance(event, EngineLoaded):
            self.loads.labels(event.engine).observe(event.seconds)
            return
        if isinstance(event, Transcribed):
            labels = (event.door, event.engine)
            self.transcriptions.labels(*labels, "ok" if event.error is None else event.error).inc()
            if event.error is None:
                self.transcription_time.labels(*labels).observe(event.elapsed)
                self.heard.labels(*labels).inc(event.audio_seconds)
            return
        job = self._jobs.get(getattr(event, "job_id", ""))
        if job is None:
            return
        door, engine, accepted = job
        if isinstance(event, JobStarted):
            self.wait.labels(door, engine).observe(event.wait)
        elif isinstance(event, JobChecked):
            self.checked.labels(door, engine, "passed" if event.passed else "failed").inc()
            self.check_wer.labels(door, engine).observe(event.wer)
            if event.retries:
                self.retries.labels(door, engine).inc(event.retries)
        elif isinstance(event, JobAudio):
            if accepted >= 0:  # first audio of this job
                self.ttfa.labels(door, engine).observe(time.monotonic() - accepted)
                self._jobs[event.job_id] = (door, engine, -1.0)
            self.audio.labels(door, engine).inc(len(event.audio) / 2 / event.rate)
        elif isinstance(event, (JobFinished, JobFailed, JobCancelled)):
            del self._jobs[event.job_id]
            outcome = {JobFinished: "finished", JobFailed: "failed", JobCancelled: "cancelled"}[type(event)]
            self.ended.labels(door, engine, outcome).inc()
            if isinstance(event, JobFinished) and event.rtf is not None:
                self.rtf.labels(door, engine).observe(event.rtf)

    def request_done(self, method: str, route: str, status: int) -> None:
        """Count one HTTP request."""
        self.requests.labels(method, route, str(status)).inc()

    def render(self) -> bytes:
        """The text exposition format."""
        return generate_latest(self.registry)


CONTENT_TYPE = str(CONTENT_TYPE_LATEST)
"""Prometheus' text format content type."""
