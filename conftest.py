"""Repository-level pytest configuration.

The suite's options (``--impl``), fixtures (``impl``) and Hypothesis profiles
come from the plugin ``properties.plugin``, installed as a ``pytest11`` entry
point, so they work the same from this checkout and from
``pytest --pyargs properties`` anywhere. Here we only make sure the profiles are
registered even if plugin autoloading is disabled (PYTEST_DISABLE_PLUGIN_AUTOLOAD).
"""

from properties.profiles import register_profiles

register_profiles()
