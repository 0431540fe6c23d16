"""The job store on its own: records from the bus's events, and the text as spoken and the word error rate from events
it does not know by type."""

from __future__ import annotations

import asyncio
import dataclasses

from voxhost.events import EventBus, JobAccepted, JobEvent, JobFinished, JobStarted
from voxhost.jobstore import JobStore
from voxhost.operations import JobQuery, OutputQuery
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


def test_a_long_job_that_just_ended_stays_listed_while_older_endings_go(tmp_path):
    """``[jobs] recent = 3``: the jobs that ended last stay listed, however early they came (a client polling a long
    job finds it when it ends), and a job still running always does."""

    async def run() -> list[str]:
        store = JobStore(tmp_path / "outputs", Settings(state_dir=str(tmp_path), jobs={"recent": 3}))
        bus = EventBus()
        bus.subscribe(store.observe)
        await store.start()
        ids = [f"{n}-aaaaaa" for n in range(8)]
        for job_id in ids:
            bus.publish(JobAccepted(job_id=job_id, voice="piper:x", engine="piper", door="test", chars=5))
        for job_id in [*ids[1:7], ids[0]]:  # the first job ends last; the last one still runs
            bus.publish(JobFinished(job_id=job_id, ttfa=0.1, rtf=0.1, audio_seconds=1, elapsed=0.1, sentences=1))
        bus.publish(JobAccepted(job_id="9-aaaaaa", voice="piper:x", engine="piper", door="test", chars=5))
        listed = [record.id for record in store.records(JobQuery(limit=100)).items]
        await store.close()
        return listed

    assert asyncio.run(run()) == ["9-aaaaaa", "7-aaaaaa", "6-aaaaaa", "5-aaaaaa", "0-aaaaaa"]
