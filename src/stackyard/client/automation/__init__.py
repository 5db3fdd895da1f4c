"""The automation SDK: a StackStorm-compatible client for Stackyard's automation API.

    from stackyard.client.automation import Client, models
    client = Client(base_url="http://127.0.0.1:8080")
    rules = client.rules.get_all()
    executions = client.executions.get_all()
    key_value_pair = client.keys.update(models.KeyValuePair(name="k1", value="v1"))

The seed example of st2client runs with `from stackyard.client.automation import Client` and
`from stackyard.client.automation import models` in place of st2client's imports.
"""

from . import errors, models
from .client import AsyncClient, Client

__all__ = ["AsyncClient", "Client", "errors", "models"]
