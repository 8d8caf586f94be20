"""Planning an upload's parts and judging the parts found in storage."""

from common.multipart import StoredPart
from services.intake.parts import (
    check_client_order,
    check_stored_parts,
    plan_parts,
)

MIB = 1024 * 1024


def _stored(*sizes: int) -> list[StoredPart]:
    return [StoredPart(i + 1, size, f"e{i}") for i, size in enumerate(sizes)]


def test_plan_ends_with_short_last_part() -> None:
    plan = plan_parts(21 * MIB, 8 * MIB)

    assert plan.part_count == 3
    assert plan.expected_size(1) == 8 * MIB
    assert plan.expected_size(3) == 5 * MIB


def test_plan_grows_parts_to_stay_under_limit() -> None:
    plan = plan_parts(100_000 * MIB, 5 * MIB)

    assert plan.part_count <= 10_000


def test_whole_upload_passes() -> None:
    plan = plan_parts(21 * MIB, 8 * MIB)

    assert check_stored_parts(plan, _stored(8 * MIB, 8 * MIB, 5 * MIB)) is None


def test_missing_part_is_named() -> None:
    plan = plan_parts(21 * MIB, 8 * MIB)
    stored = [p for p in _stored(8 * MIB, 8 * MIB, 5 * MIB) if p.part_number != 2]

    problem = check_stored_parts(plan, stored)

    assert problem is not None
    assert problem.code == "parts_missing"
    assert "parts 2 of 3" in problem.message
    assert "还有 1 段数据没有上传完成" in problem.message_zh


def test_wrong_part_size_is_rejected() -> None:
    plan = plan_parts(21 * MIB, 8 * MIB)

    problem = check_stored_parts(plan, _stored(8 * MIB, 7 * MIB, 5 * MIB))

    assert problem is not None
    assert problem.code == "part_size_mismatch"
    assert "part 2 holds" in problem.message


def test_part_beyond_plan_is_rejected() -> None:
    plan = plan_parts(16 * MIB, 8 * MIB)

    problem = check_stored_parts(plan, _stored(8 * MIB, 8 * MIB, 1))

    assert problem is not None
    assert problem.code == "parts_unexpected"


def test_parts_listed_out_of_order_are_rejected() -> None:
    problem = check_client_order([1, 3, 2])

    assert problem is not None
    assert problem.code == "parts_out_of_order"
    assert "part 2 follows part 3" in problem.message


def test_part_listed_twice_is_rejected() -> None:
    assert check_client_order([1, 2, 2]) is not None


def test_ascending_parts_pass() -> None:
    assert check_client_order([1, 2, 3]) is None
