"""Each broken upload of the corpus is rejected with its reason, read either way."""

from pathlib import Path

import pytest

from common.object_reader import RangedObjectReader
from evidence import VideoRejectedError, probe_video
from evidence.probe import probe_stream
from tests.support.broken_videos import EXPECTED_CODES, write_broken_videos


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return write_broken_videos(tmp_path_factory.mktemp("broken-videos"))


def _assert_explained(error: VideoRejectedError, kind: str) -> None:
    assert error.code in EXPECTED_CODES[kind]
    assert error.message
    assert error.message_zh


@pytest.mark.parametrize("kind", sorted(EXPECTED_CODES))
def test_broken_file_rejected_from_disk(kind: str, corpus: dict[str, Path]) -> None:
    with pytest.raises(VideoRejectedError) as error:
        probe_video(corpus[kind])

    _assert_explained(error.value, kind)


@pytest.mark.parametrize("kind", sorted(EXPECTED_CODES))
def test_broken_file_rejected_from_storage(kind: str, corpus: dict[str, Path]) -> None:
    data = corpus[kind].read_bytes()
    # Small windows, as intake reads an object back from storage in ranged GETs.
    reader = RangedObjectReader(
        lambda offset, length: data[offset : offset + length], len(data), window=4096
    )

    with pytest.raises(VideoRejectedError) as error:
        probe_stream(reader, len(data))

    _assert_explained(error.value, kind)
