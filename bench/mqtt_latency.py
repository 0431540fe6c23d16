"""Request → first audio chunk over MQTT (loopback mosquitto) vs the engine's own first chunk, in one run.

For every MQTT request the same run records, on one monotonic clock:
  t0      the client publishes the say request
  accept  the core accepts the job (``JobAccepted`` on the bus)
  engine  the engine's first chunk reaches the core (``accept`` plus the job's own time to first audio:
          ``bench/job_marks.py``)
  client  the client receives the first audio chunk message
Interleaved with these, the same text is submitted to the core directly (no MQTT), whose request → first chunk
is the engine's latency alone. Added by MQTT = MQTT request → first chunk minus the direct figure (medians);
it splits into inbound (t0 → accept) and outbound (engine → client).

Usage: .venv/bin/python bench/mqtt_latency.py [--requests 40] [--protocol 5|3.1.1]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from job_marks import JobMarks

from tests.conftest import free_port, make_settings, running_daemon
from tests.protocols.mqtt_helpers import Mosquitto, Probe
from voxhost.operations import SpeechRequest

TEXT = "Turn on the kitchen lights, please."


def ms(values: list[float]) -> str:
    ordered = sorted(values)
    p90 = ordered[min(len(ordered) - 1, int(round(0.9 * (len(ordered) - 1))))]
    return f"median {statistics.median(ordered) * 1000:7.1f} ms   p90 {p90 * 1000:7.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--protocol", choices=["5", "3.1.1"], default="5")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        broker = Mosquitto(Path(tmp) / "broker", free_port()).start()
        settings = make_settings(
            Path(tmp),
            mqtt={
                "enabled": True,
                "host": "127.0.0.1",
                "port": broker.port,
                "node_id": "bench",
                "protocol": args.protocol,
                "discovery": False,
                "events": False,
            },
        )
        try:
            with running_daemon(settings) as d:
                marks = JobMarks()

                async def subscribe() -> None:
                    d.core.bus.subscribe(marks.observe)

                async def direct() -> float:
                    # The job's own reader, not the bus: the bus hears of a chunk just after the reader, and the
                    # job's last chunk can end this before the bus has it.
                    t0 = time.monotonic()
                    first = None
                    async for _ in d.core.submit(SpeechRequest(text=TEXT, door="bench")).pcm():
                        first = first or time.monotonic()
                    if first is None:
                        raise RuntimeError("the engine gave no audio")
                    return first - t0

                d.call(subscribe())
                probe = Probe(broker.port, args.protocol).subscribe("voxhost/bench/response", "voxhost/bench/audio/#")
                d.call(direct())  # warm up the engine
                rows = []
                for i in range(args.requests):
                    rid = f"r{i}"
                    t0 = time.monotonic()
                    probe.publish("voxhost/bench/say", {"text": TEXT, "id": rid})
                    seen = probe.collect(lambda m, rid=rid: m.topic == f"voxhost/bench/audio/{rid}/stop")
                    chunk = next(m for m in seen if m.topic == f"voxhost/bench/audio/{rid}/chunk")
                    queued = next(m for m in seen if m.topic.endswith("/response") and b'"queued"' in m.payload)
                    job_id = queued.json()["job"]
                    engine_direct = d.call(direct())
                    accepted, first_audio = marks.accepted(job_id), marks.first_audio(job_id)
                    rows.append(
                        {
                            "mqtt": chunk.at - t0,
                            "inbound": accepted - t0,
                            "engine_in_mqtt": first_audio - accepted,
                            "outbound": chunk.at - first_audio,
                            "direct": engine_direct,
                        }
                    )
                probe.close()
        finally:
            broker.stop()

    col = lambda key: [row[key] for row in rows]  # noqa: E731
    added = statistics.median(col("mqtt")) - statistics.median(col("direct"))
    print(f"MQTT {args.protocol}, {args.requests} requests, text {TEXT!r} (Piper en_US-joe-medium), loopback mosquitto")
    print(f"  engine alone, request -> first chunk (core.submit):   {ms(col('direct'))}")
    print(f"  MQTT request -> first audio chunk at the client:      {ms(col('mqtt'))}")
    print(f"    inbound  (publish -> job accepted):                 {ms(col('inbound'))}")
    print(f"    engine   (accepted -> first chunk, same requests):  {ms(col('engine_in_mqtt'))}")
    print(f"    outbound (engine's first chunk -> client has it):   {ms(col('outbound'))}")
    print(f"  added by MQTT at the median (MQTT - engine alone):     {added * 1000:7.1f} ms")
    print(
        f"  added per request, median (inbound + outbound):       "
        f"{statistics.median([r['inbound'] + r['outbound'] for r in rows]) * 1000:7.1f} ms"
    )


if __name__ == "__main__":
    main()
