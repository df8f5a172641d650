"""Alembic environment: runs on the connection that `storage.migrate` hands over.

For autogenerating a revision by hand, pass a URL instead:
    alembic -c storage/migrations/alembic.ini -x url=sqlite:///./scratch.db revision --autogenerate -m "..."
"""

from alembic import context
from sqlalchemy import create_engine, event

from storage.sqlite_connections import add_search_function
from storage.models import Base

config = context.config
connection = config.attributes.get("connection")


def _run(conn) -> None:
    context.configure(
        connection=conn,
        target_metadata=Base.metadata,
        render_as_batch=conn.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if connection is not None:
    _run(connection)
else:
    url = context.get_x_argument(as_dictionary=True)["url"]
    engine = create_engine(url)
    if engine.dialect.name == "sqlite":  # the search index's triggers call it (storage.db)
        event.listen(engine, "connect", lambda dbapi_connection, _record: add_search_function(dbapi_connection))
    with engine.connect() as conn:
        _run(conn)
        conn.commit()
