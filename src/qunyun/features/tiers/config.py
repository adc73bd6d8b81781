"""``[features.tiers.chains.NAME]``: tier chains (一群 → 二群 → 留级群) and their review rules."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TierSpec(_Strict):
    #: 'platform:group_id'
    group: str
    #: display name (一群, 二群, 留级群 ...); default: the group id
    name: str | None = None
    #: override the chain's move_up / move_down for this tier
    move_up: int | None = Field(default=None, ge=0, le=100)
    move_down: int | None = Field(default=None, ge=0, le=1000)

    @field_validator("group")
    @classmethod
    def _platform_group(cls, value: str) -> str:
        platform, _, gid = value.partition(":")
        if not platform or not gid:
            raise ValueError(f"a tier group is written platform:group_id, got {value!r}")
        return f"{platform.lower()}:{gid}"

    @property
    def platform(self) -> str:
        return self.group.partition(":")[0]

    @property
    def group_id(self) -> str:
        return self.group.partition(":")[2]


class ChainSpec(_Strict):
    """A chain from the top tier to the holding tier; every tier but the first promotes its most
    active members one tier up, every tier but the first and the last demotes its least active one
    tier down (the top tier too when its own ``move_down`` is set)."""

    tiers: list[TierSpec] = Field(min_length=2)
    period_days: int = Field(default=15, ge=1, le=365)
    move_up: int = Field(default=3, ge=0, le=100)
    move_down: int = Field(default=10, ge=0, le=1000)
    #: members need this many days in the group before they can move
    min_tenure_days: int = Field(default=7, ge=0)
    #: a promotion needs at least this much activity in the period
    min_activity_up: float = Field(default=1.0, ge=0)
    #: hours between the invite/notice and the removal from the old group
    grace_hours: float = Field(default=24.0, ge=0)
    #: never moved: 'platform:user_id' or a bare user id (staff are always exempt)
    exempt: list[str] = Field(default_factory=list)
    #: may sit in several tiers: promoted without being removed from the old group
    multi_tier: list[str] = Field(default_factory=list)
    notify_up: str = "🎉 {name} 本期活跃度排名靠前，已邀请你加入 {to}，{hours} 小时后将移出本群。"
    notify_down: str = (
        "{name} 本期在本群活跃较少，已邀请你加入 {to}，活跃起来就能回来！{hours} 小时后将移出本群。"
    )

    @model_validator(mode="after")
    def _one_platform(self) -> ChainSpec:
        platforms = {t.platform for t in self.tiers}
        if len(platforms) > 1:
            raise ValueError(f"all tiers of a chain must be on one platform, got {sorted(platforms)}")
        groups = [t.group for t in self.tiers]
        if len(set(groups)) != len(groups):
            raise ValueError("a group appears twice in the chain")
        return self

    def up_count(self, i: int) -> int:
        value = self.tiers[i].move_up
        return self.move_up if value is None else value

    def down_count(self, i: int) -> int:
        """The top tier demotes nobody unless its own ``move_down`` says so (seed 002: only 二群 is
        reviewed downwards); the other tiers use the chain's ``move_down``."""
        value = self.tiers[i].move_down
        if value is None:
            return 0 if i == 0 else self.move_down
        return value

    def listed(self, names: list[str], platform: str, user_id: str) -> bool:
        return user_id in names or f"{platform}:{user_id}" in names


class TiersConfig(_Strict):
    chains: dict[str, ChainSpec] = Field(default_factory=dict)
