"""The wire: one route package per API (cma, cda, st2, stackpath). Routes parse, call a service and render; they hold no business logic and write no SQL."""
