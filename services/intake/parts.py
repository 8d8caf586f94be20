"""Part plans of uploads, and checks that the parts in storage make the whole file."""

import itertools
import math
from dataclasses import dataclass

from common.multipart import StoredPart

# S3 allows at most 10,000 parts in one multipart upload.
MAX_PARTS = 10_000


@dataclass(frozen=True)
class PartPlan:
    size_bytes: int
    part_size: int

    @property
    def part_count(self) -> int:
        return math.ceil(self.size_bytes / self.part_size)

    def expected_size(self, part_number: int) -> int:
        if part_number < self.part_count:
            return self.part_size
        return self.size_bytes - self.part_size * (self.part_count - 1)


def plan_parts(size_bytes: int, part_size: int) -> PartPlan:
    """Split ``size_bytes`` into parts, larger than ``part_size`` if 10,000 are few."""
    part_size = max(part_size, math.ceil(size_bytes / MAX_PARTS))
    return PartPlan(size_bytes=size_bytes, part_size=part_size)


@dataclass(frozen=True)
class PartsProblem:
    """The reason the stored parts do not make the declared file."""

    code: str
    message: str
    message_zh: str


def check_client_order(part_numbers: list[int]) -> PartsProblem | None:
    """Check the order of the parts a client lists on completion: strictly rising."""
    for previous, current in itertools.pairwise(part_numbers):
        if current <= previous:
            return PartsProblem(
                "parts_out_of_order",
                f"part {current} follows part {previous}; list the parts in "
                "ascending order, each once",
                "上传的分段顺序有误，请重新提交。",
            )
    return None


def check_stored_parts(plan: PartPlan, stored: list[StoredPart]) -> PartsProblem | None:
    """Check that storage contains parts 1 to N, each of its planned size."""
    numbers = {part.part_number for part in stored}
    missing = [n for n in range(1, plan.part_count + 1) if n not in numbers]
    if missing:
        shown = ", ".join(str(n) for n in missing[:10])
        return PartsProblem(
            "parts_missing",
            f"parts {shown} of {plan.part_count} are not in storage yet; upload "
            "them, then complete again",
            f"还有 {len(missing)} 段数据没有上传完成，请保持网络连接继续上传。",
        )
    extra = sorted(numbers - set(range(1, plan.part_count + 1)))
    if extra:
        return PartsProblem(
            "parts_unexpected",
            f"parts {extra} are beyond the {plan.part_count} planned parts",
            "上传的数据比文件多，请取消后重新上传。",
        )
    for part in sorted(stored, key=lambda p: p.part_number):
        expected = plan.expected_size(part.part_number)
        if part.size != expected:
            return PartsProblem(
                "part_size_mismatch",
                f"part {part.part_number} holds {part.size} bytes, expected "
                f"{expected}; upload that part again",
                "上传的数据大小与文件不符，请重新上传。",
            )
    return None
