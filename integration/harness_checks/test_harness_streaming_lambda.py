"""The streaming stand-in's writes: an answer split at seeded random byte boundaries is the
same bytes, and botocore's event-stream parser (an implementation nobody here wrote) reads
the same messages from the pieces as from the whole."""

from botocore.eventstream import EventStreamBuffer

from harness.event_stream import response_stream
from harness.streaming_lambda import split_at_random


def parsed(pieces: list[bytes]) -> list:
    buffer = EventStreamBuffer()
    messages = []
    for piece in pieces:
        buffer.add_data(piece)
        messages.extend(buffer)
    return messages


def test_split_answers_reassemble_and_parse_as_whole():
    answer = response_stream([b"hello, ", b"", b"world" * 100])
    writes = split_at_random(answer, seed=7, parts=37)
    assert len(writes) == 37
    assert all(w.data for w in writes), "no empty write"
    assert b"".join(w.data for w in writes) == answer
    whole = parsed([answer])
    pieces = parsed([w.data for w in writes])
    assert [(m.headers, m.payload) for m in pieces] == [(m.headers, m.payload) for m in whole]
    assert [m.headers[":event-type"] for m in whole] == ["PayloadChunk"] * 3 + ["InvokeComplete"]
    assert split_at_random(answer, seed=7, parts=37) == writes, "seeded: the same cuts"
