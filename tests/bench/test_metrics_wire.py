import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from nasbench_sim.bench.metrics_wire import decode_metrics
from nasbench_sim.bench.table import METRICS
from nasbench_sim.bench.tfrecord import ModelMetrics, decode_row

from ..conftest import golden_payloads


def _by_protobuf(message: bytes):
    """(values (2, 4), params) as the protobuf library reads them, or None for a bad message."""
    try:
        metrics = ModelMetrics.FromString(message)
    except Exception:
        return None
    if len(metrics.evaluation_data) < 3:
        return None
    evaluations = metrics.evaluation_data
    return [[getattr(evaluations[k], m) for m in METRICS] for k in (1, 2)], metrics.trainable_parameters


def _assert_like_protobuf(messages):
    values, params, bad = decode_metrics(messages)
    for i, message in enumerate(messages):
        expected = _by_protobuf(message)
        assert bad[i] == (expected is None)
        if expected is not None:
            assert values[i].tolist() == expected[0] and params[i] == expected[1]
        else:
            assert np.isnan(values[i]).all()


def _metrics(params=1234, times=(0.0, 5.0, 10.0), accuracy=0.9, skip=()):
    message = ModelMetrics()
    for epoch, time in zip((0.0, 54.0, 108.0), times, strict=True):
        evaluation = message.evaluation_data.add(current_epoch=epoch)
        for metric in METRICS:
            if metric not in skip:
                setattr(evaluation, metric, time if metric == "training_time" else accuracy)
    message.trainable_parameters = params
    message.total_time = 1.0
    return message.SerializeToString()


def test_the_release_messages_decode_exactly(records):
    messages = [decode_row(payload)[4].SerializeToString() for payload in golden_payloads(records)]
    _assert_like_protobuf(messages)


def test_messages_of_one_length_with_different_layouts_are_not_read_by_one_template():
    # Catches a template read into a message whose tags differ: same length, fields in another order.
    a = _metrics(skip=("test_accuracy",))
    b = _metrics(skip=("train_accuracy",))
    assert len(a) == len(b) and a != b
    _assert_like_protobuf([a, b, a])


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        out.append(value & 0x7F | (0x80 if value > 0x7F else 0))
        value >>= 7
        if not value:
            return bytes(out)


def test_parameter_counts_of_every_varint_length_and_negative_ones():
    # Catches a varint decoded with the template's length (1 byte vs 5) or unsigned (int32 is signed),
    # and a varint wider than 32 bits not cut to int32 as protobuf cuts it.
    messages = [_metrics(params=p) for p in (0, 1, 127, 128, 16_383, 2**31 - 1, -1, -(2**31))]
    wide = [_metrics(params=0) + bytes([2 << 3]) + _varint(v) for v in (2**32 + 5, 2**40 + 2**31, 2**63 + 9)]
    _assert_like_protobuf(messages + wide)


def test_repeated_fields_unknown_fields_and_too_few_evaluations_match_protobuf():
    good = _metrics()
    twice = good + (2 << 3 | 0).to_bytes(1, "little") + b"\x07"  # trainable_parameters again: the last wins
    unknown = good + bytes([9 << 3 | 0, 1])  # an unknown varint field
    two = ModelMetrics.FromString(good)
    del two.evaluation_data[2]
    _assert_like_protobuf([good, twice, unknown, two.SerializeToString(), b"\xff\xff", b""])


@settings(max_examples=100, deadline=None)
@given(
    params=st.integers(-(2**31), 2**31 - 1),
    times=st.tuples(*[st.floats(allow_nan=False)] * 3),
    accuracy=st.floats(allow_nan=False),
    skip=st.sets(st.sampled_from(METRICS)),
    cut=st.integers(0, 400),
    flip=st.one_of(st.none(), st.integers(0, 8 * 400)),
)
def test_any_message_decodes_as_protobuf_decodes_it(params, times, accuracy, skip, cut, flip):
    good = _metrics(params=params, times=times, accuracy=accuracy, skip=skip)
    edited = bytearray(good[: max(cut, 1)] if cut < len(good) else good)
    if flip is not None and edited:
        edited[flip // 8 % len(edited)] ^= 1 << (flip % 8)
    _assert_like_protobuf([good, bytes(edited), good])


def test_an_earlier_copy_of_the_parameter_count_is_part_of_the_layout():
    # Catches an earlier trainable_parameters left out of the template: another message of the same length
    # (there, an extra evaluation) passed the byte check and was read at the template's offsets.
    good = _metrics()
    twice = bytes([2 << 3]) + bytes([0xFF] * 9 + [0x01]) + good  # a 10-byte varint, then the message
    extra = bytes([2 << 3, 0x01, 1 << 3 | 2, 7, 6 << 3 | 2, 5]) + b"abcde" + good  # an evaluation first
    assert len(twice) == len(extra)
    _assert_like_protobuf([twice, extra])
