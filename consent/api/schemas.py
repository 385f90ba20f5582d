"""Request and response models of the /v1 API; the OpenAPI document is generated from them."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt

from consent.recording import Request

UUID4_PATTERN = r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$"
ConsentId = Annotated[
    str,
    Field(
        pattern=UUID4_PATTERN,
        description="Random version-4 UUID in lower case; the visitor quotes it to the DPO.",
        examples=["3f1c9f0e-8a7b-4c1d-9e2f-0a1b2c3d4e5f"],
    ),
]
Key = Annotated[str, Field(min_length=1, max_length=64)]


class ConsentRequest(BaseModel):
    """A visitor's decision, as the banner posts it."""

    model_config = ConfigDict(extra="forbid")

    site: Key = Field(description="Site id from sites.yaml, e.g. mixvoip.com.")
    action: Literal["accept_all", "refuse_all", "custom", "withdraw"]
    categories: dict[Key, StrictBool] = Field(
        max_length=16,
        description="Every category of the site, explicitly granted (true) or refused (false).",
        examples=[{"technical": True, "advertising": False}],
    )
    partners: dict[Key, StrictBool] | None = Field(
        default=None,
        max_length=64,
        description="Per-partner decisions; a partner left out follows its category.",
    )
    consent_id: ConsentId | None = Field(
        default=None, description="The visitor's existing consent id; a new one when absent."
    )
    revision: StrictInt | None = Field(
        default=None, ge=1, le=1_000_000, description="Site revision the visitor was shown."
    )
    language: Literal["en", "fr", "de", "nl"] | None = None
    page_url: Annotated[str, Field(max_length=2048)] | None = Field(
        default=None, description="Page of the decision; stored without query or fragment."
    )
    gpc: StrictBool | None = Field(
        default=None, description="navigator.globalPrivacyControl (Sec-GPC: 1 also counts)."
    )
    texts_version: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")] | None = Field(
        default=None, description="SHA-256 of the banner texts shown (from the widget bundle)."
    )

    def to_request(
        self, sec_gpc: str | None, user_agent: str | None, remote_addr: str | None
    ) -> Request:
        """The decision plus what the connection says (its ``Sec-GPC`` header, user agent and
        address): what ``recording`` works on, for the route and the fast path alike."""
        return Request(
            site=self.site,
            action=self.action,
            categories=self.categories,
            partners=self.partners,
            consent_id=self.consent_id,
            revision=self.revision,
            language=self.language,
            page_url=self.page_url,
            gpc=bool(self.gpc) or sec_gpc == "1",
            texts_version=self.texts_version,
            user_agent=user_agent,
            remote_addr=remote_addr,
        )


class ConsentCreated(BaseModel):
    consent_id: ConsentId
    receipt: str = Field(description="Signed receipt (itsdangerous) of this record.")
    expires_at: str = Field(description="When the banner asks again (UTC, ISO 8601).")
    recorded_at: str
    site: str
    action: str
    categories: dict[str, bool]
    partners: dict[str, bool]
    revision: int


class HistoryEntry(BaseModel):
    seq: int
    action: str
    categories: dict[str, bool]
    partners: dict[str, bool]
    revision: int
    language: str
    policy_version: str
    texts_hash: str
    recorded_at: str
    expires_at: str
    gpc: bool
    hash: str


class ConsentHistory(BaseModel):
    consent_id: ConsentId
    site: str
    controller: str
    records: list[HistoryEntry]


class Error(BaseModel):
    error: str = Field(description="Stable machine-readable code.")
    message: str = Field(description="What is wrong, in a sentence.")
    field: str | None = Field(default=None, description="The request field at fault.")
