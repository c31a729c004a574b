"""Two fixes for nbgrader's per-notebook overhead, same results.

Stock autograde spends ~0.3 s of CPU per notebook on bookkeeping, as much
as running a short notebook, and the grader runs it in the one process that
also feeds every kernel:

* `CheckCellMetadata` validates each cell with `jsonschema.validate`, which
  re-checks the schema itself on every call (0.15 s per notebook, twice).
  Here the schema is checked once and its validator reused.
* every `Gradebook(...)` (each preprocessor opens its own) creates a new
  SQLAlchemy engine, so every query is compiled again. Here one engine per
  database URL is reused, keeping its compiled-statement cache.
"""

import types

_applied = False


def _cached_schema_validation():
    import jsonschema
    from nbgrader.nbgraderformat import common

    validators = {}

    def validate(instance, schema):
        key = id(schema)
        if key not in validators:
            cls = jsonschema.validators.validator_for(schema)
            cls.check_schema(schema)
            validators[key] = schema, cls(schema)  # holding `schema` keeps its id unique
        error = jsonschema.exceptions.best_match(validators[key][1].iter_errors(instance))
        if error is not None:
            raise error

    common.jsonschema = types.SimpleNamespace(validate=validate)


def _shared_engines():
    from nbgrader import api

    engines = {}
    create_engine = api.create_engine

    def shared(url, **kwargs):
        key = (str(url), tuple(sorted(kwargs.items())))
        if key not in engines:
            engines[key] = create_engine(url, **kwargs)
        return engines[key]

    api.create_engine = shared


def speed_up_nbgrader():
    global _applied
    if not _applied:
        _cached_schema_validation()
        _shared_engines()
        _applied = True
