#!/usr/bin/env python3
"""Starts Home Assistant (`python -m homeassistant` with the same arguments) without
its check of the Python version.

Home Assistant 2026.2 requires Python 3.13.2; the newest Python this machine has is
3.13.0, on which that release installs (pip --ignore-requires-python) and runs. Only
the start-up check is skipped; Home Assistant's code runs unchanged. For releases
that accept the Python here, this is the same as `python -m homeassistant`.
"""
import sys

from homeassistant import __main__ as home_assistant

home_assistant.validate_python = lambda: None
sys.argv[0] = "hass"
sys.exit(home_assistant.main())
