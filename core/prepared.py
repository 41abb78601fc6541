"""Querysets of a fixed shape compiled to SQL once per process, for the hottest paths.

Django compiles a queryset's SQL on every evaluation: on a booking or a check-in that
costs several times the round trip itself. A ``PreparedQuery`` compiles its queryset
once per database alias, with a placeholder for each value that changes between calls,
and afterwards only sends the stored SQL with the call's values and builds the model
instances the way ``QuerySet.__iter__`` does (``select_related`` and ``only`` included).
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Model, QuerySet
from django.db.models.query import get_related_populators
from django.db.transaction import TransactionManagementError

ModelT = TypeVar("ModelT", bound=Model)

# Stand-ins for the call's values while compiling, found again among the compiled
# parameters: values no real query passes.
_PLACEHOLDER_BASE = -7_310_000_000_000


@dataclass(frozen=True)
class _Compiled:
    sql: str
    params: tuple[Any, ...]
    slots: tuple[int, ...]  # for each value of a call, its index in ``params``
    converters: list[tuple[int, tuple[list[Any], Any]]]
    compiler: Any
    init_list: list[str]
    model_columns: slice
    related_populators: list[Any]
    for_update: bool


class PreparedQuery(Generic[ModelT]):
    """``build(*values)`` returns the queryset; each value must reach the SQL as one parameter.

    The queryset must not depend on anything but ``values`` (no clock, no request): it is
    built once, with placeholders. Values are sent as given, ready for the database.
    """

    def __init__(self, build: Callable[..., QuerySet[ModelT]], arity: int = 1) -> None:
        self._build = build
        self._arity = arity
        self._compiled: dict[str, _Compiled] = {}
        self._model: type[ModelT] | None = None

    def model(self) -> type[ModelT]:
        if self._model is None:
            self._model = self._build(*self._placeholders()).model
        return self._model

    def _placeholders(self) -> list[int]:
        return [_PLACEHOLDER_BASE - index for index in range(self._arity)]

    def _compile(self, using: str) -> _Compiled:
        placeholders = self._placeholders()
        queryset = self._build(*placeholders)
        compiler = queryset.query.get_compiler(using=using)
        sql, params = compiler.as_sql()  # FOR UPDATE outside a transaction raises here, as Django does
        slots = []
        for placeholder in placeholders:
            found = [index for index, param in enumerate(params) if param == placeholder]
            if len(found) != 1:
                raise ValueError("Each value of a prepared query must reach its SQL exactly once.")
            slots.append(found[0])
        klass_info, select = compiler.klass_info, compiler.select
        select_fields = klass_info["select_fields"]
        columns = slice(select_fields[0], select_fields[-1] + 1)
        return _Compiled(
            sql=sql,
            params=tuple(params),
            slots=tuple(slots),
            converters=list(compiler.get_converters([column[0] for column in select]).items()),
            compiler=compiler,
            init_list=[column[0].target.attname for column in select[columns]],
            model_columns=columns,
            # django-stubs describe a later Django's signature (with fetch_mode).
            related_populators=get_related_populators(klass_info, select, using),  # type: ignore[call-arg]
            for_update=bool(queryset.query.select_for_update),
        )

    def rows(self, *values: Any, using: str = DEFAULT_DB_ALIAS) -> list[ModelT]:
        """The rows for ``values``, as the queryset ``build(*values)`` would return them."""
        compiled = self._compiled.get(using)
        if compiled is None:
            compiled = self._compiled[using] = self._compile(using)
        connection = connections[using]
        if compiled.for_update and connection.get_autocommit():
            raise TransactionManagementError("select_for_update cannot be used outside of a transaction.")
        params = list(compiled.params)
        for slot, value in zip(compiled.slots, values, strict=True):
            params[slot] = value
        with connection.cursor() as cursor:
            cursor.execute(compiled.sql, params)
            fetched = cursor.fetchall()
        found: list[ModelT] = []
        for raw in fetched:
            row = list(raw)
            for position, (functions, expression) in compiled.converters:
                for function in functions:
                    row[position] = function(row[position], expression, connection)
            found.append(self._instance(compiled, using, row))
        return found

    @staticmethod
    def _instance(compiled: _Compiled, using: str, row: list[Any]) -> Any:
        instance = compiled.compiler.query.model.from_db(
            using, compiled.init_list, row[compiled.model_columns]
        )
        for populator in compiled.related_populators:
            populator.populate(row, instance)
        return instance
