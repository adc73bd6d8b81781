"""Plain data for the things an operator manages: communities, groups, members, identities, staff.

These mirror the store's tables but carry no database machinery, so features, adapters and the
web layer can pass them around freely.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class GroupType(StrEnum):
    """社群类型 — the purpose of a group; thresholds and playbooks depend on it."""

    GENERAL = "general"
    INTEREST = "interest"  # 兴趣群
    CORE = "core"  # 核心用户/反馈群
    LEARNING = "learning"  # 学习打卡群
    CONVERSION = "conversion"  # 产品转化/体验课群
    INDUSTRY = "industry"  # 行业交流群
    WELFARE = "welfare"  # 福利群
    SERVICE = "service"  # 服务群
    TRAFFIC = "traffic"  # 引流群
    NEWCOMER = "newcomer"  # 新用户群
    CAMP = "camp"  # 训练营


class StaffRole(StrEnum):
    OWNER = "owner"
    ADMIN = "admin"
    OPERATOR = "operator"
    VIEWER = "viewer"

    @property
    def rank(self) -> int:
        return {"owner": 3, "admin": 2, "operator": 1, "viewer": 0}[self.value]


class Community(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int | None = None
    name: str


class Group(BaseModel):
    """One chat group on one platform (群)."""

    model_config = ConfigDict(from_attributes=True)
    platform: str
    group_id: str
    name: str | None = None
    type: GroupType = GroupType.GENERAL
    tier: str | None = None  # 一群 / 二群 / 留级群
    capacity: int | None = None
    parent_group_id: str | None = None  # 总群 for a 分群
    community_id: int | None = None


class Member(BaseModel):
    """A platform account's presence in one group (群成员)."""

    model_config = ConfigDict(from_attributes=True)
    platform: str
    group_id: str
    user_id: str
    user_name: str | None = None
    messages: int = 0
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    joined_at: datetime | None = None
    left_at: datetime | None = None
    is_admin: bool = False


class Identity(BaseModel):
    """One person (成员) and the platform accounts that belong to them."""

    model_config = ConfigDict(from_attributes=True)
    person_id: int | None = None
    display_name: str | None = None
    accounts: list[tuple[str, str]] = Field(default_factory=list)  # (platform, user_id)


class StaffUser(BaseModel):
    """A person who logs into the dashboard (运营人员)."""

    model_config = ConfigDict(from_attributes=True)
    id: int | None = None
    name: str
    role: StaffRole = StaffRole.VIEWER
    lang: str = "zh-CN"
