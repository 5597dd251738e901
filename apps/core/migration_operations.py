"""Migration operations safe to run on a live district's database.

Adding an index to a table of a million needs with a plain CREATE INDEX blocks every write
to it until the index is built. On PostgreSQL ``AddIndexOnline`` builds it with CREATE INDEX
CONCURRENTLY (the migration must declare ``atomic = False``); on SQLite it is a plain
AddIndex.
"""

from django.db import NotSupportedError
from django.db.migrations.operations import AddIndex


class AddIndexOnline(AddIndex):
    def _concurrently(self, schema_editor) -> bool:
        if schema_editor.connection.vendor != "postgresql":
            return False
        if schema_editor.connection.in_atomic_block:
            raise NotSupportedError(
                "AddIndexOnline builds indexes concurrently: set atomic = False on the migration."
            )
        return True

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        model = to_state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            if self._concurrently(schema_editor):
                schema_editor.add_index(model, self.index, concurrently=True)
            else:
                schema_editor.add_index(model, self.index)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        model = from_state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            if self._concurrently(schema_editor):
                schema_editor.remove_index(model, self.index, concurrently=True)
            else:
                schema_editor.remove_index(model, self.index)

    def describe(self):
        return f"Create index {self.index.name} (online) on {self.model_name}"
