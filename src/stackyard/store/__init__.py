"""Storage: database engines, transactions, migrations, the event log and the JSON query compiler."""

from stackyard.store.engine import Database, Tx, jload

__all__ = ["Database", "Tx", "jload"]
