"""A plugin module with a bug: importing it fails."""

import assay_test_plugin_missing_dependency  # noqa: F401
