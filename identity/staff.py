"""The staff file: users, their badge numbers, roles and password hashes."""

import json
from pathlib import Path

from pydantic import BaseModel, Field

from identity.passwords import DECOY_HASH, verify_password
from identity.roles import Role, StaffPrincipal


class StaffUser(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=64)
    badge_number: str = Field(min_length=1, max_length=32)
    roles: frozenset[Role] = Field(min_length=1)
    password_hash: str = Field(description="Made by python -m identity hash-password")

    def principal(self) -> StaffPrincipal:
        return StaffPrincipal(
            subject=self.username,
            name=self.name,
            badge_number=self.badge_number,
            roles=self.roles,
        )


class StaffFile(BaseModel):
    users: list[StaffUser]


class StaffDirectory:
    """Signs staff in against the users of a staff file."""

    def __init__(self, users: list[StaffUser]) -> None:
        self._users = {user.username: user for user in users}
        if len(self._users) != len(users):
            raise ValueError("the staff file names a username more than once")
        badges = [user.badge_number for user in users]
        if len(set(badges)) != len(badges):
            raise ValueError("the staff file gives a badge number more than once")

    @classmethod
    def from_file(cls, path: Path) -> "StaffDirectory":
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(StaffFile.model_validate(data).users)

    def badge_has_role(self, badge_number: str, role: Role) -> bool:
        """Return whether the user with this badge number has ``role``."""
        return any(
            user.badge_number == badge_number and role in user.roles
            for user in self._users.values()
        )

    def authenticate(self, username: str, password: str) -> StaffPrincipal | None:
        """Return the user's principal when the password matches, else None."""
        user = self._users.get(username)
        if user is None:
            verify_password(password, DECOY_HASH)
            return None
        if not verify_password(password, user.password_hash):
            return None
        return user.principal()
