"""The environment a run starts from: settings and ``.env`` files, credentials, redaction and masking,
logging, plugin discovery. Imports only the ground floor (``types``, ``errors``, ``options``, ``records``)."""
