"""The job store on its own: records from the bus's events, and the text as spoken and the word error rate from events
it does not know by type."""

from __future__ import annotations

import asyncio
import dataclasses

from voxhost.events import EventBus, JobAccepted, JobEvent, JobFinished, JobStarted
from voxhost.jobstore import JobStore
from voxhost.operations import OutputQuery
from voxhost.settings import Settings


@dataclasses.dataclass(frozen=True)
class JobSentence(JobEvent):
    """A sentence as spoken, with its checked word error rate (the shape other parts of the core may publish)."""

    sentence: int
    text: str
    wer: float | None = None

    @property
    def kind(self) -> str:
        return "job_sentence"


def test_records_follow_the_bus_and_note_spoken_text(tmp_path):
    async def run() -> None:
        store = JobStore(tmp_path / "outputs", Settings(state_dir=str(tmp_path)))
        bus = EventBus()
        bus.subscribe(store.observe)
        await store.start()
        bus.publish(JobAccepted(job_id="1-aaaaaa", voice="piper:x", engine="piper", door="test", chars=20))
        bus.publish(JobStarted(job_id="1-aaaaaa", wait=0.01))
        bus.publish(JobSentence(job_id="1-aaaaaa", sentence=0, text="Doctor Smith lives at number twelve.", wer=0.1))
        bus.publish(JobSentence(job_id="1-aaaaaa", sentence=1, text="Goodbye.", wer=0.0))
        bus.publish(JobFinished(job_id="1-aaaaaa", ttfa=0.2, rtf=0.3, audio_seconds=2.5, elapsed=1.0, sentences=2))
        record = store.record("1-aaaaaa")
        assert record.state == "finished" and record.wait == 0.01 and record.ttfa == 0.2
        assert record.spoken == "Doctor Smith lives at number twelve. Goodbye." and record.wer == 0.1
        assert record.door == "test" and not record.audio and store.outputs(OutputQuery()).total == 0
        await store.close()

    asyncio.run(run())
