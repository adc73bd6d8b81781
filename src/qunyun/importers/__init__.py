"""Importers turn chat exports into normalized Events; they know nothing of the store."""

from qunyun.importers.base import Importer, Rejected, open_input
from qunyun.importers.native import NativeImporter

__all__ = ["Importer", "NativeImporter", "Rejected", "open_input"]
