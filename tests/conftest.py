"""Test-wide settings: property tests are derandomized on CI (same examples every run), random locally."""

import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")
