"""The Desa Imigrasi bot: FAQ answers and trafficking reports for villages in West Kalimantan."""

__version__ = "0.1.0"
