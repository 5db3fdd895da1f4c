"""Demo content steps, run once by `stackyard serve --demo` inside the demo stack.

Each step takes (tx, access) and answers a dict merged into the demo details shown to the user.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from stackyard.access.caller import StackAccess
from stackyard.content.demo_assets import demo_assets, demo_publish_assets
from stackyard.content.demo_entries import demo_entries
from stackyard.content.demo_model import demo_content_model
from stackyard.content.publishing.demo import demo_publish
from stackyard.stacks import tokens
from stackyard.store.engine import Tx

Step = Callable[[Tx, StackAccess], dict[str, Any]]

STEPS: list[Step] = [tokens.demo_delivery_token]
STEPS += [demo_content_model]
STEPS += [demo_entries]
STEPS += [demo_assets]
STEPS += [demo_publish, demo_publish_assets]
