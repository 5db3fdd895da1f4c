"""Runs a pack's python-script action: `python python_wrapper.py ACTION.py < params.json`.

Executed as a separate program by the python-script runner (never imported by the server). It
offers the `st2common.runners.base_action.Action` base class that st2 actions subclass, runs the
action class's `run(**params)` and prints the result after a marker line.
"""

import importlib.util
import json
import sys
import types


class Action:
    def __init__(self, config: dict | None = None) -> None:
        self.config = config or {}
        self.logger = __import__("logging").getLogger("action")


def main() -> int:
    for name in ("st2common", "st2common.runners", "st2common.runners.base_action"):
        sys.modules.setdefault(name, types.ModuleType(name))
    sys.modules["st2common.runners.base_action"].Action = Action  # type: ignore[attr-defined]
    params = json.loads(sys.stdin.read() or "{}")
    spec = importlib.util.spec_from_file_location("action", sys.argv[1])
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    classes = [
        v for v in vars(module).values() if isinstance(v, type) and issubclass(v, Action) and v is not Action
    ]
    if not classes:
        print("no Action subclass in " + sys.argv[1], file=sys.stderr)
        return 1
    result = classes[0]().run(**params)  # type: ignore[attr-defined]
    ok = True
    if isinstance(result, tuple) and len(result) == 2 and isinstance(result[0], bool):
        ok, result = result
    sys.stdout.flush()
    print("\n__stackyard_result__ " + json.dumps(result, default=str))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
