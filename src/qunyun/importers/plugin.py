"""The chat-export importers, registered as a plugin like any third-party importer would be."""

from __future__ import annotations

from qunyun.engine.plugins import Registry
from qunyun.importers.irc import IrcImporter
from qunyun.importers.onebot import OneBotImporter
from qunyun.importers.qq_txt import QQTxtImporter
from qunyun.importers.telegram import TelegramExportImporter
from qunyun.importers.wechat_csv import WeChatCsvImporter


class ImportersPlugin:
    """Adds ``--format telegram | wechat-csv | qq-txt | irc | onebot`` (and their sniffers for ``auto``).

    Order matters for ``auto``: the strict, structured formats are sniffed before the loose
    line-oriented ones.
    """

    name = "importers"

    def setup(self, registry: Registry) -> None:
        for importer in (
            OneBotImporter(),
            TelegramExportImporter(),
            WeChatCsvImporter(),
            QQTxtImporter(),
            IrcImporter(),
        ):
            registry.add_importer(importer)
