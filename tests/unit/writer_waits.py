"""Waiting for the store writer through its public interface."""

from __future__ import annotations

from sdwan.store.batch_writer import JobSink


def committed(writer: JobSink, timeout: float = 5.0) -> bool:
    """True once everything queued on ``writer`` before this call has committed: the
    writer runs jobs in order, so a job that does nothing commits after them."""
    return writer.write(lambda _conn: False, timeout)
