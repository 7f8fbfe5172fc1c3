"""Home Assistant's own test harness (pytest-homeassistant-custom-component)."""
pytest_plugins = "pytest_homeassistant_custom_component"
