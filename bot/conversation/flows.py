"""The registry of the conversation's flows, so one flow can hand the turn to another."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.conversation.emergency import EmergencyFlow
    from bot.conversation.filing import FilingFlow
    from bot.conversation.forget import ForgetFlow
    from bot.conversation.intake import IntakeFlow
    from bot.conversation.menu import MenuFlow
    from bot.conversation.offer_check import OfferCheckFlow
    from bot.conversation.officer import OfficerFlow
    from bot.conversation.status import StatusFlow
    from bot.conversation.village import VillageFlow


@dataclass
class Flows:
    menu: MenuFlow
    village: VillageFlow
    intake: IntakeFlow
    filing: FilingFlow
    offer_check: OfferCheckFlow
    status: StatusFlow
    forget: ForgetFlow
    emergency: EmergencyFlow
    officer: OfficerFlow
